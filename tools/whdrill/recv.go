package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// delivery is one verified, 2xx-answered POST.
type delivery struct {
	Route     int
	WebhookID string
	Type      string
	MemoryID  string
	CreatedAt time.Time // the memory's created_at from the payload
	Arrival   time.Time
}

// receiver is a loopback HTTP server; each route /ep/N is one endpoint
// with its own secret, verified by the Standard Webhooks library.
type receiver struct {
	srv *http.Server
	url string

	mu        sync.Mutex
	verifiers map[int]*standardwebhooks.Webhook
	failUntil map[int]time.Time // answer 500 before this time
	got       []delivery
	refused   int // 500s answered while failing
	bad       int // signature or body failures
}

func newReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String(), verifiers: map[int]*standardwebhooks.Webhook{},
		failUntil: map[int]time.Time{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) routeURL(n int) string { return fmt.Sprintf("%s/ep/%d", r.url, n) }

func (r *receiver) setSecret(n int, secret string) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.verifiers[n] = wh
	r.mu.Unlock()
	return nil
}

func (r *receiver) failFor(n int, until time.Time) {
	r.mu.Lock()
	r.failUntil[n] = until
	r.mu.Unlock()
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	n, err := strconv.Atoi(strings.TrimPrefix(req.URL.Path, "/ep/"))
	body, rerr := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	wh, until := r.verifiers[n], r.failUntil[n]
	r.mu.Unlock()
	if err != nil || rerr != nil || wh == nil {
		r.count(&r.bad)
		http.Error(w, "unknown route", http.StatusNotFound)
		return
	}
	if now.Before(until) {
		r.count(&r.refused)
		http.Error(w, "failing on purpose", http.StatusInternalServerError)
		return
	}
	d, err := parse(wh, body, req.Header)
	if err != nil {
		r.count(&r.bad)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d.Route, d.Arrival = n, now
	r.mu.Lock()
	r.got = append(r.got, d)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) count(c *int) {
	r.mu.Lock()
	*c++
	r.mu.Unlock()
}

// parse verifies the signature and reads the fields the drill counts.
func parse(wh *standardwebhooks.Webhook, body []byte, h http.Header) (delivery, error) {
	if err := wh.Verify(body, h); err != nil {
		return delivery{}, err
	}
	var m struct {
		Type string `json:"type"`
		Data struct {
			ID        string    `json:"id"`
			CreatedAt time.Time `json:"created_at"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return delivery{}, err
	}
	return delivery{WebhookID: h.Get("webhook-id"), Type: m.Type, MemoryID: m.Data.ID, CreatedAt: m.Data.CreatedAt}, nil
}

// deliveries returns a copy of what route n received (all routes if n < 0).
func (r *receiver) deliveries(n int) []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []delivery
	for _, d := range r.got {
		if n < 0 || d.Route == n {
			out = append(out, d)
		}
	}
	return out
}

func (r *receiver) counters() (refused, bad int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused, r.bad
}

func (r *receiver) close() { _ = r.srv.Close() }
