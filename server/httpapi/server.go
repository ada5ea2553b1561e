// Package httpapi serves the REST API of spec/openapi.yaml: the generated
// strict server, kin-openapi request validation in front of it, and the
// authentication, rate limit, logging and error envelope around both.
package httpapi

import (
	"context"
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

// Config holds the HTTP layer's limits.
type Config struct {
	MaxBodyBytes int64
	Version      string
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

// New returns a Server.
func New(cfg Config, svc *service.Service, db memoryd.Pinger, a *auth.Authenticator,
	l *ratelimit.Limiter, log *slog.Logger, opts ...Option) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	s := &Server{cfg: cfg, svc: svc, db: db, auth: a, limiter: l, log: log, base: BasePath}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Handler returns the whole API as one http.Handler.
func (s *Server) Handler() (http.Handler, error) {
	swagger, err := api.GetSwagger()
	if err != nil {
		return nil, err
	}
	// Route on the paths alone; the server URL is relative (/api/v1).
	swagger.Servers = nil
	validate := middleware.OapiRequestValidatorWithOptions(swagger, &middleware.Options{
		Prefix:               s.base,
		DoNotValidateServers: true,
		Options: openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, // withAuth did it
			MultiError:         true,
		},
		ErrorHandlerWithOpts: func(_ context.Context, err error, w http.ResponseWriter, r *http.Request, o middleware.ErrorHandlerOpts) {
			if o.MatchedRoute == nil {
				writeError(w, r, s.log, &memoryd.Error{Code: memoryd.ENOTFOUND, Message: "No such endpoint: " + r.Method + " " + r.URL.Path})
				return
			}
			writeError(w, r, s.log, validationError(err))
		},
	})
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
	var h http.Handler = s.strictJSON(validate(routes))
	if s.stream != nil {
		h = s.streamFirst(h)
	}
	return withRequestID(withLogging(s.log, s.withAuth(h))), nil
}

// streamFirst hands GET /stream to the SSE handler: it writes its own
// statuses (406 before 400, errors as events once started), which the
// strict server's typed responses cannot express.
func (s *Server) streamFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == s.base+"/stream" && r.Method == http.MethodGet {
			s.stream.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
