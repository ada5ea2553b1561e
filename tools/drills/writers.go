package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// writers are concurrent clients storing memories with ids of their own
// choosing, so a write whose answer was lost is retried under the same id
// (an upsert: 200 when the first attempt had committed after all).
type writers struct {
	c    *client
	ws   string
	text func(id string, n int) map[string]any // the body of write number n
	// halted: no new write, no retry (the writes in flight finish).
	halted atomic.Bool

	mu      sync.Mutex
	acked   map[string]ackInfo // id -> who acknowledged it, when
	answers *tally             // every answer, by kind
	mark    time.Time          // when the fault was repaired (or struck)
	resumed []time.Time        // per writer: its first acknowledgement after mark
	count   int
}

type ackInfo struct {
	node   string
	status int
	at     time.Time
}

func newWriters(c *client, ws string) *writers {
	return &writers{c: c, ws: ws, acked: map[string]ackInfo{}, answers: newTally(),
		text: func(id string, n int) map[string]any {
			return map[string]any{"id": id, "text": fmt.Sprintf("drill note %d about %s", n, id)}
		}}
}

// policy says what a writer does after a failed attempt: the node to use
// next and how long to wait first.
type policy func(node string, r reply) (next string, wait time.Duration)

// stay retries on the same node after a short pause.
func stay(node string, _ reply) (string, time.Duration) { return node, 100 * time.Millisecond }

// failover moves to other after a failure on any node but other.
func failover(other string) policy {
	return func(node string, _ reply) (string, time.Duration) {
		if node != other {
			return other, 0
		}
		return other, 100 * time.Millisecond
	}
}

// run starts one writer per entry of nodes (its first node), each writing
// until halt is called (or ctx ends); pace > 0 spaces one writer's writes.
// It returns when all have stopped. A halt lets the writes in flight
// finish, so every write that commits is answered and counted.
func (w *writers) run(ctx context.Context, nodes []string, p policy, pace time.Duration) {
	var wg sync.WaitGroup
	w.resumed = make([]time.Time, len(nodes))
	for i, node := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.writer(ctx, i, node, p, pace)
		}()
	}
	wg.Wait()
}

func (w *writers) writer(ctx context.Context, i int, node string, p policy, pace time.Duration) {
	for j := 0; ctx.Err() == nil && !w.halted.Load(); j++ {
		id := fmt.Sprintf("%s-w%02d-%05d", w.ws, i, j)
		w.mu.Lock()
		n := w.count
		w.count++
		w.mu.Unlock()
		body := w.text(id, n)
		for ctx.Err() == nil {
			r := w.c.do(ctx, http.MethodPost, node+"/api/v1/memory", body)
			if ctx.Err() != nil {
				return // the drill ends: the answer is not the drill's
			}
			if w.record(i, id, node, r) || w.halted.Load() {
				break
			}
			var wait time.Duration
			node, wait = p(node, r)
			sleep(ctx, wait)
		}
		sleep(ctx, pace)
	}
}

// record counts an answer; it reports whether the write was acknowledged.
func (w *writers) record(i int, id, node string, r reply) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	kind, ok := classify(r)
	w.answers.add(kind, fmt.Sprintf("%s: %v %.200s", node, r.err, r.body))
	now := time.Now()
	if !ok {
		return false
	}
	if _, seen := w.acked[id]; !seen {
		w.acked[id] = ackInfo{node: node, status: r.status, at: now}
	}
	if !w.mark.IsZero() && w.resumed[i].IsZero() {
		w.resumed[i] = now
	}
	return true
}

// classify names an answer's kind; ok is a write's acknowledgement.
func classify(r reply) (kind string, ok bool) {
	switch {
	case r.err != nil:
		return "transport error", false
	case r.status == http.StatusCreated || r.status == http.StatusOK:
		return fmt.Sprint(r.status), true
	case r.status == http.StatusServiceUnavailable:
		if good, _ := r.unavailable(); good {
			return "503 UNAVAILABLE", false
		}
		return "503 off-envelope", false
	}
	var e envelope
	_ = json.Unmarshal(r.body, &e)
	return fmt.Sprintf("%d %s", r.status, e.Error), false
}

// acks returns the acknowledged ids and how many each node acknowledged.
func (w *writers) acks() (map[string]ackInfo, map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out, per := map[string]ackInfo{}, map[string]int{}
	for id, a := range w.acked {
		out[id] = a
		per[a.node]++
	}
	return out, per
}

// halt stops the writers after the writes in flight.
func (w *writers) halt() { w.halted.Store(true) }

// setMark starts measuring how long until every writer is served again.
func (w *writers) setMark(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.mark = t
	clear(w.resumed)
}

// servedAgain is how long after the mark every writer had a write
// acknowledged again (the slowest writer); false while one has not.
func (w *writers) servedAgain() (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var worst time.Duration
	for _, at := range w.resumed {
		if at.IsZero() {
			return 0, false
		}
		worst = max(worst, at.Sub(w.mark))
	}
	return worst, true
}

// answersString lists the answers by kind.
func (w *writers) answersString() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	kinds := make([]string, 0, len(w.answers.n))
	for k := range w.answers.n {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	s := ""
	for _, k := range kinds {
		s += fmt.Sprintf(" %s=%d", k, w.answers.n[k])
	}
	return s
}

// unexpected returns the answers other than the allowed kinds, with an
// example of each.
func (w *writers) unexpected(allowed ...string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for k, n := range w.answers.n {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			out = append(out, fmt.Sprintf("%d× %s (e.g. %s)", n, k, w.answers.example[k]))
		}
	}
	sort.Strings(out)
	return out
}
