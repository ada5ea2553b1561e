package events

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	ev "github.com/memoryd/memoryd/gen/events"
	memoryd "github.com/memoryd/memoryd/server"
)

// chunk is how many ring entries a connection handles between two looks
// at its timers and the shutdown signal.
const chunk = 256

// errClosing ends a connection because the server shuts down.
var errClosing = errors.New("stream closing")

// conn is one open stream. It holds a cursor into the log and nothing
// else of the events: it reads the shared ring (or the store) after it.
type conn struct {
	s   *Stream
	out output
	id  string
	req *request
	log *slog.Logger

	cursor int64 // last log seq delivered or skipped
	// backlog is the log's head when the stream opened: events up to it
	// are the client's catch-up and go out unpaced.
	backlog  int64
	opened   bool  // retry and welcome were sent
	boardGen int64 // last snapshot generation sent
	pace     pacer
	scratch  []*entry
	// nextBeat and nextKeep are when the heartbeat and the keepalive check
	// are due.
	nextBeat, nextKeep time.Time
}

// loop streams until the client goes away or the server closes. It waits
// on three channels: with thousands of connections woken at once, a
// select costs per case, and a channel they all wait on is a lock they all
// take. So the heartbeat and keepalive share one timer, and the server's
// closing comes through the hub's wake-up (Close wakes every connection).
func (c *conn) loop(ctx context.Context) error {
	now := time.Now()
	c.nextBeat, c.nextKeep = now.Add(c.req.heartbeat), now.Add(c.s.cfg.Keepalive)
	timer := time.NewTimer(c.untilTick(now))
	defer timer.Stop()
	for {
		more, wake, err := c.pump(ctx)
		if err != nil {
			return err
		}
		if c.s.isClosing() {
			return errClosing
		}
		if more {
			wake = closedChan
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case now := <-timer.C:
			err = c.tick(now)
			timer.Reset(c.untilTick(now))
		}
		if err != nil {
			return err
		}
	}
}

// tick sends the heartbeat and the keepalive comment when due. The
// keepalive only goes on a connection silent for about its interval.
func (c *conn) tick(now time.Time) error {
	if !now.Before(c.nextBeat) {
		c.nextBeat = now.Add(c.req.heartbeat)
		if err := c.heartbeat(); err != nil {
			return err
		}
	}
	if ka := c.s.cfg.Keepalive; !now.Before(c.nextKeep) {
		c.nextKeep = now.Add(ka)
		if now.Sub(c.out.lastWrite) >= ka*9/10 {
			return c.write(keepaliveFrame)
		}
	}
	return nil
}

// untilTick is how long until the next heartbeat or keepalive check.
func (c *conn) untilTick(now time.Time) time.Duration {
	return min(c.nextBeat.Sub(now), c.nextKeep.Sub(now))
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// pump sends what is new: snapshots, then log events after the cursor.
// more reports that a full chunk was handled and more may be waiting;
// wake is closed by the next change after what pump saw.
func (c *conn) pump(ctx context.Context) (more bool, wake <-chan struct{}, err error) {
	entries, ok, wake := c.s.hub.read(c.scratch[:0], c.cursor, chunk)
	c.scratch = entries
	// After the read, so a board published since is either seen here or
	// closes wake.
	if err := c.sendSnapshots(); err != nil {
		return false, nil, err
	}
	if !ok {
		more, err := c.pumpStore(ctx)
		return more, wake, err
	}
	for i, e := range entries {
		if c.req.sub.matches(e) {
			if err := c.paced(ctx, e.seq); err != nil {
				return false, nil, err
			}
			if err := c.out.queue(e.frame); err != nil {
				return false, nil, err
			}
		}
		c.cursor = e.seq
		entries[i] = nil // let evicted entries go
	}
	if err := c.out.flush(); err != nil {
		return false, nil, err
	}
	return len(entries) == chunk, wake, nil
}

// pumpStore serves a cursor older than the ring from the store, one batch
// at a time, until the cursor reaches the ring.
func (c *conn) pumpStore(ctx context.Context) (bool, error) {
	st, batch := c.s.store, c.s.cfg.ReadBatch
	evs, err := st.ReadEvents(ctx, c.req.sub.workspace, c.cursor, batch)
	if err != nil {
		return false, err
	}
	// Checked after the read: if nothing after the cursor was pruned by
	// now, the read saw every event after it.
	first, _, err := st.EventBounds(ctx)
	if err != nil {
		return false, err
	}
	if perr := checkRange(c.cursor, first, c.cursor); perr != nil {
		return false, c.restart(perr, c.s.hub.head())
	}
	for _, e := range evs {
		en := newEntry(c.s.hub.epoch, e)
		if c.req.sub.matches(en) {
			if err := c.paced(ctx, e.Seq); err != nil {
				return false, err
			}
			if err := c.out.queue(en.frame); err != nil {
				return false, err
			}
		}
		c.cursor = e.Seq
	}
	if len(evs) < batch {
		// The store has nothing more for this workspace, up to at least
		// the ring's floor: continue from the ring.
		c.cursor = max(c.cursor, c.s.hub.floor())
	}
	if err := c.out.flush(); err != nil {
		return false, err
	}
	return true, nil
}

// paced waits for the connection's slot for event seq, flushing first so
// the client has what was already queued while it waits. The catch-up
// (events up to the head when the stream opened) is not paced: those
// writes already passed the API's rate limits, and a resuming client
// needs them fast. Pacing is for live delivery.
func (c *conn) paced(ctx context.Context, seq int64) error {
	if seq <= c.backlog {
		return nil
	}
	d := c.pace.reserve(time.Now())
	if d <= 0 {
		return nil
	}
	if err := c.out.flush(); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.s.closing:
		return errClosing
	case <-t.C:
		return nil
	}
}

// sendSnapshots sends the latest periodic snapshots this connection wants
// and has not had yet. Their id is the connection's position, so they
// never move a client's resume point.
func (c *conn) sendSnapshots() error {
	b := c.s.hub.snapshots()
	if b.gen == c.boardGen {
		return nil
	}
	c.boardGen = b.gen
	pos := c.s.hub.position(c.cursor)
	if b.health != nil && c.req.sub.wantsType(memoryd.EventSystemHealth) {
		if err := c.out.queue(frame(pos, memoryd.EventSystemHealth, b.health)); err != nil {
			return err
		}
	}
	a := b.analytics[c.req.sub.workspace]
	if a == nil {
		// The workspace had no open stream at the last round: its period
		// counted nothing, so send that rather than nothing until the next.
		a = c.s.emptyAnalytics(c.req.sub.workspace)
	}
	if a != nil && c.req.sub.wantsType(memoryd.EventAnalyticsUpdate) {
		if err := c.out.queue(frame(pos, memoryd.EventAnalyticsUpdate, a)); err != nil {
			return err
		}
	}
	return c.out.flush()
}

func (c *conn) heartbeat() error {
	status := ev.HeartbeatStatusHealthy
	if st := c.s.hub.snapshots().healthStatus; st != "" {
		status = ev.HeartbeatStatus(st)
	}
	pos := c.s.hub.position(c.cursor)
	return c.send(typeHeartbeat, pos, ev.Heartbeat{Timestamp: time.Now().UTC(), Status: status,
		ConnectionId: c.id, Position: pos})
}

// restart tells the client its position is unusable and moves the cursor
// to seq (the end of the log).
func (c *conn) restart(perr *positionError, seq int64) error {
	c.cursor = seq
	pos := c.s.hub.position(seq)
	return c.send(typeRestart, pos, ev.Restart{Reason: perr.Reason, Message: perr.Message, Position: pos})
}

// sendError sends an error event (no id: it moves no resume point).
func (c *conn) sendError(code, msg string, retry time.Duration) error {
	return c.send(typeError, "", ev.StreamError{Code: code, Message: msg, RetryAfter: int(retry / time.Millisecond)})
}

// send encodes a control message and writes it at once.
func (c *conn) send(typ, id string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var f []byte
	if id == "" {
		f = append([]byte("event: "+typ+"\ndata: "), data...)
		f = append(f, '\n', '\n')
	} else {
		f = frame(id, typ, data)
	}
	return c.write(f)
}

// write sends b at once, after what was queued.
func (c *conn) write(b []byte) error {
	if err := c.out.queue(b); err != nil {
		return err
	}
	return c.out.flush()
}
