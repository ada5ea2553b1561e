package drills

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// streamCheck compares what a stream delivered with the log.
type streamCheck struct {
	Expected   int // the log's memory events after the start
	Received   int
	Gaps       int // log events never delivered
	Duplicates int // events delivered more than once
	OutOfOrder int // events delivered after a later one
	Foreign    int // delivered events the log does not have
}

func (s streamCheck) String() string {
	return fmt.Sprintf("log %d, received %d, gaps %d, duplicates %d, out of order %d, not in the log %d",
		s.Expected, s.Received, s.Gaps, s.Duplicates, s.OutOfOrder, s.Foreign)
}

func (s streamCheck) ok() bool {
	return s.Gaps == 0 && s.Duplicates == 0 && s.OutOfOrder == 0 && s.Foreign == 0 && s.Received == s.Expected
}

// compare checks got (positions in arrival order) against want (the log's
// positions of the same events, ascending).
func compare(want, got []int64) streamCheck {
	c := streamCheck{Expected: len(want), Received: len(got)}
	inLog := make(map[int64]bool, len(want))
	for _, s := range want {
		inLog[s] = true
	}
	seen := make(map[int64]bool, len(got))
	var prev int64 = -1
	for _, s := range got {
		switch {
		case seen[s]:
			c.Duplicates++
			continue
		case s < prev:
			c.OutOfOrder++
		}
		seen[s], prev = true, max(prev, s)
		if !inLog[s] {
			c.Foreign++
		}
	}
	for _, s := range want {
		if !seen[s] {
			c.Gaps++
		}
	}
	return c
}

// logOf reads the workspace's memory events after seq from the database,
// in log order, and the highest of them (seq when there is none).
func logOf(ctx context.Context, dsn, ws string, after int64) ([]int64, int64, error) {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT seq FROM events WHERE workspace = $1 AND seq > $2
		AND type IN ('memory.created', 'memory.updated', 'memory.deleted') ORDER BY seq`, ws, after)
	if err != nil {
		return nil, 0, fmt.Errorf("reading the event log: %w", err)
	}
	defer rows.Close()
	var out []int64
	head := after
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			return nil, 0, err
		}
		out, head = append(out, s), s
	}
	return out, head, rows.Err()
}

// checkStream waits until f has delivered the log up to its head, then
// compares.
func checkStream(ctx context.Context, env *Env, ws string, f *follower, name string) (streamCheck, error) {
	dsn, err := env.Faults.PostgresDSN(ctx)
	if err != nil {
		return streamCheck{}, err
	}
	start, _ := f.received()
	want, head, err := logOf(ctx, dsn, ws, start)
	if err != nil {
		return streamCheck{}, err
	}
	err = poll(ctx, catchUpLimit, "stream on "+name+" catching up with the log", 100*time.Millisecond,
		func(context.Context) (bool, error) { return f.reached(head), nil })
	_, got := f.received()
	c := compare(want, got)
	if err != nil {
		return c, fmt.Errorf("%w (%s; %s)", err, c, f.summary())
	}
	return c, nil
}
