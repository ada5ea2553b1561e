// Package weaviatetest starts a throwaway Weaviate for tests: the
// weaviate-server binary that tools/weaviate/ensure.sh builds once from the
// module proxy and caches, run as a one-node cluster on free loopback ports
// with a temporary data directory. It never skips: when Weaviate cannot be
// built or started, the test fails with the reason and the server's log.
package weaviatetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Version is the Weaviate release the tests run against.
const Version = "v1.35.2"

// Limits, each with room for a cold, busy two-core machine. buildLimit
// covers a first build from source (10-20 minutes there); readyLimit
// covers a start, which takes about 3 s on an idle machine.
const (
	buildLimit = 45 * time.Minute
	readyLimit = 90 * time.Second
	stopLimit  = 30 * time.Second
	startTries = 3
)

// Server is a running Weaviate.
type Server struct {
	dir     string
	port    int // REST
	grpc    int
	cluster [4]int // gossip, data, raft, raft internal RPC
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Main runs the package's tests and stops the shared server afterwards;
// call it from TestMain when tests use Shared.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// Shared returns this test process's server, starting it on first use. It
// fails the test (never skips) when Weaviate cannot run. Tests sharing it
// keep apart by using collections of their own.
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Launch() })
	if sharedErr != nil {
		t.Fatalf("weaviatetest: %v", sharedErr)
	}
	return shared
}

// Start starts a server of the test's own, stopped when the test ends
// (for tests that stop, restart or wipe it).
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := Launch()
	if err != nil {
		t.Fatalf("weaviatetest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("weaviate log (%s):\n%s", s.LogPath(), s.LogTail(60))
		}
		s.Stop()
	})
	return s
}

// Launch builds (once) and starts a server; the caller stops it.
func Launch() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "memoryd-weaviate-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	for try := 1; ; try++ {
		err = s.start(bin)
		if err == nil {
			return s, nil
		}
		// A port picked free may be taken before Weaviate binds it (a
		// parallel test package); that is retried on new ports.
		if try == startTries || !strings.Contains(s.LogTail(200), "address already in use") {
			log := s.LogTail(60)
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%w\nweaviate log:\n%s", err, log)
		}
	}
}

// Host is the REST address, host:port.
func (s *Server) Host() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// GRPCHost is the gRPC address, host:port.
func (s *Server) GRPCHost() string { return "127.0.0.1:" + strconv.Itoa(s.grpc) }

// URL is the REST base URL.
func (s *Server) URL() string { return "http://" + s.Host() }

// LogPath is the file the server's output goes to.
func (s *Server) LogPath() string { return filepath.Join(s.dir, "weaviate.log") }

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string {
	b, _ := os.ReadFile(s.LogPath())
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Stop ends the server and removes its data.
func (s *Server) Stop() {
	s.halt()
	os.RemoveAll(s.dir)
}

// Halt stops the server and keeps its data (an outage); Resume starts it
// again on the same ports.
func (s *Server) Halt() { s.halt() }

// Resume starts a halted server again, on its ports and data.
func (s *Server) Resume() error {
	bin, err := Binary()
	if err != nil {
		return err
	}
	return s.run(bin)
}

// halt stops the process: SIGTERM, then SIGKILL past stopLimit.
func (s *Server) halt() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopLimit):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

func (s *Server) start(bin string) error {
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	s.port, s.grpc = ports[0], ports[1]
	copy(s.cluster[:], ports[2:])
	return s.run(bin)
}

// env is the environment of a one-node cluster on loopback: every port
// Weaviate would bind by default is moved to a free one (so parallel test
// processes do not collide), and profiling, telemetry and modules are off.
func (s *Server) env() []string {
	return append(os.Environ(),
		"PERSISTENCE_DATA_PATH="+filepath.Join(s.dir, "data"),
		"CLUSTER_HOSTNAME=node1",
		"CLUSTER_ADVERTISE_ADDR=127.0.0.1",
		"CLUSTER_BIND_ADDR=127.0.0.1",
		"GRPC_PORT="+strconv.Itoa(s.grpc),
		"CLUSTER_GOSSIP_BIND_PORT="+strconv.Itoa(s.cluster[0]),
		"CLUSTER_DATA_BIND_PORT="+strconv.Itoa(s.cluster[1]),
		"RAFT_PORT="+strconv.Itoa(s.cluster[2]),
		"RAFT_INTERNAL_RPC_PORT="+strconv.Itoa(s.cluster[3]),
		"RAFT_JOIN=node1:"+strconv.Itoa(s.cluster[3]),
		"RAFT_BOOTSTRAP_EXPECT=1",
		"RAFT_TIMEOUTS_MULTIPLIER=1",
		"DEFAULT_VECTORIZER_MODULE=none",
		"ENABLE_MODULES=",
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true",
		"DISABLE_TELEMETRY=true",
		"GO_PROFILING_DISABLE=true",
		"PROMETHEUS_MONITORING_ENABLED=false",
		"LOG_LEVEL=info",
	)
}

// run starts bin with s's ports and waits until it reports ready.
func (s *Server) run(bin string) error {
	logf, err := os.OpenFile(s.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(s.port), "--scheme", "http")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.dir, s.env(), logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphan if the test binary dies
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(); err != nil {
		s.halt()
		return err
	}
	return nil
}

// waitReady polls /v1/.well-known/ready until it answers 200, the process
// exits, or readyLimit passes.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(readyLimit)
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, err := client.Get(s.URL() + "/v1/.well-known/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("weaviate-server exited before it was ready: %v", s.waitErr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("weaviate-server not ready within readyLimit (%v) on %s", readyLimit, s.Host())
		}
	}
}

// Binary returns the weaviate-server to run: $WEAVIATE_SERVER when set,
// else the one tools/weaviate/ensure.sh builds and caches (building it the
// first time, bounded by buildLimit).
func Binary() (string, error) {
	if p := os.Getenv("WEAVIATE_SERVER"); p != "" {
		return p, nil
	}
	script, err := findScript()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), buildLimit,
		fmt.Errorf("weaviatetest buildLimit (%v) exceeded building weaviate-server", buildLimit))
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Env = append(os.Environ(), "WEAVIATE_VERSION="+Version)
	// The build runs in a process group of its own so that running out of
	// buildLimit ends the compilers too, not only bash.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return "", fmt.Errorf("%s: %w\n%s", script, err, stderr.String())
	}
	bin := strings.TrimSpace(string(out))
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s printed %q: %w", script, bin, err)
	}
	return bin, nil
}

// findScript locates tools/weaviate/ensure.sh from the test's directory.
func findScript() (string, error) {
	dir, _ := os.Getwd()
	for ; dir != "/" && dir != "."; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "tools/weaviate/ensure.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("tools/weaviate/ensure.sh not found above the working directory; set WEAVIATE_SERVER to a weaviate-server binary")
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// PID is the server's process id (0 when it is not running).
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}
