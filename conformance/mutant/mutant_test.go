package mutant

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/conformance"
	"github.com/memoryd/memoryd/server/app"
)

// startLimit bounds creating the keys and starting memoryd; it leaves room
// for a cold, busy machine.
const startLimit = 3 * time.Minute

// Stream checks wait this long for a message that should come. Through the
// unmodified proxy every check must pass, so it waits as long as a busy
// machine may need; against a mutant the checks must fail, and a failing
// stream check takes the whole wait, so it is short there.
const (
	passWait = 30 * time.Second
	failWait = 3 * time.Second
)

// node is a running memoryd and the keys of workspaces wa and wb on it.
type node struct {
	url        *url.URL
	keyA, keyB string
}

// server is a real memoryd, started once for every test of the package;
// island is another one on a database of its own: as node B of a cluster,
// it never learns server's writes.
var server, island node

// TestMain runs memoryd in-process (the suite itself never imports the
// server; only this test of the suite does) on a temporary SQLite
// database, with a 1 s minimum heartbeat so the heartbeat check is quick.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mutant")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 2)
	started := make(chan error, 1)
	go func() {
		err := start(ctx, &server, "sqlite://"+filepath.Join(dir, "memoryd.db"), done)
		if err == nil {
			err = start(ctx, &island, "sqlite://"+filepath.Join(dir, "island.db"), done)
		}
		started <- err
	}()
	// A server that hangs while creating keys or starting must fail the
	// test, not stall it: go test's -timeout only starts with m.Run.
	select {
	case err := <-started:
		if err != nil {
			fmt.Fprintln(os.Stderr, "mutant: starting memoryd:", err)
			return 1
		}
	case <-time.After(startLimit):
		fmt.Fprintf(os.Stderr, "mutant: memoryd did not create two keys and start listening within its %s limit\n", startLimit)
		return 1
	}
	code := m.Run()
	cancel()
	<-done
	<-done
	return code
}

// start creates the two keys on db, then runs memoryd until ctx ends
// (its result goes to done) and returns once it listens.
func start(ctx context.Context, n *node, db string, done chan<- error) error {
	var err error
	if n.keyA, err = createKey(ctx, db, "wa"); err != nil {
		return err
	}
	if n.keyB, err = createKey(ctx, db, "wb"); err != nil {
		return err
	}
	cfg, err := app.ParseServe([]string{"--addr", "127.0.0.1:0", "--db", db, "--embedder", "hash",
		"--stream-min-heartbeat", "1s", "--webhooks-allow-private"})
	if err != nil {
		return err
	}
	ready := make(chan string, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- app.Run(ctx, cfg, io.Discard, log, ready) }()
	n.url = &url.URL{Scheme: "http", Host: <-ready}
	return nil
}

func createKey(ctx context.Context, db, workspace string) (string, error) {
	var out bytes.Buffer
	if err := app.RunKeys(ctx, []string{"create", "--db", db, "--workspace", workspace}, &out, io.Discard); err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

// caught pairs a mutation with the checks that must fail (or warn, for a
// SHOULD) against it.
type caught struct {
	m      Mutation
	checks []string
}

var mutants = []caught{
	{DropIDs, []string{"STREAM-CONNECT-001", "STREAM-LIVE-001", "STREAM-HEARTBEAT-001", "STREAM-SNAPSHOT-001", "STREAM-RESTART-001"}},
	{DuplicateEvent, []string{"STREAM-LIVE-005", "STREAM-RESUME-001"}},
	{SwapEvents, []string{"STREAM-LIVE-005", "STREAM-RESUME-002"}},
	{DropWelcome, []string{"STREAM-CONNECT-001", "STREAM-SNAPSHOT-001", "STREAM-RESTART-001"}},
	{RenameDeleted, []string{"STREAM-LIVE-003"}},
	{IgnoreLastEventID, []string{"STREAM-RESUME-001", "STREAM-RESUME-002", "STREAM-RESUME-003", "STREAM-RESTART-001"}},
	{StreamTextPlain, []string{"STREAM-CONNECT-001", "STREAM-CONNECT-003", "STREAM-LIVE-001"}},
	{NotFoundShape, []string{"MEM-GET-003", "MEM-DELETE-002", "MEM-UPDATE-005", "ISO-READ-001"}},
	{NoLocation, []string{"MEM-CREATE-002"}},
	{BufferedStream, []string{"STREAM-CONNECT-002"}},
}

// runSuite runs the checks named ids through a proxy applying m.
func runSuite(t *testing.T, m Mutation, ids []string, wait time.Duration) map[string]conformance.Result {
	t.Helper()
	proxy := httptest.NewServer(Proxy(server.url, m))
	defer proxy.Close()
	return runConfig(t, conformance.Config{BaseURL: proxy.URL, EventWait: wait,
		Profiles: []conformance.Profile{conformance.Core, conformance.Stream}}, ids)
}

// runConfig runs the checks named ids with cfg and server's keys.
func runConfig(t *testing.T, cfg conformance.Config, ids []string) map[string]conformance.Result {
	t.Helper()
	return runChecks(t, server, cfg, ids)
}

// runChecks runs the checks named ids with cfg and n's keys.
func runChecks(t *testing.T, n node, cfg conformance.Config, ids []string) map[string]conformance.Result {
	t.Helper()
	cfg.KeyA, cfg.KeyB, cfg.WorkspaceA, cfg.WorkspaceB = n.keyA, n.keyB, "wa", "wb"
	cfg.Run = regexp.MustCompile("^(" + strings.Join(ids, "|") + ")$")
	s, err := conformance.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := s.Run(context.Background(), conformance.Checks())
	got := map[string]conformance.Result{}
	for _, r := range rep.Results {
		got[r.ID] = r
	}
	for _, id := range ids {
		if _, ok := got[id]; !ok {
			t.Fatalf("check %s did not run (renamed?)", id)
		}
	}
	return got
}

// Every check the mutants rely on passes through the proxy unmodified:
// what they catch is the mutation, not the proxy or the server.
func TestUnmodifiedProxyPasses(t *testing.T) {
	seen := map[string]bool{}
	var ids []string
	for _, c := range mutants {
		for _, id := range c.checks {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	for id, r := range runSuite(t, Mutation{Name: "none"}, ids, passWait) {
		if r.Outcome != conformance.Pass {
			t.Errorf("%s: %s %s", id, r.Outcome, r.Reason)
		}
	}
}

func TestMutantsAreCaught(t *testing.T) {
	for _, c := range mutants {
		t.Run(c.m.Name, func(t *testing.T) {
			for id, r := range runSuite(t, c.m, c.checks, failWait) {
				if r.Outcome != conformance.Fail && r.Outcome != conformance.Warn {
					t.Errorf("%s did not catch %s: %s", id, c.m.Name, r.Outcome)
					continue
				}
				t.Logf("%s %s: %s", id, strings.ToUpper(string(r.Outcome)), r.Reason)
			}
		})
	}
}

// clusterChecks are the cluster profile's checks that a node B which never
// learns node A's writes must fail. CLUSTER-LIMIT-001 accepts both a
// per-node and a cluster-wide stream limit, so no mutant fails it.
var clusterChecks = []string{"CLUSTER-READ-001", "CLUSTER-LIST-001", "CLUSTER-SEARCH-001", "CLUSTER-UPDATE-001",
	"CLUSTER-DELETE-001", "CLUSTER-STREAM-001", "CLUSTER-RESUME-001"}

// runCluster runs the cluster profile with server as node A and nodeB
// (behind a proxy applying m) as node B.
func runCluster(t *testing.T, nodeB *url.URL, m Mutation, ids []string, wait time.Duration) map[string]conformance.Result {
	t.Helper()
	proxy := httptest.NewServer(Proxy(nodeB, m))
	defer proxy.Close()
	return runConfig(t, conformance.Config{BaseURL: server.url.String(), BaseURLB: proxy.URL,
		Profiles: []conformance.Profile{conformance.Cluster}, EventWait: wait, ClusterWait: wait}, ids)
}

// One server is a cluster of one: reached under two URLs, it passes the
// whole cluster profile (what the mutant fails is its split, not the proxy).
func TestClusterOfOnePasses(t *testing.T) {
	for id, r := range runCluster(t, server.url, Mutation{Name: "none"}, append(clusterChecks, "CLUSTER-LIMIT-001"), passWait) {
		if r.Outcome != conformance.Pass {
			t.Errorf("%s: %s %s", id, r.Outcome, r.Reason)
		}
		t.Logf("%s %s %v", id, r.Outcome, r.Log)
	}
}

// A node B on a database of its own never learns node A's writes: every
// cluster check that follows a write across nodes must fail.
func TestSplitNodeIsCaught(t *testing.T) {
	m := OtherNode(map[string]string{server.keyA: island.keyA, server.keyB: island.keyB})
	for id, r := range runCluster(t, island.url, m, clusterChecks, failWait) {
		if r.Outcome != conformance.Fail {
			t.Errorf("%s did not catch %s: %s", id, m.Name, r.Outcome)
			continue
		}
		t.Logf("%s FAIL: %s", id, r.Reason)
	}
}
