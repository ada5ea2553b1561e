package httpapi

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
)

type reqIDKey struct{}

func requestID(ctx context.Context) string {
	s, _ := ctx.Value(reqIDKey{}).(string)
	return s
}

// withRequestID tags each request with an id (the client's X-Request-ID when
// sane), echoed in the response and in every log line about it.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 128 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = "req_" + hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reqIDKey{}, id)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and SetWriteDeadline.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hands the connection over (the stream writes its own response
// after its checks passed), recording it as a 200 for the request log.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err == nil && s.status == 0 {
		s.status = http.StatusOK
	}
	return c, rw, err
}

// withLogging logs one line per request and turns panics into 500s.
func withLogging(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(rec, r, log, fmt.Errorf("panic: %v", v))
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)),
				slog.String("request_id", requestID(r.Context())))
		}()
		next.ServeHTTP(rec, r)
	})
}

// withAuth authenticates every request except the public ones, then applies
// the key's rate limit.
func (s *Server) withAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.public(r) {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.authenticate(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if ok, wait := s.limiter.Allow(p.Key.ID, p.Key.Tier); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			writeError(w, r, s.log, &memoryd.Error{Code: memoryd.ERATELIMITED, Message: "Too many requests",
				Details: map[string]any{"retry_after": secs}})
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func (s *Server) authenticate(r *http.Request) (*auth.Principal, error) {
	if s.stream != nil && r.URL.Path == s.base+"/stream" && r.URL.Query().Has("ticket") &&
		r.Header.Get("Authorization") == "" {
		return s.stream.AuthenticateTicket(r)
	}
	return s.auth.Authenticate(r)
}

// limitBody bounds every request body before anything reads it, on every
// path and before authentication: a body declared larger than the limit is
// refused at once, and one that grows past it fails its reader (413). The
// public paths take no body, so theirs is not read at all: net/http drains
// a little of it after the response and closes the connection if more
// remains.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.cfg.MaxBodyBytes
		if s.isImport(r) {
			limit = s.cfg.MaxImportBytes
		}
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			writeError(w, r, s.log, tooLarge(limit))
			return
		}
		if s.public(r) {
			r.Body = http.NoBody
		} else if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(unwrap(w), r.Body, limit)
			if s.isImport(r) {
				r.Body = &importBody{ReadCloser: r.Body, rc: http.NewResponseController(unwrap(w)), window: s.readTimeout(r)}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// unwrap returns the writer net/http made: MaxBytesReader tells it, not a
// wrapper, to close the connection once the limit is hit, rather than read
// the rest of the body.
func unwrap(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// public reports whether r needs no key.
func (s *Server) public(r *http.Request) bool {
	switch r.URL.Path {
	case s.base + "/health", s.base + "/ready", s.base + "/openapi.yaml", s.base + "/asyncapi.yaml":
		return true
	}
	return false
}

// isJSON reports whether a Content-Type names JSON. Media types are
// case-insensitive and may carry parameters (charset).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// strictJSON rejects a request body that is not exactly one JSON value:
// the validator and the generated decoder both stop after the first value
// and would accept `{"text":"x"} trailing`. Nor may its strings be ones
// the decoder would rewrite (checkJSONText). It hands a JSON body without
// a null to fast, the validator that checks an embedding's length but not
// each of its numbers (item by item, validating cost more than the rest
// of a search with a 512-number embedding), and every other request to
// full. Nothing gets through that full refuses: the generated decoder
// refuses an item that is a string, a bool, an array, an object or out of
// float32's range; only a null it would read as 0, and that goes to full.
func (s *Server) strictJSON(full, fast http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || !isJSON(r.Header.Get("Content-Type")) {
			full.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, r, s.log, s.readError(r, err))
			return
		}
		if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
			writeError(w, r, s.log, &memoryd.Error{Code: memoryd.EINVALID, Message: "Request body is not valid JSON"})
			return
		}
		if err := checkJSONText(body); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if hasNull(body) {
			full.ServeHTTP(w, r)
			return
		}
		fast.ServeHTTP(w, r)
	})
}

// hasNull reports whether the valid JSON document body holds a null:
// outside strings, an 'n' can only begin one.
func hasNull(body []byte) bool {
	in := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && c == 'n':
			return true
		}
	}
	return false
}

// oneLevelQuery refuses a query key with brackets that is not name[key]:
// the spec's deepObject parameters (metadata, filters) hold strings one
// level deep, and the generated binder panics on keys that nest one of
// them under another (metadata[a]=v&metadata[a][b]=x).
func (s *Server) oneLevelQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for key := range r.URL.Query() {
			if !strings.ContainsAny(key, "[]") {
				continue
			}
			name, inner, opened := strings.Cut(key, "[")
			inner, closed := strings.CutSuffix(inner, "]")
			if !opened || !closed || name == "" || strings.ContainsAny(name+inner, "[]") {
				msg := fmt.Sprintf("query key %q: an object parameter's key is name[key], one level deep", key)
				writeError(w, r, s.log, &memoryd.Error{Code: memoryd.EINVALID, Message: "Invalid request: " + msg,
					Details: map[string]any{"fields": map[string]any{cmp.Or(name, key): msg}}})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
