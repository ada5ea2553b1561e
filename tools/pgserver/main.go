// Command pgserver starts a throwaway PostgreSQL cluster for load tests,
// prints its DSN on stdout and removes it on SIGINT/SIGTERM:
//
//	go run ./tools/pgserver > /tmp/pg.dsn &   # then: bin/memoryd serve --db $(cat /tmp/pg.dsn)
//
// It does what server/internal/pgtest does for tests (pgtest is internal
// to server/, so it cannot be imported from here): a fresh cluster in a
// temporary directory on a free loopback port, run as the postgres user
// when started as root. Unlike pgtest it keeps fsync on by default, so
// figures measured against it are those of a durable server;
// synchronous_commit defaults to off, which matches the SQLite store's
// WAL + synchronous=NORMAL (a crash may lose the last commits, never
// corrupt). -fast turns fsync off as pgtest does.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
)

func main() {
	syncCommit := flag.String("synchronous-commit", "off", "PostgreSQL synchronous_commit (on, off, ...)")
	fast := flag.Bool("fast", false, "fsync off and full_page_writes off (a test cluster, as pgtest runs)")
	maxConns := flag.Int("max-connections", 300, "max_connections")
	flag.Parse()
	c, err := start(*syncCommit, *fast, *maxConns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgserver:", err)
		os.Exit(1)
	}
	fmt.Println(c.dsn("postgres"))
	fmt.Fprintf(os.Stderr, "pgserver: running in %s; Ctrl-C stops it and removes it\n", c.dir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	c.stop()
}

type cluster struct {
	dir  string
	port int
	bin  string
	cred *syscall.Credential
}

func start(syncCommit string, fast bool, maxConns int) (*cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin}
	if err := c.setUser(); err != nil {
		return nil, err
	}
	if c.dir, err = os.MkdirTemp("", "memoryd-pgserver-"); err != nil {
		return nil, err
	}
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return nil, err
		}
	}
	if c.port, err = freePort(); err != nil {
		return nil, err
	}
	data := filepath.Join(c.dir, "data")
	if err := c.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=%d -c synchronous_commit=%s",
		c.port, c.dir, maxConns, syncCommit)
	if fast {
		opts += " -c fsync=off -c full_page_writes=off"
	}
	if err := c.run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		os.RemoveAll(c.dir)
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return c, nil
}

// setUser runs the server as postgres when we are root (it refuses root).
func (c *cluster) setUser() error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs the postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return nil
}

func (c *cluster) stop() {
	_ = c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "stop")
	os.RemoveAll(c.dir)
}

func (c *cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func (c *cluster) run(tool string, args ...string) error {
	cmd := exec.Command(filepath.Join(c.bin, tool), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", tool, err, out)
	}
	return nil
}

// binDir finds the newest installed PostgreSQL (tools/pg/ensure-postgres.sh
// installs it).
func binDir() (string, error) {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Strings(m)
	if len(m) == 0 {
		return "", fmt.Errorf("postgresql is not installed: run tools/pg/ensure-postgres.sh")
	}
	return filepath.Dir(m[len(m)-1]), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
