package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startLimit only guards against a hung test; nothing asserts on timing.
const startLimit = 60 * time.Second

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// memorydBin builds server/cmd/memoryd once per test process, as a
// release would (CGO_ENABLED=0), and returns the binary's path.
func memorydBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "memoryd-e2e-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "memoryd")
		cmd := exec.Command(goTool(), "build", "-o", binPath, "github.com/memoryd/memoryd/server/cmd/memoryd")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = &buildError{err: err, out: out}
		}
	})
	if binErr != nil {
		t.Fatalf("building memoryd: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// goTool finds the go command: on PATH, else the toolchain this test was
// built with.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	//lint:ignore SA1019 a test binary built by go test knows its GOROOT, and there is no other source without go on PATH
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// cleanEnv is the environment without MEMORYD_* variables, so a
// developer's settings cannot change what the tests run.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MEMORYD_") {
			env = append(env, kv)
		}
	}
	return env
}

// createKey runs `memoryd keys create` on db and returns the new key.
func createKey(t testing.TB, db, workspace string) string {
	t.Helper()
	key, _ := createKeyID(t, db, workspace)
	return key
}

// createKeyID is createKey, returning the key's id too.
func createKeyID(t testing.TB, db, workspace string) (key, id string) {
	t.Helper()
	out, stderr := runKeys(t, "create", "--db", db, "--workspace", workspace, "--user", "e2e")
	key = strings.TrimSpace(out)
	if key == "" || strings.ContainsAny(key, " \n") {
		t.Fatalf("memoryd keys create printed %q, want only the key", out)
	}
	// stderr says "created <id> for workspaces ...".
	if f := strings.Fields(stderr); len(f) >= 2 && f[0] == "created" {
		id = f[1]
	} else {
		t.Fatalf("memoryd keys create reported %q, want the key's id", stderr)
	}
	return key, id
}

// runKeys runs `memoryd keys args...` and returns its stdout and stderr.
func runKeys(t testing.TB, args ...string) (stdout, stderr string) {
	t.Helper()
	// Built first: on a cold build cache the build alone can take longer
	// than the limit, which is for the command.
	bin := memorydBin(t)
	// A bounded run: a store that deadlocks must fail the test, not hang it.
	ctx, cancel := context.WithTimeout(context.Background(), startLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"keys"}, args...)...)
	cmd.Env = cleanEnv()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("memoryd keys %s did not exit within %v (startLimit: a hang, e.g. a deadlock in the store)\nstdout: %s\nstderr: %s",
			args[0], startLimit, out, errb.Bytes())
	}
	if err != nil {
		t.Fatalf("memoryd keys %s: %v\n%s", args[0], err, errb.Bytes())
	}
	return string(out), errb.String()
}

// node is one running `memoryd serve` process.
type node struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	// base is http://host:port, without the API's base path.
	base   string
	log    *lockedBuffer
	exited chan struct{}
}

// startNode runs `memoryd serve` on db with the hash embedder on a free
// loopback port, waits until it listens, and stops it when the test ends.
// extra flags are appended.
func startNode(t testing.TB, name, db string, extra ...string) *node {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--embedder", "hash", "--hash-dims", "64",
		"--log-format", "json", "--log-level", "info",
		// Pacing (1000 events a minute by default) is tested elsewhere;
		// here it would only slow the replays down.
		"--stream-events-per-minute", "6000000"}, extra...)
	n := &node{t: t, name: name, cmd: exec.Command(memorydBin(t), args...), log: &lockedBuffer{}, exited: make(chan struct{})}
	n.cmd.Env = cleanEnv()
	n.cmd.Stdout = n.log
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("starting memoryd %s: %v", name, err)
	}
	addr := make(chan string, 1)
	go n.scan(stderr, addr)
	go func() { _ = n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("memoryd %s log:\n%s", name, n.log.tail(8000))
		}
	})
	select {
	case a := <-addr:
		n.base = strings.TrimSuffix(a, "/api/v1")
	case <-n.exited:
		t.Fatalf("memoryd %s exited before listening:\n%s", name, n.log.String())
	case <-time.After(startLimit):
		t.Fatalf("memoryd %s did not listen:\n%s", name, n.log.String())
	}
	return n
}

// scan copies the JSON log to n.log and reports the address of the
// "memoryd listening" line.
func (n *node) scan(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		n.log.Write(append(line, '\n'))
		var rec struct{ Msg, Addr string }
		if json.Unmarshal(line, &rec) == nil && rec.Msg == "memoryd listening" && rec.Addr != "" {
			select {
			case addr <- rec.Addr:
			default:
			}
		}
	}
}

// kill ends the process with SIGKILL, as a crash would: nothing gets to
// flush or shut down.
func (n *node) kill() {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-n.exited:
	case <-time.After(startLimit):
		n.t.Fatalf("memoryd %s survived SIGKILL", n.name)
	}
}

// stop asks for a graceful shutdown, and kills after a grace period.
func (n *node) stop() {
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(15 * time.Second):
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
		<-n.exited
	}
}

// lockedBuffer is a bytes.Buffer safe for the log copier and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) tail(n int) string {
	s := l.String()
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
