// Command pgserver starts a throwaway PostgreSQL cluster for load tests,
// prints its DSN on stdout and removes it on SIGINT/SIGTERM:
//
//	go run ./tools/pgserver > /tmp/pg.dsn &   # then: bin/memoryd serve --db $(cat /tmp/pg.dsn)
//
// It is internal/pgtest's cluster, but durable by default (fsync on), so
// figures measured against it are those of a real server;
// synchronous_commit defaults to off, which matches the SQLite store's
// WAL + synchronous=NORMAL (a crash may lose the last commits, never
// corrupt). -fast turns fsync off as the tests do.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/memoryd/memoryd/internal/pgtest"
)

func main() {
	syncCommit := flag.String("synchronous-commit", "off", "PostgreSQL synchronous_commit (on, off, ...)")
	fast := flag.Bool("fast", false, "fsync off and full_page_writes off (a test cluster, as pgtest runs)")
	maxConns := flag.Int("max-connections", 300, "max_connections")
	flag.Parse()
	c, err := pgtest.StartWith(pgtest.Options{Durable: !*fast, Settings: []string{
		"synchronous_commit=" + *syncCommit, fmt.Sprintf("max_connections=%d", *maxConns)}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgserver:", err)
		os.Exit(1)
	}
	fmt.Println(c.DSN("postgres"))
	fmt.Fprintf(os.Stderr, "pgserver: running in %s; Ctrl-C stops it and removes it\n", c.Dir())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	c.Stop()
}
