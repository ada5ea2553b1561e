package app

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// system.health's services.search follows the embedder: unhealthy once a
// call to it fails, healthy again once it answers. The embedder is an
// OpenAI-compatible server (the one external API memoryd can use, which
// cannot run here) that fails while down is set.
func TestHealthReportsTheEmbedder(t *testing.T) {
	var down atomic.Bool
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Input []string }
		if down.Load() || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusInternalServerError)
			return
		}
		type datum struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		resp := struct {
			Data []datum `json:"data"`
		}{}
		for i := range req.Input {
			resp.Data = append(resp.Data, datum{i, []float32{1, 2, 3, 4, 5, 6, 7, float32(i + 1)}})
		}
		json.NewEncoder(w).Encode(resp)
	}))
	defer upstream.Close()
	base, out, stop := startWith(t, "--db", "sqlite://"+filepath.Join(t.TempDir(), "m.db"), "--embedder", "openai",
		"--openai-base-url", upstream.URL, "--openai-dims", "8", "--stream-snapshot-interval", "100ms")
	defer stop()
	key := firstKey(t, out.String())
	health := openHealth(t, base, key)

	create := func(want int) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/memory", strings.NewReader(`{"text":"hello"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("create: %d, want %d", res.StatusCode, want)
		}
	}
	create(http.StatusCreated)
	health("healthy", "healthy")
	down.Store(true)
	create(http.StatusServiceUnavailable)
	health("unhealthy", "degraded")
	down.Store(false)
	create(http.StatusCreated)
	health("healthy", "healthy")
}

func firstKey(t *testing.T, printed string) string {
	t.Helper()
	for _, f := range strings.Fields(printed) {
		if strings.HasPrefix(f, "mk_") {
			return f
		}
	}
	t.Fatalf("no key printed on first start: %q", printed)
	return ""
}

// openHealth opens a stream of system.health; the returned function
// waits (up to 10 s) for a snapshot with the given services.search and
// status.
func openHealth(t *testing.T, base, key string) func(search, status string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/stream?events=system.health", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("open stream: %v %v", err, res)
	}
	t.Cleanup(func() { res.Body.Close() })
	type snapshot struct {
		Status   string
		Services struct{ Search string }
	}
	snaps := make(chan snapshot, 100)
	go func() {
		defer close(snaps)
		sc := bufio.NewScanner(res.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			if e, ok := strings.CutPrefix(line, "event: "); ok {
				event = e
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok && event == "system.health" {
				var s snapshot
				if json.Unmarshal([]byte(d), &s) == nil {
					snaps <- s
				}
			}
		}
	}()
	return func(search, status string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		var last snapshot
		for {
			select {
			case s, ok := <-snaps:
				if !ok {
					t.Fatal("the stream ended")
				}
				if last = s; s.Services.Search == search && s.Status == status {
					return
				}
			case <-deadline:
				t.Fatalf("no system.health with search %s, status %s; last %+v", search, status, last)
			}
		}
	}
}
