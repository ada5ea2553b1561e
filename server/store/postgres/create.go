package postgres

import (
	"context"
	"fmt"

	"github.com/uptrace/bun/dialect/pgdialect"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// A create is one statement: the row, its tags, the next log positions,
// its events (the change's and those it carries in With) and their
// NOTIFYs, as data-modifying parts of one query. A statement outside
// BEGIN is a transaction of its own, as atomic as the BEGIN ... COMMIT it
// replaces, in one round trip instead of five or more (BEGIN, row, tags,
// an event each, COMMIT); and the event counter's row lock, which every
// write waits for, is held for the end of one statement instead of across
// round trips. When the id exists the insert does nothing, every part
// after it sees no row, and nothing is written: the caller then replaces
// the memory in a transaction. Its arguments are the row's, the tags and
// appendEventsArgs.
var createSQL = "WITH m AS (" + sqlstore.InsertMemorySQL + ` RETURNING rid),
t AS (INSERT INTO memory_tags (rid, tag) SELECT m.rid, unnest(?::text[]) FROM m ON CONFLICT DO NOTHING),
c AS (UPDATE event_counter SET seq = seq + ? WHERE id = 1 AND EXISTS (SELECT 1 FROM m) RETURNING seq),
` + appendEventsTail

// appendSQL ends the statements that append an event: given a CTE c
// holding the event's new position (none: nothing appended), it stores
// the event and queues the NOTIFY sent at commit (notifySQL), returning
// the position.
// Its arguments are appendArgs.
var appendSQL = `e AS (INSERT INTO events (seq, workspace, type, payload, created_at) SELECT c.seq, ?, ?, ?, ? FROM c
RETURNING seq, workspace, type, payload, created_at)
SELECT e.seq, ` + notifySQL + ` FROM e`

// appendEventSQL appends an event alone.
var appendEventSQL = "WITH c AS (UPDATE event_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq),\n" + appendSQL

// appendEventsTail ends the statements that append several events: given
// a CTE c holding the counter moved by their number (none: nothing
// appended), they take the positions it moved over, in order (ORDER BY
// also orders the NOTIFYs: a volatile call in the select list runs after
// the sort).
var appendEventsTail = `v AS (SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[]) WITH ORDINALITY AS v(workspace, type, payload, created_at, i)),
e AS (INSERT INTO events (seq, workspace, type, payload, created_at)
SELECT c.seq - ? + v.i, v.workspace, v.type, v.payload, v.created_at FROM c, v
RETURNING seq, workspace, type, payload, created_at)
SELECT e.seq, ` + notifySQL + ` FROM e ORDER BY e.seq`

// appendEventsSQL appends several events that come with no change. Its
// arguments are appendEventsArgs.
var appendEventsSQL = "WITH c AS (UPDATE event_counter SET seq = seq + ? WHERE id = 1 RETURNING seq),\n" + appendEventsTail

func appendEventsArgs(evs []*memoryd.Event) []any {
	n := len(evs)
	ws, types, payloads, created := make([]string, n), make([]string, n), make([]string, n), make([]int64, n)
	for i, ev := range evs {
		ws[i], types[i], payloads[i], created[i] = ev.Workspace, ev.Type, string(ev.Payload), sqlstore.Micros(ev.CreatedAt)
	}
	return []any{n, pgdialect.Array(ws), pgdialect.Array(types), pgdialect.Array(payloads), pgdialect.Array(created), n}
}

func appendArgs(ev *memoryd.Event) []any {
	return []any{ev.Workspace, ev.Type, string(ev.Payload), sqlstore.Micros(ev.CreatedAt)}
}

// create inserts r (the row of m) with ev, the event of its creation, and
// the events ev carries, unless the id exists; created reports which.
// The events get their positions.
func (s *Store) create(ctx context.Context, r *sqlstore.MemoryRow, m *memoryd.Memory, ev *memoryd.Event) (created bool, err error) {
	evs := append([]*memoryd.Event{ev}, ev.With...)
	for _, e := range evs {
		if err := sqlstore.Stamp(e); err != nil {
			return false, err
		}
	}
	tags := m.Tags()
	if tags == nil {
		tags = []string{}
	}
	args := append(r.InsertArgs(), pgdialect.Array(tags))
	seqs, err := s.positions(context.WithoutCancel(ctx), createSQL, append(args, appendEventsArgs(evs)...))
	if err == nil && len(seqs) > 0 && len(seqs) != len(evs) {
		err = fmt.Errorf("%d positions for %d events", len(seqs), len(evs))
	}
	if err != nil {
		return false, s.Fail(fmt.Errorf("store: insert memory: %w", err))
	}
	if len(seqs) == 0 {
		return false, nil
	}
	for i, e := range evs {
		e.Seq = seqs[i]
	}
	s.Wrote()
	return true, nil
}
