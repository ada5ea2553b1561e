package memoryd

import (
	"errors"
	"fmt"
)

// Error codes, as the API's error envelope carries them. httpapi maps each to
// its HTTP status in one table.
const (
	EINVALID      = "INVALID_REQUEST"
	EUNAUTHORIZED = "UNAUTHORIZED"
	EFORBIDDEN    = "FORBIDDEN"
	ENOTFOUND     = "NOT_FOUND"
	ENOTACCEPT    = "NOT_ACCEPTABLE"
	ECONFLICT     = "CONFLICT"
	ETOOLARGE     = "PAYLOAD_TOO_LARGE"
	ERATELIMITED  = "RATE_LIMITED"
	EINTERNAL     = "INTERNAL"
	EUNAVAILABLE  = "UNAVAILABLE"
)

// Error is an error a client may see: its Message is safe to show. Any other
// error is internal and is logged, never shown.
type Error struct {
	Code    string
	Message string
	Details map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an *Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Sentinels for errors.Is; stores return them wrapped or as is.
var (
	ErrNotFound = &Error{Code: ENOTFOUND, Message: "Memory not found"}
	ErrConflict = &Error{Code: ECONFLICT, Message: "Conflict"}
)

// Is makes errors.Is(err, ErrNotFound) true for any *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// ErrorCode returns the code of err, EINTERNAL for non-*Error errors.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}
