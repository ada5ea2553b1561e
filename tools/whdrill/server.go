package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is one memoryd process on a fixed loopback port and database.
type server struct {
	bin, db, addr, dir string
	cmd                *exec.Cmd
	keyCh              chan string
	logf               *os.File
}

// buildMemoryd builds ./server/cmd/memoryd into dir unless bin is given.
func buildMemoryd(bin, dir string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	out := filepath.Join(dir, "memoryd")
	c := exec.Command("go", "build", "-o", out, "./server/cmd/memoryd")
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("go build (run from the repository root): %w", err)
	}
	return out, nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func newServer(bin, dir string) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, "memoryd.log"))
	if err != nil {
		return nil, err
	}
	return &server{bin: bin, dir: dir, db: "sqlite://" + filepath.Join(dir, "memoryd.db"), addr: addr, logf: f}, nil
}

func (s *server) base() string { return "http://" + s.addr + "/api/v1" }

// start runs memoryd and waits (bounded) until /health answers.
func (s *server) start(ctx context.Context) error {
	s.cmd = exec.Command(s.bin, "serve", "--addr", s.addr, "--db", s.db, "--embedder", "hash",
		"--webhooks-allow-private", "--rate-free", "0", "--rate-pro", "0", "--rate-enterprise", "0",
		"--log-level", "warn")
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	s.cmd.Stderr = s.logf
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.keyCh = make(chan string, 1)
	go scanKey(io.TeeReader(out, s.logf), s.keyCh)
	return waitHealthy(ctx, s.base(), 60*time.Second)
}

// scanKey finds the first-start key memoryd prints once on stdout.
func scanKey(r io.Reader, ch chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if k, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "export MEMORYD_API_KEY="); ok {
			ch <- k
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func (s *server) firstKey(limit time.Duration) (string, error) {
	select {
	case k := <-s.keyCh:
		return k, nil
	case <-time.After(limit):
		return "", fmt.Errorf("no first-start key on memoryd's stdout within the %s key limit", limit)
	}
}

func waitHealthy(ctx context.Context, base string, limit time.Duration) error {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/health", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("memoryd not healthy within the %s start limit", limit)
}

// kill9 sends SIGKILL and reaps the process.
func (s *server) kill9() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

// stop ends memoryd gracefully (SIGTERM), SIGKILL after 20 s.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		s.kill9()
	}
}

// procStatus reads VmRSS and Threads from /proc/PID/status.
func (s *server) procStatus() (rss, threads string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return "?", "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			rss = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			threads = strings.TrimSpace(v)
		}
	}
	return rss, threads
}

// cpuTime is the CPU time (user and system) process pid has used, read
// from /proc (clock ticks of 1/100 s on Linux).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command's closing parenthesis; utime and stime
	// are the 14th and 15th of the whole line.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// cpuMeter reads memoryd's and this tool's CPU time over a span.
type cpuMeter struct {
	pid       int
	srv, self time.Duration
}

func (s *server) startCPU() cpuMeter {
	return cpuMeter{pid: s.cmd.Process.Pid, srv: cpuTime(s.cmd.Process.Pid), self: cpuTime(os.Getpid())}
}

// report prints the CPU both processes used since the start, per 1,000
// deliveries.
func (m cpuMeter) report(label string, deliveries int) {
	srv, self := cpuTime(m.pid)-m.srv, cpuTime(os.Getpid())-m.self
	per := func(d time.Duration) string {
		if deliveries == 0 {
			return "?"
		}
		return (d * 1000 / time.Duration(deliveries)).Round(time.Millisecond).String()
	}
	fmt.Printf("%s: CPU memoryd %s (%s per 1,000 deliveries), whdrill %s (%s per 1,000)\n",
		label, srv.Round(10*time.Millisecond), per(srv), self.Round(10*time.Millisecond), per(self))
}
