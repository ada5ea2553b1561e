// Package memproc runs a built memoryd binary for the benchmark tools: a
// throwaway SQLite file, a key for the workspaces a tool uses, a free
// loopback port, and the server's CPU time as the kernel counts it.
package memproc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Server is a running memoryd.
type Server struct {
	Base string // http://127.0.0.1:port
	Key  string // valid for the workspaces given to Start
	cmd  *exec.Cmd
	dir  string
}

var listening = regexp.MustCompile(`msg="memoryd listening" addr=(http://[^ ]*)/api/v1`)

// Start runs `bin serve` with serveArgs on a fresh SQLite file, with an
// unlimited key for workspaces, and waits up to startLimit for it to
// listen (a model load included).
func Start(bin string, workspaces []string, serveArgs []string, startLimit time.Duration) (*Server, error) {
	dir, err := os.MkdirTemp("", "memproc")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	db := "sqlite://" + filepath.Join(dir, "memoryd.db")
	args := []string{"keys", "create", "--db", db}
	for _, w := range workspaces {
		args = append(args, "--workspace", w)
	}
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("keys create: %w", err)
	}
	s.Key = strings.TrimSpace(string(out))
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, serveArgs...)...)
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.cmd.Stderr, s.cmd.Stdout = logf, logf
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for deadline := time.Now().Add(startLimit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, _ := os.ReadFile(logf.Name())
		if m := listening.FindSubmatch(b); m != nil {
			s.Base = string(m[1])
			return s, nil
		}
	}
	s.Stop()
	return nil, fmt.Errorf("memoryd did not log its address within the start limit (%v)", startLimit)
}

// Stop interrupts the server, waits for it and removes its files.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		_ = s.cmd.Wait()
	}
	os.RemoveAll(s.dir)
}

// CPU is the server's user+system CPU time so far, from /proc: on a
// shared machine it says what the work cost, whatever else ran.
func (s *Server) CPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}
