package mutant

import (
	"context"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/memoryd/memoryd/conformance"
)

// A stream the suite closed may count against the key a moment longer
// (the server learns that a client left only when it next reads the
// connection). The limit checks wait for those slots: run twice in a row
// through a proxy that holds each connection to the server for a while
// after its client closed it, they pass both times.
func TestLimitChecksWaitForClosedStreams(t *testing.T) {
	var n node
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	if err := start(ctx, &n, "sqlite://"+filepath.Join(t.TempDir(), "limits.db"), done); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
	proxy := lingerProxy(t, n.url.Host, 2*time.Second)
	cfgs := []conformance.Config{
		{BaseURL: proxy, EventWait: passWait, Profiles: []conformance.Profile{conformance.Limits}},
		{BaseURL: proxy, BaseURLB: proxy, EventWait: passWait, ClusterWait: passWait,
			Profiles: []conformance.Profile{conformance.Cluster}},
	}
	checks := []string{"STREAM-LIMIT-001", "CLUSTER-LIMIT-001"}
	for round := range 4 {
		cfg, id := cfgs[round%2], checks[round%2]
		r := runChecks(t, n, cfg, []string{id})[id]
		if r.Outcome != conformance.Pass {
			t.Fatalf("round %d, %s: %s %s %v", round+1, id, r.Outcome, r.Reason, r.Log)
		}
		t.Logf("round %d, %s: %v", round+1, id, r.Log)
	}
}

// lingerProxy forwards TCP connections to target and closes its side to
// target only linger after the client closed its own. It returns its base
// URL; its connections end with the test.
func lingerProxy(t *testing.T, target string, linger time.Duration) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				forwardLingering(c, up, linger)
			}()
		}
	}()
	return (&url.URL{Scheme: "http", Host: l.Addr().String()}).String()
}

func forwardLingering(c, up net.Conn, linger time.Duration) {
	defer up.Close()
	defer c.Close()
	go func() { _, _ = io.Copy(c, up) }()
	_, _ = io.Copy(up, c)
	time.Sleep(linger)
}
