//go:build !linux

package weaviate

import "syscall"

// setUserTimeout does nothing where TCP_USER_TIMEOUT does not exist: a
// dead peer is then noticed by keep-alives or the request limit.
func setUserTimeout(_, _ string, _ syscall.RawConn) error { return nil }
