package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Delivery is one POST the suite's receiver got.
type Delivery struct {
	Path     string
	Header   http.Header
	Body     []byte
	At       time.Time
	Answered int // the status the receiver answered
}

// ID is the delivery's webhook-id header.
func (d Delivery) ID() string { return d.Header.Get("webhook-id") }

// receiver is the suite's own webhook endpoint: one HTTP server, one inbox
// per registered path, so each check reads only its own deliveries.
type receiver struct {
	srv  *http.Server
	base string // URL the server under test is given (no trailing slash)

	mu      sync.Mutex
	inboxes map[string]*inbox
	strays  int // deliveries to a path no check owns (any more)
}

// inbox collects the deliveries of one path. The first fail deliveries
// are answered 500 (to provoke retries); the rest 204.
type inbox struct {
	ch   chan Delivery
	fail int
	// failCode is the status of a failed delivery (500 unless set).
	failCode int
	// hold, when set, keeps the next delivery's response back until it
	// is closed, so a check can act while that attempt is in flight.
	hold chan struct{}
}

// startReceiver listens on listen (host:port; port 0 picks a free one).
// The URL given to the server under test is callbackURL when set, else
// http:// + the address listened on (an unspecified host becomes
// 127.0.0.1, which suits a server on the same machine).
func startReceiver(listen, callbackURL string) (*receiver, error) {
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: listen on %s (--callback-listen): %w", listen, err)
	}
	r := &receiver{inboxes: map[string]*inbox{}}
	r.base = strings.TrimRight(callbackURL, "/")
	if r.base == "" {
		addr := ln.Addr().(*net.TCPAddr)
		host := addr.IP.String()
		if addr.IP.IsUnspecified() {
			host = "127.0.0.1"
		}
		r.base = "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
	}
	if _, err := url.Parse(r.base); err != nil {
		ln.Close()
		return nil, fmt.Errorf("webhook receiver: --callback-url: %w", err)
	}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// ServeHTTP files a delivery into its path's inbox.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 4<<20))
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	in := r.inboxes[req.URL.Path]
	if in == nil {
		r.strays++
		r.mu.Unlock()
		http.NotFound(w, req)
		return
	}
	status := http.StatusNoContent
	if in.fail > 0 {
		in.fail--
		status = http.StatusInternalServerError
		if in.failCode != 0 {
			status = in.failCode
		}
	}
	hold := in.hold
	in.hold = nil
	r.mu.Unlock()
	d := Delivery{Path: req.URL.Path, Header: req.Header.Clone(), Body: body, At: time.Now(), Answered: status}
	if req.Method != http.MethodPost {
		d.Header.Set("X-Conformance-Method", req.Method)
	}
	select {
	case in.ch <- d:
	default: // a check that stopped reading; the delivery still succeeds
	}
	if hold != nil {
		select {
		case <-hold:
		case <-req.Context().Done():
		}
	}
	w.WriteHeader(status)
}

// open registers a fresh inbox at path and returns its URL.
func (r *receiver) open(path string) (*inbox, string) {
	in := &inbox{ch: make(chan Delivery, 256)}
	r.mu.Lock()
	r.inboxes[path] = in
	r.mu.Unlock()
	return in, r.base + path
}

// failNext makes the inbox answer the next n deliveries with 500.
func (r *receiver) failNext(in *inbox, n int) { r.answerNext(in, n, http.StatusInternalServerError) }

// answerNext makes the inbox answer the next n deliveries with code.
func (r *receiver) answerNext(in *inbox, n, code int) {
	r.mu.Lock()
	in.fail, in.failCode = n, code
	r.mu.Unlock()
}

// holdNext keeps the inbox's next response back until release is called.
func (r *receiver) holdNext(in *inbox) (release func()) {
	ch := make(chan struct{})
	r.mu.Lock()
	in.hold = ch
	r.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

func (r *receiver) close(path string) {
	r.mu.Lock()
	delete(r.inboxes, path)
	r.mu.Unlock()
}

func (r *receiver) shutdown(ctx context.Context) {
	if err := r.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = r.srv.Close()
	}
}

// receiver returns the run's receiver, started on first use and shut
// down at the end of the run.
func (t *T) receiver() *receiver {
	s := t.suite
	v, err := s.fixture("webhook-receiver", func() (any, error) {
		r, err := startReceiver(s.cfg.CallbackListen, s.cfg.CallbackURL)
		if err != nil {
			return nil, err
		}
		s.suiteCleanup(r.shutdown)
		return r, nil
	})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return v.(*receiver)
}
