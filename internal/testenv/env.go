// Package testenv is the test environment that the HTTP, stream and
// end-to-end tests share: memoryd's real HTTP stack (httpapi with its
// authentication, validation and the live stream mounted) over a real
// SQLite store behind a listening server, API keys, a logger writing to
// the test log, a client of the REST API, responses checked against the
// OpenAPI document, and a reader of the SSE stream.
//
// It imports the server's packages, so only external test packages
// (package x_test) of those packages may import it; an internal test file
// that did would be an import cycle.
package testenv

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/events"
	"github.com/memoryd/memoryd/server/httpapi"
	"github.com/memoryd/memoryd/server/ratelimit"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

// WaitLimit bounds every wait of the helpers. It only guards against a
// hung test: nothing asserts on timing with it, so it is generous for a
// cold, busy machine.
const WaitLimit = 30 * time.Second

// Env is one memoryd HTTP stack on a fresh SQLite database, listening on
// a loopback port, stopped when the test ends.
type Env struct {
	T      testing.TB
	Store  *store.Store
	DSN    string // of Store: another store opened on it is another node
	Stream *events.Stream
	Srv    *httptest.Server
	// URL is the server's root, without the API's base path.
	URL string
	// HTTP is Srv.Client(): it speaks HTTP/2 to a server that does.
	HTTP *http.Client
	Log  *slog.Logger
	// KeyA may use workspaces "a" and "a2", KeyB only "b"; both are
	// unlimited, of users "user-a" and "user-b".
	KeyA, KeyB string
}

type options struct {
	stream       events.Config
	limits       ratelimit.Limits
	maxBody      int64
	maxTextBytes int
	start        func(http.Handler) *httptest.Server
	level        slog.Level
}

// Option changes the environment New builds.
type Option func(*options)

// WithStream sets the stream's configuration (default Quiet()).
func WithStream(cfg events.Config) Option { return func(o *options) { o.stream = cfg } }

// WithLimits sets the rate limits per tier (default ratelimit.DefaultLimits;
// KeyA and KeyB are unlimited either way).
func WithLimits(l ratelimit.Limits) Option { return func(o *options) { o.limits = l } }

// WithMaxBodyBytes sets the request body limit (default 1 MiB).
func WithMaxBodyBytes(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithMaxTextBytes sets the longest memory text (default 1000 bytes, so
// tests of the limit stay small).
func WithMaxTextBytes(n int) Option { return func(o *options) { o.maxTextBytes = n } }

// WithServer starts the listening server with start instead of
// httptest.NewServer (e.g. one speaking HTTP/2, or with ConnState set).
func WithServer(start func(http.Handler) *httptest.Server) Option {
	return func(o *options) { o.start = start }
}

// WithLogLevel sets the lowest level logged to the test log (default
// warnings: one line per request would bury them).
func WithLogLevel(l slog.Level) Option { return func(o *options) { o.level = l } }

// Quiet returns a stream configuration whose timers stay out of a test's
// way unless it lowers them: no activity events, no pruning, snapshots and
// keepalives once an hour, heartbeats only when asked for (down to 1 s).
func Quiet() events.Config {
	c := events.Default()
	c.DisableActivity = true
	c.PruneInterval = -1
	c.SnapshotInterval = time.Hour
	c.MinHeartbeat = time.Second
	c.DefaultHeartbeat = time.Hour
	c.Keepalive = time.Hour
	return c
}

// New starts an environment; the test's cleanup stops it.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	o := options{stream: Quiet(), limits: ratelimit.DefaultLimits(), maxBody: 1 << 20, maxTextBytes: 1000,
		start: httptest.NewServer, level: slog.LevelWarn}
	for _, opt := range opts {
		opt(&o)
	}
	e := &Env{T: t, DSN: "sqlite://" + t.TempDir() + "/memoryd.db", Log: Logger(t, o.level)}
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	if e.Store, err = store.Open(ctx, e.DSN); err != nil {
		cancel()
		t.Fatal(err)
	}
	if e.Stream, err = events.New(ctx, e.Store, o.stream, events.WithLogger(e.Log)); err != nil {
		cancel()
		e.Store.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = e.Stream.Run(ctx); close(done) }()
	// The streams end first (the server's Close does not wait for the
	// hijacked ones; Run does), the store last.
	t.Cleanup(func() {
		e.Stream.Close()
		if e.Srv != nil {
			e.Srv.Close()
		}
		cancel()
		<-done
		e.Store.Close()
	})
	svc, err := service.New(e.Store, memindex.New(), hash.New(512), service.WithLogger(e.Log),
		service.WithMaxTextBytes(o.maxTextBytes))
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{MaxBodyBytes: o.maxBody}, svc, e.Store, auth.NewAuthenticator(e.Store),
		ratelimit.New(o.limits), e.Log, httpapi.WithStream(e.Stream))
	h, err := api.Handler()
	if err != nil {
		t.Fatal(err)
	}
	e.Srv = o.start(e.Stream.Measure(h))
	e.URL, e.HTTP = e.Srv.URL, e.Srv.Client()
	e.KeyA = e.NewKey(memoryd.TierUnlimited, "a", "a2")
	e.KeyB = e.NewKey(memoryd.TierUnlimited, "b")
	return e
}

// NewKey creates a key of tier for the workspaces, of user
// "user-<first workspace>", and returns its secret.
func (e *Env) NewKey(tier memoryd.Tier, workspaces ...string) string {
	e.T.Helper()
	secret, _, err := auth.NewKey(context.Background(), e.Store, workspaces, tier, "user-"+workspaces[0])
	if err != nil {
		e.T.Fatal(err)
	}
	return secret
}

// KeyID returns the id of the key whose secret this is.
func (e *Env) KeyID(secret string) string {
	e.T.Helper()
	k, err := e.Store.KeyByHash(context.Background(), auth.Hash(secret))
	if err != nil {
		e.T.Fatal(err)
	}
	return k.ID
}

// RevokeKey revokes the key in the store, as `memoryd keys revoke` does
// from another process: nothing in this one is told.
func (e *Env) RevokeKey(secret string) {
	e.T.Helper()
	if err := e.Store.RevokeKey(context.Background(), e.KeyID(secret)); err != nil {
		e.T.Fatal(err)
	}
}
