// Package e2e holds end-to-end tests of memoryd's live stream, run as part
// of `go test ./...`. They drive the real thing from the outside: the
// memoryd binary built from server/cmd/memoryd (several processes on one
// PostgreSQL, processes killed with SIGKILL and restarted on their
// database) and a real headless Chromium whose EventSource follows the
// stream through dropped connections (tools/browser).
//
// The package has no code of its own; everything is in its tests.
package e2e
