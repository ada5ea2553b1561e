package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/pgtest"
)

// A database that stops answering without refusing (its processes
// frozen, as a host that went away leaves a connection hanging) makes
// /ready answer 503 within its check's limit (2 s), not after the
// driver's own timeouts (10 s a read, retried). The test allows 8 s for a
// busy machine.
func TestReadyAnswersWhileTheDatabaseHangs(t *testing.T) {
	srv, err := pgtest.Start() // its own: this test freezes it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	dsn, err := srv.NewDatabase()
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "ready", dsn)
	if code, _ := readyOf(t, n.base); code != http.StatusOK {
		t.Fatalf("/ready before: %d, want 200", code)
	}
	pids := postgresProcesses(t, srv)
	signalAll(pids, syscall.SIGSTOP)
	t.Cleanup(func() { signalAll(pids, syscall.SIGCONT) }) // before srv.Stop (cleanups run last first)
	start := time.Now()
	code, checks := readyOf(t, n.base)
	took := time.Since(start)
	if code != http.StatusServiceUnavailable || checks["database"] != "unavailable" {
		t.Fatalf("/ready with the database frozen: %d %v, want 503 with database unavailable", code, checks)
	}
	if took > 8*time.Second {
		t.Fatalf("/ready took %v with the database frozen, want its 2 s limit (8 s allowed)", took)
	}
	t.Logf("/ready answered 503 after %v", took.Round(time.Millisecond))
}

// readyOf returns /ready's status and checks, waiting up to a minute.
func readyOf(t *testing.T, base string) (int, map[string]string) {
	t.Helper()
	c := &http.Client{Timeout: time.Minute}
	resp, err := c.Get(base + "/api/v1/ready")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Checks map[string]string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body.Checks
}

// postgresProcesses lists the postmaster of srv and its children (the
// connections' backends and the server's workers).
func postgresProcesses(t *testing.T, srv *pgtest.Server) []int {
	t.Helper()
	pm, err := srv.PID()
	if err != nil {
		t.Fatal(err)
	}
	pids := []int{pm}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		_, rest, ok := strings.Cut(string(b), ") ")
		fields := strings.Fields(rest)
		if !ok || len(fields) < 2 || fields[1] != strconv.Itoa(pm) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if err == nil {
			pids = append(pids, pid)
		}
	}
	if len(pids) < 2 {
		t.Fatalf("found no child of the postmaster %d", pm)
	}
	return pids
}

func signalAll(pids []int, sig syscall.Signal) {
	for _, p := range pids {
		_ = syscall.Kill(p, sig)
	}
}
