// Package sdkenv runs what the client libraries' tests talk to: a real
// memoryd (its HTTP stack over a SQLite database in a temporary directory,
// the hash embedder, the live stream) on a loopback port, API keys for one
// workspace, and a cut proxy in front of it that breaks every event stream
// after every N events with an id (package cutproxy). The Go client's
// tests start it in-process; tools/sdkserver starts it for the TypeScript
// and Python tests.
package sdkenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/memoryd/memoryd/internal/cutproxy"
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

// Workspace is the workspace of both keys.
const Workspace = "sdk"

// DefaultCutEvery is how many events with an id the cut proxy lets
// through per connection when Options.CutEvery is zero.
const DefaultCutEvery = 7

// Info is what a test needs to reach the environment. The base URLs are
// servers' roots, WITHOUT the API's base path /api/v1.
type Info struct {
	// BaseURL reaches memoryd directly.
	BaseURL string `json:"base_url"`
	// CutBaseURL reaches the same memoryd through the cut proxy.
	CutBaseURL string `json:"cut_base_url"`
	// APIKey is unlimited.
	APIKey string `json:"api_key"`
	// LimitedAPIKey is refused with 429 and a Retry-After of 1-2 s on the
	// first request after 5 s without one, and then whenever it goes
	// faster than one request per 2 s.
	LimitedAPIKey string `json:"limited_api_key"`
	Workspace     string `json:"workspace"`
}

// Options configure Start.
type Options struct {
	// CutEvery is N for the cut proxy (DefaultCutEvery when zero). Every
	// connection's welcome counts, so N must exceed one for a stream to
	// make progress through the proxy.
	CutEvery int
	Log      *slog.Logger
}

// Env is a running environment; Close stops it and removes its data.
type Env struct {
	Info
	dir       string
	cancel    context.CancelFunc
	streamD   chan struct{}
	st        *store.Store
	stream    *events.Stream
	servers   []*http.Server
	limitedID string
}

// limitedPerHour is the limited key's tier rate: one request per 2 s.
const limitedPerHour = 1800

// streamConfig keeps the stream's timers out of a test's way: no pacing
// that would slow a burst, room for the reconnections of a cut stream,
// a short reconnection advice, no activity events between the writes.
func streamConfig() events.Config {
	c := events.Default()
	c.EventsPerMinute = 1 << 20
	c.PaceBurst = 1 << 20
	c.MaxStreamsPerKey = 64
	c.Retry = 100 * time.Millisecond
	c.DisableActivity = true
	c.PruneInterval = -1
	return c
}

// Start starts an environment.
func Start(ctx context.Context, o Options) (_ *Env, err error) {
	if o.CutEvery == 0 {
		o.CutEvery = DefaultCutEvery
	}
	if o.CutEvery < 2 {
		return nil, fmt.Errorf("sdkenv: cut every %d events: the welcome alone would fill each connection", o.CutEvery)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	e := &Env{streamD: make(chan struct{})}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.dir, err = os.MkdirTemp("", "memoryd-sdk-"); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.cancel = cancel
	if e.st, err = store.Open(ctx, "sqlite://"+e.dir+"/memoryd.db"); err != nil {
		return nil, err
	}
	if e.stream, err = events.New(ctx, e.st, streamConfig(), events.WithLogger(o.Log)); err != nil {
		return nil, err
	}
	go func() { _ = e.stream.Run(runCtx); close(e.streamD) }()
	h, limiter, err := e.handler(o.Log)
	if err != nil {
		return nil, err
	}
	if err := e.keys(ctx); err != nil {
		return nil, err
	}
	h = drainWhenIdle(h, "Bearer "+e.LimitedAPIKey, limiter, e.limitedID)
	if e.BaseURL, err = e.serve(h, o.Log); err != nil {
		return nil, err
	}
	target, _ := url.Parse(e.BaseURL)
	if e.CutBaseURL, err = e.serve(cutproxy.New(target, o.CutEvery), o.Log); err != nil {
		return nil, err
	}
	e.Workspace = Workspace
	return e, nil
}

func (e *Env) handler(log *slog.Logger) (http.Handler, *ratelimit.Limiter, error) {
	svc, err := service.New(e.st, memindex.New(), hash.New(512), service.WithLogger(log))
	if err != nil {
		return nil, nil, err
	}
	limiter := ratelimit.New(ratelimit.Limits{memoryd.TierFree: limitedPerHour})
	api := httpapi.New(httpapi.Config{}, svc, e.st, auth.NewAuthenticator(e.st), limiter, log,
		httpapi.WithStream(e.stream))
	h, err := api.Handler()
	if err != nil {
		return nil, nil, err
	}
	return e.stream.Measure(h), limiter, nil
}

func (e *Env) keys(ctx context.Context) error {
	var err error
	if e.APIKey, _, err = auth.NewKey(ctx, e.st, []string{Workspace}, memoryd.TierUnlimited, "sdk-user"); err != nil {
		return err
	}
	secret, k, err := auth.NewKey(ctx, e.st, []string{Workspace}, memoryd.TierFree, "sdk-limited")
	if err != nil {
		return err
	}
	e.LimitedAPIKey, e.limitedID = secret, k.ID
	return nil
}

// serve serves h on a free loopback port and returns its root URL.
func (e *Env) serve(h http.Handler, log *slog.Logger) (string, error) {
	srv, err := httpapi.NewHTTPServer(httpapi.Config{}, h, log)
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	e.servers = append(e.servers, srv)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("sdkenv: server stopped", "err", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// closeLimit bounds the graceful part of Close.
const closeLimit = 10 * time.Second

// Close stops the servers and the stream, closes the database and removes
// its directory.
func (e *Env) Close() {
	if e.stream != nil {
		e.stream.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeLimit)
	defer cancel()
	for i := len(e.servers) - 1; i >= 0; i-- {
		if err := e.servers[i].Shutdown(ctx); err != nil {
			e.servers[i].Close()
		}
	}
	if e.cancel != nil {
		e.cancel()
		if e.stream != nil {
			<-e.streamD
		}
	}
	if e.st != nil {
		e.st.Close()
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// drainWhenIdle empties the limited key's bucket before a request made
// with it after idleDrain without one, so the first request of each burst
// meets a real 429 from memoryd's own limiter, with a Retry-After of at
// most 2 s (the tier refills one request per 2 s), and a client honouring
// it gets through on its retry.
func drainWhenIdle(next http.Handler, authz string, l *ratelimit.Limiter, keyID string) http.Handler {
	var mu sync.Mutex
	var last time.Time
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == authz {
			mu.Lock()
			if time.Since(last) > idleDrain {
				for i := 0; i <= limitedPerHour; i++ {
					if ok, _ := l.Allow(keyID, memoryd.TierFree); !ok {
						break
					}
				}
			}
			last = time.Now()
			mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// idleDrain is longer than any Retry-After the limited key gets, so a
// client's retry is never met by a fresh drain.
const idleDrain = 5 * time.Second
