package pgtest

import (
	"context"
	"database/sql"
	"net"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// A port taken between picking it and PostgreSQL binding it (another
// process got it first) costs a retry on another port, not a failed start.
func TestStartRetriesATakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	var picked []int
	pickPort = func() (int, error) {
		p, err := freePort()
		if len(picked) == 0 {
			p = takenPort
		}
		picked = append(picked, p)
		return p, err
	}
	defer func() { pickPort = freePort }()

	s, err := Start()
	if err != nil {
		t.Fatalf("start with the first port taken: %v", err)
	}
	defer s.Stop()
	if len(picked) != 2 || s.port != picked[1] {
		t.Fatalf("ports tried %v, server on %d: want the taken one, then another", picked, s.port)
	}
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(s.DSN("postgres"))))
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a hang bound
	defer cancel()
	var one int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("the server does not answer on port %d: %v", s.port, err)
	}
}
