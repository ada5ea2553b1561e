// Package spec embeds the API documents so the server can serve them.
package spec

import "embed"

// Files holds openapi.yaml, asyncapi.yaml (when present) and schemas/.
//
//go:embed *.yaml schemas
var Files embed.FS
