// Package httpapi serves the REST API of spec/openapi.yaml: the generated
// strict server, kin-openapi request validation in front of it, and the
// authentication, rate limit, logging and error envelope around both.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	middleware "github.com/oapi-codegen/nethttp-middleware"

	"github.com/memoryd/memoryd/gen/api"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/ratelimit"
	"github.com/memoryd/memoryd/server/service"
)

// BasePath is where the API is mounted.
const BasePath = "/api/v1"

// The HTTP layer's default limits; memoryd serve's flags and environment
// start from these. The timeouts leave room for a slow client on a slow
// link: 4 MiB in 60 s is 70 KB/s.
const (
	DefaultMaxBodyBytes      = 4 << 20
	DefaultMaxImportBytes    = 4 << 30
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// Config holds the HTTP layer's limits. A zero field takes its default;
// a negative one is an error: no limit can be turned off.
type Config struct {
	// MaxBodyBytes bounds every request body before anything reads it
	// (413 beyond).
	MaxBodyBytes int64
	// MaxImportBytes bounds the body of POST /memory/import, which is
	// read as it arrives rather than whole (413 beyond).
	MaxImportBytes int64
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, headers and body: a
	// client that sends its body too slowly gets a 400 naming this limit
	// and its connection is closed. Handlers and streams run past it.
	ReadTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection.
	IdleTimeout time.Duration
	Version     string
}

// withDefaults fills the zero fields in and checks the others.
func (c Config) withDefaults() (Config, error) {
	if c.MaxBodyBytes < 0 || c.MaxImportBytes < 0 || c.ReadHeaderTimeout < 0 || c.ReadTimeout < 0 || c.IdleTimeout < 0 {
		return c, errors.New("httpapi: negative limit in Config (zero means the default)")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxImportBytes == 0 {
		c.MaxImportBytes = DefaultMaxImportBytes
	}
	def(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&c.ReadTimeout, DefaultReadTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	return c, nil
}

// NewHTTPServer returns the http.Server that serves h with cfg's deadlines:
// every connection has a deadline for its headers, its body and its idle
// time. Net/http clears the read deadline once the body has been read, so
// a long handler or a stream is not cut by it.
func NewHTTPServer(cfg Config, h http.Handler, log *slog.Logger) (*http.Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &http.Server{Handler: h, ReadHeaderTimeout: cfg.ReadHeaderTimeout, ReadTimeout: cfg.ReadTimeout,
		IdleTimeout: cfg.IdleTimeout, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}, nil
}

// Server implements api.StrictServerInterface.
type Server struct {
	cfg     Config
	svc     *service.Service
	db      memoryd.Pinger
	auth    *auth.Authenticator
	limiter *ratelimit.Limiter
	log     *slog.Logger
	base    string
	// stream, when set, serves GET /stream and its tickets.
	stream Stream
	// webhooks, when set, serves /webhooks (webhooks.go).
	webhooks Webhooks
	// mcp, when set, serves MCPPath (package mcp).
	mcp http.Handler
}

// Stream is the SSE endpoint with its browser tickets (package events).
type Stream interface {
	// ServeHTTP serves GET /stream for the principal in the request context.
	http.Handler
	// IssueTicket returns a short-lived ticket for p's workspace.
	IssueTicket(p *auth.Principal) (ticket string, expires time.Time, err error)
	// AuthenticateTicket resolves ?ticket= of r; UNAUTHORIZED when invalid or expired.
	AuthenticateTicket(r *http.Request) (*auth.Principal, error)
}

var _ api.StrictServerInterface = (*Server)(nil)

// Option configures a Server.
type Option func(*Server)

// WithStream mounts the SSE endpoint and its tickets.
func WithStream(st Stream) Option {
	return func(s *Server) { s.stream = st }
}

// MCPPath is where WithMCP mounts the Model Context Protocol endpoint.
const MCPPath = "/mcp"

// WithMCP mounts h, the MCP endpoint, at MCPPath behind the API's body
// limit, keys, workspaces, rate limit and request log; h finds the
// principal in the request context as the API's handlers do.
func WithMCP(h http.Handler) Option {
	return func(s *Server) { s.mcp = h }
}

// New returns a Server. Zero limits in cfg take their defaults; Handler
// reports a negative one.
func New(cfg Config, svc *service.Service, db memoryd.Pinger, a *auth.Authenticator,
	l *ratelimit.Limiter, log *slog.Logger, opts ...Option) *Server {
	if c, err := cfg.withDefaults(); err == nil {
		cfg = c
	}
	s := &Server{cfg: cfg, svc: svc, db: db, auth: a, limiter: l, log: log, base: BasePath}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Handler returns the whole API as one http.Handler.
func (s *Server) Handler() (http.Handler, error) {
	cfg, err := s.cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s.cfg = cfg
	full, err := s.validator(false)
	if err != nil {
		return nil, err
	}
	fast, err := s.validator(true)
	if err != nil {
		return nil, err
	}
	strict := api.NewStrictHandlerWithOptions(s, nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, r, s.log, &memoryd.Error{Code: memoryd.EINVALID, Message: "Invalid request: " + firstLine(err.Error())})
		},
		ResponseErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, r, s.log, err)
		},
	})
	mux := http.NewServeMux()
	routes := api.HandlerWithOptions(strict, api.StdHTTPServerOptions{
		BaseURL:    s.base,
		BaseRouter: mux,
		ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, r, s.log, &memoryd.Error{Code: memoryd.EINVALID, Message: "Invalid request: " + firstLine(err.Error())})
		},
	})
	var h http.Handler = s.importFirst(s.strictJSON(full(routes), fast(routes)), routes)
	if s.stream != nil {
		h = s.streamFirst(h)
	}
	if s.mcp != nil {
		h = s.mcpFirst(h)
	}
	return withRequestID(withLogging(s.log, s.limitBody(s.withAuth(s.oneLevelQuery(h))))), nil
}

// validator checks requests against the OpenAPI document; withoutItems
// leaves each embedding's numbers unchecked (see strictJSON). Each call
// parses the embedded document anew, so the two validators share no
// schema.
func (s *Server) validator(withoutItems bool) (func(http.Handler) http.Handler, error) {
	swagger, err := api.GetSpec()
	if err != nil {
		return nil, err
	}
	// Route on the paths alone; the server URL is relative (/api/v1).
	swagger.Servers = nil
	if withoutItems {
		emb := swagger.Components.Schemas["Embedding"]
		if emb == nil || emb.Value == nil || emb.Value.Items == nil {
			return nil, fmt.Errorf("httpapi: the OpenAPI document has no Embedding array schema")
		}
		emb.Value.Items = nil
	}
	return middleware.OapiRequestValidatorWithOptions(swagger, &middleware.Options{
		Prefix:               s.base,
		DoNotValidateServers: true,
		Options: openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, // withAuth did it
			MultiError:         true,
			// The handlers apply the document's defaults themselves
			// (deref); written back, they would make the validator
			// re-encode every body that leaves one out, embeddings
			// included.
			SkipSettingDefaults: true,
		},
		ErrorHandlerWithOpts: func(_ context.Context, err error, w http.ResponseWriter, r *http.Request, o middleware.ErrorHandlerOpts) {
			if o.MatchedRoute == nil {
				writeError(w, r, s.log, &memoryd.Error{Code: memoryd.ENOTFOUND, Message: "No such endpoint: " + r.Method + " " + r.URL.Path})
				return
			}
			writeError(w, r, s.log, s.readError(r, err))
		},
	}), nil
}

// mcpFirst hands MCPPath to the MCP handler: JSON-RPC, which the
// OpenAPI document does not describe.
func (s *Server) mcpFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == MCPPath {
			s.mcp.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// streamFirst hands GET /stream to the SSE handler: it writes its own
// statuses (406 before 400, errors as events once started), which the
// strict server's typed responses cannot express.
func (s *Server) streamFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == s.base+"/stream" && r.Method == http.MethodGet {
			// A stream outlives any read deadline. Net/http clears it
			// when it starts watching for the client to leave and when
			// the stream hijacks the connection; clearing it here keeps
			// the stream alive whichever way it is served.
			_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
			s.stream.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
