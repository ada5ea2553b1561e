package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// groupTx is the writer's transaction for one group: the sqlstore.Tx its
// changes run in.
type groupTx struct {
	s     *Store
	tx    *sql.Tx
	stmts map[string]*sql.Stmt // closed by database/sql when the transaction ends
	// fts holds the group's full-text changes, applied in order just before
	// commit. FTS5 writes its pending terms to disk as a new segment at every
	// statement savepoint, so interleaved with the other statements each
	// change would write (and later merge) a segment of its own; applied
	// together they make one.
	fts []ftsOp
	// seq is the log's last position in this transaction, read from the
	// counter row by the group's first append and written back once by
	// finish (the writer is the only one appending).
	seq     int64
	haveSeq bool // the counter was read, hence advanced: write it back
}

var _ sqlstore.Tx = (*groupTx)(nil)

type ftsOp struct {
	rid  int64
	text string
	del  bool // remove rid's entry (text unused)
}

// The statements only SQLite's writer runs.
const (
	insertTagSQL    = "INSERT INTO memory_tags (rid, tag) VALUES (?, ?) ON CONFLICT DO NOTHING"
	ftsInsertSQL    = "INSERT INTO memories_fts (rowid, text) VALUES (?, ?)"
	ftsDeleteSQL    = "DELETE FROM memories_fts WHERE rowid = ?"
	insertEventSQL  = "INSERT INTO events (seq, workspace, type, payload, created_at) VALUES (?, ?, ?, ?, ?)"
	readCounterSQL  = "SELECT seq FROM event_counter WHERE id = 1"
	writeCounterSQL = "UPDATE event_counter SET seq = ? WHERE id = 1"
)

// begin starts a group's transaction on the writer's connection.
func (s *Store) begin() (*groupTx, error) {
	tx, err := s.W.DB.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	return &groupTx{s: s, tx: tx, stmts: map[string]*sql.Stmt{}}, nil
}

// Exec runs a write statement, prepared.
func (g *groupTx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := g.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// queryRow runs a one-row query, prepared.
func (g *groupTx) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	st, err := g.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

// InsertMemory reports the row id through the result: RETURNING would
// build a temporary table per statement, which costs more than the
// insert itself.
func (g *groupTx) InsertMemory(ctx context.Context, r *sqlstore.MemoryRow) (int64, error) {
	rid, err := g.insertedID(ctx, sqlstore.InsertMemorySQL, r.InsertArgs())
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: insert memory: %w", err)
	}
	return rid, nil
}

// insertedID runs an insert and returns the new row's id; sql.ErrNoRows
// when it inserted nothing (a conflict).
func (g *groupTx) insertedID(ctx context.Context, query string, args []any) (int64, error) {
	res, err := g.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, cmp.Or(err, sql.ErrNoRows)
	}
	return res.LastInsertId()
}

// Current needs no lock: the single writer already excludes others.
func (g *groupTx) Current(ctx context.Context, workspace, id string) (*sqlstore.Stored, error) {
	row, err := g.queryRow(ctx, sqlstore.CurrentSQL, workspace, id)
	if err != nil {
		return nil, fmt.Errorf("store: get memory: %w", err)
	}
	return sqlstore.ScanMemory(row)
}

// InsertTags runs one prepared insert per tag (no round trips here).
func (g *groupTx) InsertTags(ctx context.Context, rid int64, tags []string) error {
	for _, tag := range tags {
		if _, err := g.Exec(ctx, insertTagSQL, rid, tag); err != nil {
			return err
		}
	}
	return nil
}

// FullText queues the change for finish.
func (g *groupTx) FullText(rid int64, text string, del bool) {
	g.fts = append(g.fts, ftsOp{rid: rid, text: text, del: del})
}

// AppendEvent takes the next position from the group's counter.
func (g *groupTx) AppendEvent(ctx context.Context, ev *memoryd.Event) error {
	if err := sqlstore.Stamp(ev); err != nil {
		return err
	}
	seq, err := g.nextSeq(ctx)
	if err != nil {
		return err
	}
	ev.Seq = seq
	_, err = g.Exec(ctx, insertEventSQL, ev.Seq, ev.Workspace, ev.Type, string(ev.Payload), sqlstore.Micros(ev.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: append event: %w", err)
	}
	return nil
}

// nextSeq takes the next log position: the group reads the counter once
// and finish writes it back once (the single writer holds the database's
// write lock for the whole transaction).
func (g *groupTx) nextSeq(ctx context.Context) (int64, error) {
	if !g.haveSeq {
		row, err := g.queryRow(ctx, readCounterSQL)
		if err == nil {
			err = row.Scan(&g.seq)
		}
		if err != nil {
			return 0, fmt.Errorf("store: next event position: %w", err)
		}
		g.haveSeq = true
	}
	g.seq++
	return g.seq, nil
}

// finish applies the group's full-text changes and stores the log
// counter, as the last statements of the transaction.
func (g *groupTx) finish() error {
	ctx := context.Background()
	for _, op := range g.fts {
		q, args := ftsInsertSQL, []any{op.rid, op.text}
		if op.del {
			q, args = ftsDeleteSQL, []any{op.rid}
		}
		if _, err := g.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("store: full-text index: %w", err)
		}
	}
	if g.haveSeq {
		if _, err := g.Exec(ctx, writeCounterSQL, g.seq); err != nil {
			return fmt.Errorf("store: event counter: %w", err)
		}
	}
	return nil
}
