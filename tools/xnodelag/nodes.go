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
	"time"

	"github.com/memoryd/memoryd/internal/pgtest"
	"github.com/memoryd/memoryd/internal/weaviatetest"
)

// startLimit bounds a node's start (a cold build is done before).
const startLimit = 2 * time.Minute

// cluster is what the tool started: PostgreSQL (unless -db), two nodes.
type cluster struct {
	dir     string
	pg      *pgtest.Server
	nodes   []*exec.Cmd
	a, b    string
	key     string
	logDone []chan struct{}
	bin, db string
	dims    int
	wv      *weaviatetest.Server // when the tool started Weaviate
	vectors string               // the nodes' --vectors
}

func startCluster(ctx context.Context, o options) (c *cluster, err error) {
	c = &cluster{}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	if c.dir, err = os.MkdirTemp("", "xnodelag-"); err != nil {
		return c, err
	}
	bin := o.bin
	if bin == "" {
		bin = filepath.Join(c.dir, "memoryd")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/memoryd/memoryd/server/cmd/memoryd")
		if out, err := build.CombinedOutput(); err != nil {
			return c, fmt.Errorf("building memoryd: %v\n%s", err, out)
		}
	}
	db := o.db
	if db == "" {
		if c.pg, err = pgtest.StartWith(pgtest.Options{Durable: !o.fast,
			Settings: []string{"synchronous_commit=off", "max_connections=300"}}); err != nil {
			return c, err
		}
		db = c.pg.DSN("postgres")
	}
	if c.key, err = createKey(ctx, bin, db); err != nil {
		return c, err
	}
	c.bin, c.db, c.dims, c.vectors = bin, db, o.dims, o.vectors
	if o.vectors == "weaviate" {
		if c.wv, err = weaviatetest.Launch(); err != nil {
			return c, err
		}
		c.vectors = "weaviate://" + c.wv.Host() + "?grpc=" + c.wv.GRPCHost()
	}
	return c, c.startNodes()
}

// startNodes starts nodes A and B, one after the other: both would
// migrate an empty database at once.
func (c *cluster) startNodes() (err error) {
	if c.a, err = c.startNode(c.bin, c.db, "A", c.dims); err != nil {
		return err
	}
	c.b, err = c.startNode(c.bin, c.db, "B", c.dims)
	return err
}

func createKey(ctx context.Context, bin, db string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, "keys", "create", "--db", db, "--workspace", "xnodelag", "--user", "xnodelag")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("memoryd keys create: %v\n%s", err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out)), nil
}

// startNode runs `memoryd serve` on a free loopback port and returns its
// base URL once it listens. Its log goes to name.log in the tool's
// directory.
func (c *cluster) startNode(bin, db, name string, dims int) (string, error) {
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db, "--embedder", "hash",
		"--hash-dims", fmt.Sprint(dims), "--log-format", "json", "--log-level", "info", "--vectors", c.vectors)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MEMORYD_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	logf, err := os.Create(filepath.Join(c.dir, name+".log"))
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
	c.nodes = append(c.nodes, cmd)
	addr := make(chan string, 1)
	done := make(chan struct{})
	c.logDone = append(c.logDone, done)
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

// stopNodes stops the nodes (interrupt, as an operator would).
func (c *cluster) stopNodes() {
	for _, n := range c.nodes {
		_ = n.Process.Signal(os.Interrupt)
	}
	for i, n := range c.nodes {
		_ = n.Wait()
		<-c.logDone[i]
	}
	c.nodes, c.logDone = nil, nil
}

func (c *cluster) stop() {
	c.stopNodes()
	if c.wv != nil {
		c.wv.Stop()
	}
	if c.pg != nil {
		c.pg.Stop()
	}
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}
