package cutproxy_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/memoryd/memoryd/conformance/sse"
	"github.com/memoryd/memoryd/internal/cutproxy"
	"github.com/memoryd/memoryd/internal/testenv"
)

// idsUntilEnd reads a stream to its end and returns the id of every event
// carrying one, and the error that ended it.
func idsUntilEnd(t *testing.T, body io.Reader) ([]string, []string, error) {
	t.Helper()
	r := sse.NewReader(body)
	var ids, types []string
	for {
		e, err := r.NextEvent()
		if err != nil {
			return ids, types, err
		}
		if e.IDSet {
			ids = append(ids, e.ID)
			types = append(types, e.Type)
		}
	}
}

func openStream(t *testing.T, base, key, last string) *http.Response {
	t.Helper()
	q := url.Values{}
	if last != "" {
		q.Set("last_event_id", last)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/stream?"+q.Encode(), nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+key)
	// The time limit turns a stream that is never cut into a failure.
	hc := &http.Client{Timeout: testenv.WaitLimit}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// The proxy cuts a replay burst right after every 4th event with an id:
// the events behind it in the same burst are not relayed, and the next
// connection, resumed from the last id, is cut after its own 4th.
func TestCutsEveryNthEventMidBurst(t *testing.T) {
	cfg := testenv.Quiet()
	cfg.EventsPerMinute = 1 << 20
	e := testenv.New(t, testenv.WithStream(cfg))
	c := e.Client(e.KeyA)
	_, welcome := e.OpenStream(e.KeyA, "", nil)
	for i := range 30 {
		c.Create(t, fmt.Sprintf("m%d", i), "text")
	}
	u, _ := url.Parse(e.URL)
	proxy := httptest.NewServer(cutproxy.New(u, 4))
	defer proxy.Close()

	// Each connection relays 4 events with ids (welcome first, then a
	// snapshot or memory events) and ends, while more are waiting.
	last := welcome.Position
	seen := map[string]bool{}
	for conn := 0; len(seen) < 20; conn++ {
		if conn > 40 {
			t.Fatalf("no progress after %d connections: %d events", conn, len(seen))
		}
		ids, types, err := idsUntilEnd(t, openStream(t, proxy.URL, e.KeyA, last).Body)
		if err == nil || len(ids) != 4 || types[0] != "welcome" {
			t.Fatalf("connection %d relayed %v (%v), want 4 events from welcome, then the cut", conn, types, err)
		}
		for i, typ := range types {
			if typ == "memory.created" {
				if seen[ids[i]] {
					t.Fatalf("event %s relayed twice", ids[i])
				}
				seen[ids[i]] = true
			}
		}
		last = ids[len(ids)-1]
	}
}

// Everything that is not an event stream passes through unchanged.
func TestOtherResponsesPassThrough(t *testing.T) {
	e := testenv.New(t)
	c := e.Client(e.KeyA)
	c.Create(t, "m1", "some text")
	u, _ := url.Parse(e.URL)
	proxy := httptest.NewServer(cutproxy.New(u, 1))
	defer proxy.Close()
	get := func(base string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/memory/m1", nil)
		req.Header.Set("Authorization", "Bearer "+e.KeyA)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	s1, direct := get(e.URL)
	s2, proxied := get(proxy.URL)
	if s1 != 200 || s2 != 200 || !bytes.Equal(direct, proxied) {
		t.Fatalf("direct %d %s, proxied %d %s", s1, direct, s2, proxied)
	}
}
