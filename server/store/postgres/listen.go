package postgres

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/uptrace/bun/driver/pgdriver"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// notifyChannel is the NOTIFY channel that wakes log tailers.
const notifyChannel = "memoryd_events"

// notifyPayloadMax is the largest event payload a NOTIFY carries whole
// (PostgreSQL's limit for the whole notification is 8,000 bytes; the
// rest of the event fits in what is left). A larger event's NOTIFY
// carries its position only, and tailers read it from the log.
const notifyPayloadMax = 7000

// notifySQL is the NOTIFY an append sends at commit, given a CTE e with
// the stored event: "seq\ncreated_at\nworkspace\ntype\npayload", or
// "seq" alone for a large payload (decodeNotification). Workspace names
// and types have no newline; the payload, last, may.
var notifySQL = `pg_notify('` + notifyChannel + `', CASE WHEN octet_length(e.payload) <= ` +
	strconv.Itoa(notifyPayloadMax) + ` THEN e.seq || E'\n' || e.created_at || E'\n' || e.workspace || E'\n' || e.type || E'\n' || e.payload ELSE e.seq::text END)`

// decodeNotification returns the position a NOTIFY names and, when it
// carries it whole, the event.
func decodeNotification(payload string) (seq int64, ev *memoryd.Event, err error) {
	parts := strings.SplitN(payload, "\n", 5)
	if seq, err = strconv.ParseInt(parts[0], 10, 64); err != nil || len(parts) < 5 {
		return seq, nil, err
	}
	micros, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return seq, nil, err
	}
	return seq, &memoryd.Event{Seq: seq, CreatedAt: sqlstore.FromMicros(micros), Workspace: parts[2], Type: parts[3],
		Payload: []byte(parts[4])}, nil
}

// follower is the node's one LISTEN connection. Every log tailer of the
// process (stream hub, vector index consumer, webhook fan-out) subscribes
// to it, and the events its notifications carry are kept in a Recent
// window, so a tailer woken by a commit takes them from memory instead
// of reading them from the database: one connection and no query per
// event and node, instead of one of each per tailer.
type follower struct {
	mu      sync.Mutex
	wake    *sqlstore.Wakeups
	recent  sqlstore.Recent
	running bool
	ln      *pgdriver.Listener
	done    chan struct{}
}

// Listen returns a channel that receives the position of newly appended
// events (a wake-up hint; readers still read by position) until ctx ends
// or the store closes. It follows NOTIFY, so writes of other nodes wake it
// too; notifications lost while the driver reconnects leave a gap the
// window notices, and the tailers' polls read past it.
func (s *Store) Listen(ctx context.Context) (<-chan int64, error) {
	f := &s.follow
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running {
		ln := pgdriver.NewListener(s.R)
		if err := ln.Listen(ctx, notifyChannel); err != nil {
			ln.Close()
			return nil, s.Fail(err)
		}
		if f.wake == nil {
			f.wake = sqlstore.NewWakeups()
		}
		f.recent.Reset() // what was committed while no one listened is not in it
		f.running, f.ln, f.done = true, ln, make(chan struct{})
		go f.run(ln.Channel(pgdriver.WithChannelSize(4096)))
	}
	return f.wake.Subscribe(ctx), nil
}

// run keeps the events notifications carry and wakes the subscribers,
// in that order, so a woken tailer finds them in the window. A
// notification without its event (a large one) breaks the window's
// sequence: the tailers read from the log until it restarts.
func (f *follower) run(ch <-chan pgdriver.Notification) {
	defer close(f.done)
	for n := range ch {
		seq, ev, err := decodeNotification(n.Payload)
		if err != nil {
			continue
		}
		if ev != nil {
			f.recent.Add([]*memoryd.Event{ev})
		} else {
			f.recent.Reset()
		}
		f.wake.Notify(seq)
	}
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
	f.wake.CloseAll()
}

// stop closes the LISTEN connection and waits for run to end.
func (f *follower) stop() {
	f.mu.Lock()
	ln, done := f.ln, f.done
	f.mu.Unlock()
	if ln == nil {
		return
	}
	ln.Close()
	<-done
}

// RecentEvents returns up to limit events after seq from those this
// node's NOTIFY connection received, without reading the database. ok is
// false when they are not all there (not listening, a position older
// than the window, an event too large to be carried); the caller then
// reads them with ReadEvents.
func (s *Store) RecentEvents(after int64, limit int) ([]*memoryd.Event, bool) {
	f := &s.follow
	f.mu.Lock()
	running := f.running
	f.mu.Unlock()
	if !running {
		return nil, false
	}
	return f.recent.After(after, limit)
}
