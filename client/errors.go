package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error is an answer of the API other than a success: its status and the
// error envelope {"error": CODE, "message", "details"}. Compare it with
// the sentinel errors below: errors.Is(err, client.ErrNotFound).
type Error struct {
	Status  int
	Code    string
	Message string
	Details map[string]any
	// RetryAfter is the wait the server asked for (429, 503), zero if none.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("memoryd: %d %s: %s", e.Status, e.Code, e.Message)
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// The API's error codes, for errors.Is.
var (
	ErrInvalidRequest  = &Error{Code: "INVALID_REQUEST"}
	ErrUnauthorized    = &Error{Code: "UNAUTHORIZED"}
	ErrForbidden       = &Error{Code: "FORBIDDEN"}
	ErrNotFound        = &Error{Code: "NOT_FOUND"}
	ErrNotAcceptable   = &Error{Code: "NOT_ACCEPTABLE"}
	ErrConflict        = &Error{Code: "CONFLICT"}
	ErrPayloadTooLarge = &Error{Code: "PAYLOAD_TOO_LARGE"}
	ErrRateLimited     = &Error{Code: "RATE_LIMITED"}
	ErrInternal        = &Error{Code: "INTERNAL"}
	ErrUnavailable     = &Error{Code: "UNAVAILABLE"}
)

// apiError builds the Error of a failed answer from its body; a body that
// is not the envelope (e.g. from a proxy) still gives the status.
func apiError(resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode}
	var env struct {
		Error      string         `json:"error"`
		Message    string         `json:"message"`
		Details    map[string]any `json:"details"`
		RetryAfter *int           `json:"retry_after"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error != "" {
		e.Code, e.Message, e.Details = env.Error, env.Message, env.Details
	} else {
		e.Code, e.Message = codeOf(resp.StatusCode), http.StatusText(resp.StatusCode)
	}
	if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	} else if env.RetryAfter != nil {
		e.RetryAfter = time.Duration(*env.RetryAfter) * time.Second
	}
	return e
}

// codeOf names a status the way the API's envelope would.
func codeOf(status int) string {
	codes := map[int]string{400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
		406: "NOT_ACCEPTABLE", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED", 503: "UNAVAILABLE"}
	if c, ok := codes[status]; ok {
		return c
	}
	return "INTERNAL"
}
