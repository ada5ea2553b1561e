package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/memoryd/memoryd/internal/apiclient"
	"github.com/memoryd/memoryd/internal/pgtest"
	"github.com/memoryd/memoryd/internal/weaviatetest"
	"github.com/memoryd/memoryd/server/vector/weaviate"
)

// workspace is the one the tool's key writes to.
const workspace = "bench"

// Limits, each a bound on a hang rather than a target.
const (
	startLimit = 2 * time.Minute
	loadLimit  = 90 * time.Minute
)

// env is what the tool started.
type env struct {
	dir           string
	pg            *pgtest.Server
	wv            *weaviatetest.Server
	nodes         []*exec.Cmd
	names         []string // of the nodes, in the order of nodes
	logDone       []chan struct{}
	inproc        []string // base URLs of the nodes I, one per -inproc-ef
	weav          string   // base URL of node W
	key, db, bin  string
	vectors, dims string
}

func start(ctx context.Context, o options) (e *env, err error) {
	e = &env{dims: fmt.Sprint(o.dims)}
	defer func() {
		if err != nil {
			e.stop()
		}
	}()
	if e.dir, err = os.MkdirTemp("", "vecbench-"); err != nil {
		return e, err
	}
	e.bin = o.bin
	if e.bin == "" {
		e.bin = filepath.Join(e.dir, "memoryd")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", e.bin, "github.com/memoryd/memoryd/server/cmd/memoryd").CombinedOutput(); err != nil {
			return e, fmt.Errorf("building memoryd: %v\n%s", err, out)
		}
	}
	settings := []string{"max_connections=300"}
	if o.pgStatements {
		settings = append(settings, pgStatSettings...)
	}
	if e.pg, err = pgtest.StartWith(pgtest.Options{Settings: settings}); err != nil {
		return e, err
	}
	e.db = e.pg.DSN("postgres")
	if e.wv, err = weaviatetest.Launch(); err != nil {
		return e, err
	}
	e.vectors = "weaviate://" + e.wv.Host() + "?grpc=" + e.wv.GRPCHost()
	cmd := exec.CommandContext(ctx, e.bin, "keys", "create", "--db", e.db, "--workspace", workspace, "--user", "vecbench")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return e, fmt.Errorf("memoryd keys create: %v\n%s", err, stderr.Bytes())
	}
	e.key = strings.TrimSpace(string(out))
	if e.weav, err = e.node("W", "--vectors", e.vectors); err != nil {
		return e, err
	}
	for i, ef := range o.inprocEF {
		base, err := e.node(fmt.Sprintf("I%d", i+1), "--search-ef", fmt.Sprint(ef))
		if err != nil {
			return e, err
		}
		e.inproc = append(e.inproc, base)
	}
	return e, nil
}

// procs are the processes whose CPU time the tool reports: the nodes,
// PostgreSQL with its backends, Weaviate, and the tool itself (the
// clients and the HTTP floor).
func (e *env) procs() []proc {
	var ps []proc
	for i, c := range e.nodes {
		ps = append(ps, proc{name: e.names[i], pid: c.Process.Pid})
	}
	if pid, err := e.pg.PID(); err == nil {
		ps = append(ps, proc{name: "postgres", pid: pid, tree: true})
	}
	ps = append(ps, proc{name: "weaviate", pid: e.wv.PID()}, proc{name: "vecbench", pid: os.Getpid()})
	return ps
}

// node runs `memoryd serve` on a free loopback port and returns its base
// URL once it listens; its log goes to name.log in the tool's directory.
func (e *env) node(name string, extra ...string) (string, error) {
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", e.db, "--embedder", "hash", "--hash-dims", e.dims,
		"--log-format", "json", "--log-level", "info"}, extra...)
	cmd := exec.Command(e.bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MEMORYD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	logf, err := os.Create(filepath.Join(e.dir, name+".log"))
	if err != nil {
		return "", err
	}
	cmd.Stdout = logf
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting node %s: %w", name, err)
	}
	e.nodes = append(e.nodes, cmd)
	e.names = append(e.names, name)
	addr := make(chan string, 1)
	done := make(chan struct{})
	e.logDone = append(e.logDone, done)
	go func() { scanLog(io.TeeReader(stderr, logf), addr); logf.Close(); close(done) }()
	select {
	case a := <-addr:
		return strings.TrimSuffix(a, "/api/v1"), nil
	case <-done:
		return "", fmt.Errorf("node %s exited before listening; see %s", name, logf.Name())
	case <-time.After(startLimit):
		return "", fmt.Errorf("node %s did not listen within %v (startLimit); see %s", name, startLimit, logf.Name())
	}
}

// scanLog reports the address of the "memoryd listening" line.
func scanLog(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "memoryd listening" && rec.Addr != "" {
			select {
			case addr <- rec.Addr:
			default:
			}
		}
	}
}

func (e *env) stop() {
	for _, n := range e.nodes {
		_ = n.Process.Signal(os.Interrupt)
	}
	for i, n := range e.nodes {
		_ = n.Wait()
		<-e.logDone[i]
	}
	if e.wv != nil {
		e.wv.Stop()
	}
	if e.pg != nil {
		e.pg.Stop()
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// load creates every vector through node W's API (POST /memory/batch,
// -batch memories a request; single creates with -batch 0), then waits
// until Weaviate holds them all and node I's index finds them.
func load(ctx context.Context, o options, e *env, vecs [][]float32) error {
	api := &apiclient.Client{HTTP: httpClient(), Key: e.key}
	v := apiclient.Slice(vecs, memID)
	size := max(o.batch, 1)
	var next, failed, done atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for range o.writers {
		wg.Go(func() {
			for time.Since(start) < loadLimit {
				from := int(next.Add(int64(size)) - int64(size))
				if from >= len(vecs) {
					return
				}
				to := min(from+size, len(vecs))
				n, err := api.Create(ctx, e.weav, v, from, to, o.batch > 0)
				if err != nil {
					failed.Add(int64(to - from - n))
					firstErr.CompareAndSwap(nil, err.Error())
				}
				if d := done.Add(int64(to - from)); d/10000 != (d-int64(to-from))/10000 {
					fmt.Printf("  loaded %d in %v\n", d/10000*10000, time.Since(start).Round(time.Second))
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		return fmt.Errorf("%d creates failed, the first: %v", failed.Load(), firstErr.Load())
	}
	if done.Load() < int64(len(vecs)) {
		return fmt.Errorf("loaded %d of %d memories in %v (loadLimit)", done.Load(), len(vecs), loadLimit)
	}
	fmt.Printf("loaded %d memories through the API in %v\n", len(vecs), time.Since(start).Round(time.Millisecond))
	idx, err := weaviate.Open(weaviate.Config{Host: e.wv.Host()})
	if err != nil {
		return err
	}
	for {
		n, err := idx.Count(workspace)
		if err == nil && n == len(vecs) {
			break
		}
		if time.Since(start) > loadLimit {
			return fmt.Errorf("after %v (loadLimit) Weaviate holds %d of %d vectors", loadLimit, n, len(vecs))
		}
		time.Sleep(time.Second)
	}
	for _, base := range e.inproc {
		if err := caughtUp(ctx, api, base, vecs, o.writers*4, start); err != nil {
			return err
		}
	}
	fmt.Printf("every index holds every vector %v after the load began\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// caughtUp waits until the in-process node at base finds the last
// vectors (it applies the log in order: the last found, all are).
func caughtUp(ctx context.Context, api *apiclient.Client, base string, vecs [][]float32, last int, start time.Time) error {
	for i := len(vecs) - 1; i >= max(0, len(vecs)-last); i-- {
		for {
			var res struct {
				Results []struct{ Memory struct{ ID string } } `json:"results"`
			}
			err := api.Post(ctx, base, "/memory/search", map[string]any{"embedding": vecs[i], "limit": 1, "threshold": 0.999, "mode": "semantic"}, &res)
			if err == nil && len(res.Results) == 1 {
				break
			}
			if time.Since(start) > loadLimit {
				return fmt.Errorf("node %s does not find %s after %v (loadLimit)", base, memID(i), loadLimit)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}
