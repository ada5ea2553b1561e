package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	memoryd "github.com/memoryd/memoryd/server"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	memoryd.EINVALID:      http.StatusBadRequest,
	memoryd.EUNAUTHORIZED: http.StatusUnauthorized,
	memoryd.EFORBIDDEN:    http.StatusForbidden,
	memoryd.ENOTFOUND:     http.StatusNotFound,
	memoryd.ENOTACCEPT:    http.StatusNotAcceptable,
	memoryd.ECONFLICT:     http.StatusConflict,
	memoryd.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	memoryd.ERATELIMITED:  http.StatusTooManyRequests,
	memoryd.EINTERNAL:     http.StatusInternalServerError,
	memoryd.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// unavailableRetryAfter is the Retry-After, in seconds, of a 503: a
// dependency (database, embedder, vector engine) that went away is
// usually back within seconds, and clients should not retry in a loop.
const unavailableRetryAfter = 5

type envelope struct {
	Error      string         `json:"error"`
	Message    string         `json:"message"`
	Details    map[string]any `json:"details,omitempty"`
	RetryAfter *int           `json:"retry_after,omitempty"`
}

// writeError writes err in the error envelope. Errors that are not
// *memoryd.Error are internal: logged with the request id, shown as a
// generic message.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *memoryd.Error
	if !errors.As(err, &e) || statusOf[e.Code] == 0 {
		level := slog.LevelError
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			level = slog.LevelDebug // the client went away; nothing failed here
		}
		log.Log(r.Context(), level, "internal error", "err", err, "method", r.Method, "path", r.URL.Path,
			"request_id", requestID(r.Context()))
		e = &memoryd.Error{Code: memoryd.EINTERNAL, Message: "Internal server error"}
	}
	body := envelope{Error: e.Code, Message: e.Message, Details: e.Details}
	if e.Code == memoryd.ERATELIMITED {
		secs, _ := e.Details["retry_after"].(int)
		body.RetryAfter = &secs
		body.Details = nil
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	if e.Code == memoryd.EUNAVAILABLE {
		w.Header().Set("Retry-After", strconv.Itoa(unavailableRetryAfter))
	}
	writeJSON(w, statusOf[e.Code], body)
}

// writeJSON writes v as is: messages quote things like <key>, which HTML
// escaping would turn into \u003ckey\u003e for no reader's benefit.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func tooLarge(limit int64) *memoryd.Error {
	return &memoryd.Error{Code: memoryd.ETOOLARGE, Message: "Request body is larger than the server accepts",
		Details: map[string]any{"max_body_bytes": limit}}
}

// readError turns a failure to read or validate the request into the
// client error it describes; a body that did not arrive in time names the
// limit that ran out.
func (s *Server) readError(r *http.Request, err error) *memoryd.Error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		limit := s.cfg.ReadTimeout
		if hs, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && hs.ReadTimeout > 0 {
			limit = hs.ReadTimeout // the deadline that ran out
		}
		s.log.WarnContext(r.Context(), "request body not received within the read timeout",
			"read_timeout", limit, "path", r.URL.Path, "request_id", requestID(r.Context()))
		return &memoryd.Error{Code: memoryd.EINVALID,
			Message: "Request body was not received within the server's read timeout (" + limit.String() + ")",
			Details: map[string]any{"read_timeout_seconds": limit.Seconds()}}
	}
	return validationError(err)
}

// validationError turns a kin-openapi request validation error into the
// client error it describes.
func validationError(err error) *memoryd.Error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return &memoryd.Error{Code: memoryd.EINVALID, Message: "Invalid request"}
	}
	if re.Parameter != nil {
		return &memoryd.Error{Code: memoryd.EINVALID,
			Message: "Invalid parameter " + re.Parameter.Name + ": " + firstLine(reasonOf(re)),
			Details: map[string]any{"parameter": re.Parameter.Name, "in": re.Parameter.In}}
	}
	return bodyError(re)
}

func reasonOf(re *openapi3filter.RequestError) string {
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		return se.Reason
	}
	if re.Err != nil {
		return re.Err.Error()
	}
	return re.Reason
}

// bodyError lists missing fields (details.missing_fields, as the API seed
// shows) and other field problems (details.fields: pointer -> reason).
func bodyError(re *openapi3filter.RequestError) *memoryd.Error {
	var missing []string
	fields := map[string]any{}
	for _, se := range schemaErrors(re.Err) {
		ptr := strings.Join(se.JSONPointer(), ".")
		if se.SchemaField == "required" {
			missing = append(missing, ptr)
			continue
		}
		if ptr == "" {
			ptr = "body"
		}
		fields[ptr] = se.Reason
	}
	switch {
	case len(missing) == 1 && len(fields) == 0:
		return &memoryd.Error{Code: memoryd.EINVALID, Message: capitalise(missing[0]) + " field is required",
			Details: map[string]any{"missing_fields": missing}}
	case len(missing) > 0:
		return &memoryd.Error{Code: memoryd.EINVALID, Message: "Required fields are missing or invalid",
			Details: map[string]any{"missing_fields": missing, "fields": fields}}
	case len(fields) > 0:
		return &memoryd.Error{Code: memoryd.EINVALID, Message: "Request body is invalid: " + firstField(fields),
			Details: map[string]any{"fields": fields}}
	}
	msg := "Request body is invalid"
	if strings.Contains(re.Error(), "value is required but missing") {
		msg = "Request body is required"
	} else if strings.Contains(re.Error(), "Content-Type") {
		msg = "Content-Type must be application/json"
	} else if strings.Contains(strings.ToLower(re.Error()), "json") || strings.Contains(re.Error(), "parsing") {
		msg = "Request body is not valid JSON"
	}
	return &memoryd.Error{Code: memoryd.EINVALID, Message: msg}
}

func schemaErrors(err error) []*openapi3.SchemaError {
	var out []*openapi3.SchemaError
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			out = append(out, schemaErrors(e)...)
		}
		return out
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		out = append(out, se)
	}
	return out
}

func firstField(fields map[string]any) string {
	best := ""
	for k := range fields {
		if best == "" || k < best {
			best = k
		}
	}
	return best + ": " + firstLine(fields[best].(string))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
