// Package pgtest starts a throwaway PostgreSQL server for tests: a fresh
// cluster in a temporary directory on a free loopback port, run as the
// postgres user when the tests run as root (the server refuses root). The
// binaries come from Debian's postgresql package, which tools/pg/
// ensure-postgres.sh installs (make test runs it; so does Start when they
// are missing).
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// Server is a running throwaway cluster.
type Server struct {
	dir  string
	port int
	bin  string
	cred *syscall.Credential
	seq  atomic.Int64
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Main runs the package's tests and stops the shared server afterwards;
// call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// DSN returns the DSN of a new, empty database on the shared server of
// this test process, starting the server on first use. It fails the test
// (never skips) when PostgreSQL cannot run.
func DSN(t testing.TB) string {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		t.Fatalf("pgtest: %v", sharedErr)
	}
	dsn, err := shared.NewDatabase()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// Options adjust a cluster.
type Options struct {
	// Durable keeps fsync and full-page writes on (benchmarks that should
	// see a durable server's costs); tests leave it off for speed.
	Durable bool
	// Settings are extra server settings ("name=value"), applied last.
	Settings []string
}

// Start initialises and starts a test cluster.
func Start() (*Server, error) { return StartWith(Options{}) }

// StartWith initialises and starts a cluster with opts.
func StartWith(o Options) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if s.dir, err = os.MkdirTemp("", "memoryd-pg-"); err != nil {
		return nil, err
	}
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(s.dir, "data")
	if err := s.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		s.cleanup()
		return nil, err
	}
	if err := s.start(data, o); err != nil {
		s.cleanup()
		return nil, err
	}
	return s, nil
}

// startTries bounds the attempts at a free port.
const startTries = 5

// pickPort returns a port that was free a moment ago (a variable so a
// test can hand out a taken one).
var pickPort = freePort

// start runs the server on a free loopback port. The port is only free
// when picked: another process (a parallel test package, a client's
// ephemeral port) may bind it before PostgreSQL does, and then PostgreSQL
// refuses to start. That is retried on another port, not failed.
func (s *Server) start(data string, o Options) error {
	logPath := filepath.Join(s.dir, "log")
	for try := 1; ; try++ {
		port, err := pickPort()
		if err != nil {
			return err
		}
		s.port = port
		err = s.run("pg_ctl", "-D", data, "-o", s.options(o), "-l", logPath, "-w", "-t", "60", "start")
		if err == nil {
			return nil
		}
		log, _ := os.ReadFile(logPath)
		if try == startTries || !bytes.Contains(log, []byte("Address already in use")) {
			return fmt.Errorf("%w\n%s", err, log)
		}
		_ = os.Remove(logPath) // the next attempt's log starts clean
	}
}

// options are the server settings of a start on s.port.
func (s *Server) options(o Options) string {
	// synchronous_commit off matches the SQLite store (WAL, synchronous=
	// NORMAL): a crash may lose the last commits, never corrupt. fsync off:
	// a test cluster trades durability for speed.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c synchronous_commit=off -c max_connections=300", s.port, s.dir)
	if !o.Durable {
		opts += " -c fsync=off -c full_page_writes=off"
	}
	for _, kv := range o.Settings {
		opts += " -c " + kv
	}
	return opts
}

// createTimeout bounds CREATE DATABASE, which copies the template
// database: room for a cold, busy machine.
const createTimeout = 60 * time.Second

// NewDatabase creates an empty database and returns its DSN.
func (s *Server) NewDatabase() (string, error) {
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), s.seq.Add(1))
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(s.dsn("postgres"))))
	defer db.Close()
	ctx, cancel := context.WithTimeoutCause(context.Background(), createTimeout,
		fmt.Errorf("pgtest: CREATE DATABASE took longer than its %v limit", createTimeout))
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return "", fmt.Errorf("create database: %w", err)
	}
	return s.dsn(name), nil
}

// DSN returns the DSN of the cluster's database db.
func (s *Server) DSN(db string) string { return s.dsn(db) }

// Dir is the cluster's temporary directory.
func (s *Server) Dir() string { return s.dir }

// Stop shuts the cluster down and removes its files.
func (s *Server) Stop() {
	s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	s.cleanup()
}

func (s *Server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

func (s *Server) cleanup() { os.RemoveAll(s.dir) }

func (s *Server) run(tool string, args ...string) error {
	cmd := exec.Command(filepath.Join(s.bin, tool), args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", tool, err, out)
	}
	return nil
}

// binDir finds the newest installed PostgreSQL, installing it if needed.
func binDir() (string, error) {
	find := func() string {
		m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		sort.Strings(m)
		if len(m) == 0 {
			return ""
		}
		return filepath.Dir(m[len(m)-1])
	}
	if d := find(); d != "" {
		return d, nil
	}
	script, err := findScript()
	if err != nil {
		return "", err
	}
	if out, err := exec.Command("bash", script).CombinedOutput(); err != nil {
		return "", fmt.Errorf("install postgresql: %w\n%s", err, out)
	}
	if d := find(); d != "" {
		return d, nil
	}
	return "", fmt.Errorf("postgresql binaries not found after install")
}

// findScript locates tools/pg/ensure-postgres.sh from the test's directory.
func findScript() (string, error) {
	dir, _ := os.Getwd()
	for ; dir != "/" && dir != "."; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "tools/pg/ensure-postgres.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("postgresql is not installed and tools/pg/ensure-postgres.sh was not found")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PID is the postmaster's process id, from its postmaster.pid file.
func (s *Server) PID() (int, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}
