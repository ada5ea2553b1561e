package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// A database whose connection cannot be made in time is unreachable (503),
// although Go reports the dial timeout as context.DeadlineExceeded; the
// caller's own limit running out during a query stays the caller's.
func TestClassifyDialTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := net.Dialer{Timeout: time.Nanosecond} // runs out before the connect
	_, dialErr := d.Dial("tcp", ln.Addr().String())
	if dialErr == nil || !errors.Is(dialErr, context.DeadlineExceeded) {
		t.Fatalf("want a dial timeout that is context.DeadlineExceeded, got %v", dialErr)
	}
	if got := (dialect{}).Classify(fmt.Errorf("store: find key: %w", dialErr)); got != sqlstore.Unreachable {
		t.Errorf("dial timeout: %v, want Unreachable", got)
	}
	_, lookupErr := (&net.Dialer{}).DialContext(context.Background(), "tcp", "db.invalid:5432")
	if got := (dialect{}).Classify(lookupErr); lookupErr == nil || got != sqlstore.Unreachable {
		t.Errorf("name lookup failure %v: %v, want Unreachable", lookupErr, got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	if got := (dialect{}).Classify(fmt.Errorf("store: get: %w", ctx.Err())); got != sqlstore.Other {
		t.Errorf("the caller's deadline: %v, want Other", got)
	}
}
