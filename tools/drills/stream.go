package drills

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/memoryd/memoryd/conformance/sse"
)

// memoryEvents are the event types the drills' streams ask for, and the
// ones they compare with the log.
var memoryEvents = []string{"memory.created", "memory.updated", "memory.deleted"}

// follower reads a node's stream as a resuming client does: when the
// stream ends it reconnects with the last id it saw (Last-Event-ID), so
// what it receives across connections must be the log without gap or
// duplicate.
type follower struct {
	c    *client
	base string
	hc   *http.Client

	mu       sync.Mutex
	start    int64   // the first welcome's position: the log after it is expected
	seqs     []int64 // memory events' positions, in arrival order
	last     string  // the last id seen (events and heartbeats)
	lastSeq  int64
	ends     int      // streams that ended (an error event or the body's end)
	refused  *tally   // reconnections answered with something else than a stream
	errors   []string // error events' codes
	restarts int      // restart messages after the first connection
	opened   chan struct{}
}

func newFollower(c *client, base string) *follower {
	return &follower{c: c, base: base, hc: &http.Client{}, refused: newTally(), opened: make(chan struct{})}
}

// run follows the stream until ctx ends.
func (f *follower) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := f.once(ctx)
		if ctx.Err() != nil {
			return
		}
		f.mu.Lock()
		f.ends++
		f.mu.Unlock()
		_ = err
		sleep(ctx, 250*time.Millisecond)
	}
}

// once runs one connection; it returns when the stream ends.
func (f *follower) once(ctx context.Context) error {
	f.mu.Lock()
	last := f.last
	f.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		f.base+"/api/v1/stream?heartbeat=1&events="+strings.Join(memoryEvents, ","), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+f.c.key)
	req.Header.Set("X-Workspace-ID", f.c.ws)
	req.Header.Set("Accept", "text/event-stream")
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		f.mu.Lock()
		f.refused.add("transport error", err.Error())
		f.mu.Unlock()
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		f.mu.Lock()
		f.refused.add(strconv.Itoa(resp.StatusCode), resp.Status)
		f.mu.Unlock()
		return fmt.Errorf("stream: %s", resp.Status)
	}
	rd := sse.NewReader(resp.Body)
	for {
		it, err := rd.Next()
		if err != nil {
			return err
		}
		if it.Kind == sse.KindEvent {
			f.event(it.Event, last != "")
		}
	}
}

// event records one message.
func (f *follower) event(ev sse.Event, resumed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch ev.Type {
	case "welcome":
		var w struct {
			Position string `json:"position"`
		}
		_ = json.Unmarshal([]byte(ev.Data), &w)
		if f.last == "" {
			f.last = w.Position
			f.start, _ = seqOf(w.Position)
			f.lastSeq = f.start
			close(f.opened)
		}
		return
	case "restart":
		f.restarts++
	case "error":
		var e struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal([]byte(ev.Data), &e)
		f.errors = append(f.errors, e.Code)
		return
	}
	if !ev.IDSet {
		return
	}
	seq, err := seqOf(ev.ID)
	if err != nil {
		f.errors = append(f.errors, "bad id "+ev.ID)
		return
	}
	f.last, f.lastSeq = ev.ID, seq
	for _, t := range memoryEvents {
		if ev.Type == t {
			f.seqs = append(f.seqs, seq)
		}
	}
}

// seqOf decodes the sequence number of a position. Positions are opaque to
// clients; the drill reads them only to compare with the log it reads
// from the database.
func seqOf(pos string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(pos, "="))
	if err != nil {
		return 0, err
	}
	s := string(raw)
	dot := strings.LastIndexByte(s, '.')
	if dot < 0 {
		return 0, fmt.Errorf("position %q has no sequence", pos)
	}
	return strconv.ParseInt(s[dot+1:], 10, 64)
}

// reached reports whether the stream has passed seq (an event or a
// heartbeat at or after it).
func (f *follower) reached(seq int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastSeq >= seq
}

// received returns the start position and the memory events' positions.
func (f *follower) received() (int64, []int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.start, append([]int64(nil), f.seqs...)
}

// summary describes the connections' history.
func (f *follower) summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("ended %d times (error events %v), refused reconnections %v, restarts %d",
		f.ends, f.errors, f.refused, f.restarts)
}
