package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/memoryd/memoryd/gen/events"
	memoryd "github.com/memoryd/memoryd/server"
)

// Log is the part of the event log the fan-out reads.
type Log interface {
	ReadEvents(ctx context.Context, workspace string, after int64, limit int) ([]*memoryd.Event, error)
	EventBounds(ctx context.Context) (first, last int64, err error)
}

// Listener is implemented by stores that wake log readers at commits.
type Listener interface {
	Listen(ctx context.Context) (<-chan int64, error)
}

// DefaultSchedule is the delay before each retry: about a day in all.
var DefaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Config tunes a Deliverer; zero fields take the defaults.
type Config struct {
	Schedule []time.Duration
	// Timeout bounds one attempt, connection to last byte (15 s).
	Timeout time.Duration
	// PollInterval bounds how long a change no wake-up announces waits.
	PollInterval time.Duration
	// MaxInFlight bounds concurrent attempts (one per endpoint at most).
	MaxInFlight int
	// ReadBatch is how many log events one fan-out reads.
	ReadBatch int
	// MaxChain bounds how many messages of one endpoint an attempt's
	// goroutine delivers in a row before its slot goes back to the
	// oldest due message of any endpoint (256): a busy endpoint drains
	// fast without keeping others waiting for a slot.
	MaxChain int
	// MaxRun is how many of an endpoint's messages one lease takes (64).
	// They are still POSTed one at a time, in order; the run only spares
	// each its own lease and lets its record commit behind the next POST.
	MaxRun int
	// Retention is how long delivered and failed messages and the
	// delivery log are kept (7 days; longer than the retry schedule).
	Retention time.Duration
	// PruneInterval is how often the expired ones are deleted (1 h).
	PruneInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.Schedule == nil {
		c.Schedule = DefaultSchedule
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 256
	}
	if c.ReadBatch <= 0 {
		c.ReadBatch = 500
	}
	if c.MaxChain <= 0 {
		c.MaxChain = 256
	}
	if c.MaxRun <= 0 {
		c.MaxRun = 64
	}
	if c.Retention <= 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.PruneInterval <= 0 {
		c.PruneInterval = time.Hour
	}
	return c
}

// maxResponseBody is how much of a response the delivery log keeps.
const maxResponseBody = 1024

// Deliverer fans the log out to endpoints and delivers their messages.
type Deliverer struct {
	store  Store
	log    Log
	client *http.Client
	cfg    Config
	lg     *slog.Logger
	owner  string
	now    func() time.Time

	wake     chan struct{}
	changes  atomic.Uint64  // counts Wake calls: runs re-read their endpoint after one
	finishes chan finishReq // to the finisher (finish.go)
	mu       sync.Mutex
	inflight map[string]bool // endpoint ids with an attempt running here
	wg       sync.WaitGroup
	// Read and written by Run's goroutine only:
	skip      skipSpan
	endpoints bool            // whether any endpoint was registered at the last full step
	queuedFor map[string]bool // endpoints the step queued messages for
}

// NewDeliverer returns a Deliverer reading log and queueing in st,
// connecting through g.
func NewDeliverer(st Store, log Log, g *Guard, cfg Config, lg *slog.Logger) *Deliverer {
	cfg = cfg.withDefaults()
	if lg == nil {
		lg = slog.Default()
	}
	return &Deliverer{store: st, log: log, client: g.Client(cfg.Timeout), cfg: cfg, lg: lg,
		owner: newID("node_"), now: time.Now, wake: make(chan struct{}, 1), finishes: make(chan finishReq, finishQueue),
		inflight: map[string]bool{}, queuedFor: map[string]bool{}}
}

// Wake makes the deliverer look for work now, and the runs under way
// read their endpoint again before their next attempt: the Manager calls
// it after every change of an endpoint.
func (d *Deliverer) Wake() {
	d.changes.Add(1)
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run fans out and delivers until ctx ends, then waits for the attempts
// under way.
func (d *Deliverer) Run(ctx context.Context) error {
	stop := d.startFinisher(context.WithoutCancel(ctx))
	defer stop()
	if err := d.initPosition(ctx); err != nil {
		return err
	}
	var hints <-chan int64
	if l, ok := d.log.(Listener); ok {
		if ch, err := l.Listen(ctx); err == nil {
			hints = ch
		}
	}
	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	d.prune(ctx)
	prune := time.NewTicker(d.cfg.PruneInterval)
	defer prune.Stop()
	full := true
	for {
		d.step(ctx, full)
		// A commit's wake-up only looks for new webhook events; the poll
		// and Wake (an attempt ended, an endpoint changed) also re-read
		// the stored position and look for due messages.
		full = true
		select {
		case <-ctx.Done():
			return nil
		case <-prune.C:
			d.prune(ctx)
		case _, ok := <-hints:
			if !ok {
				hints = nil
			}
			full = false
		case <-d.wake:
		case <-tick.C:
		}
	}
}

// initPosition starts a new database's fan-out at the log's head: an
// endpoint receives the events after its registration only.
func (d *Deliverer) initPosition(ctx context.Context) error {
	if _, ok, err := d.store.WebhookPosition(ctx); err != nil || ok {
		return err
	}
	_, last, err := d.log.EventBounds(ctx)
	if err != nil {
		return err
	}
	return d.store.InitWebhookPosition(ctx, last)
}

// step fans out what is new and starts due attempts. A step that is not
// full trusts the position it last knew (a stale one only makes the
// fan-out's compare-and-set fail, and the position is read again) and
// dispatches only when it queued messages for an endpoint with no
// attempt running here: on every node every search wakes it, so it
// should cost one read of the log, and a running attempt takes its
// endpoint's new messages itself (or, ending, wakes a full step).
func (d *Deliverer) step(ctx context.Context, full bool) {
	if full {
		d.skip.known = false
	}
	clear(d.queuedFor)
	for {
		more, err := d.fanOut(ctx, !full)
		if err != nil {
			if ctx.Err() == nil {
				d.lg.WarnContext(ctx, "webhooks: fan-out failed; retrying at the next poll", "err", err)
			}
			break
		}
		if !more {
			break
		}
	}
	if !full && !d.idleQueued() {
		return
	}
	if err := d.dispatch(ctx); err != nil && ctx.Err() == nil {
		d.lg.WarnContext(ctx, "webhooks: reading due messages failed; retrying at the next poll", "err", err)
	}
}

// skipSpan is the part of the log after the stored position that this
// deliverer has read and found nothing to queue in. Moving the stored
// position over such a span costs a write transaction, and every search
// appends search.performed, every write its own event: so the span is
// held here and written with the next event that may be queued, or once
// it is PollInterval old.
//
// While no endpoint is registered the span holds webhook events too
// (held): most services have none, and they would otherwise pay a write
// transaction for about every write. Held events are fanned out with the
// span, in its transaction, so an endpoint registered meanwhile on any
// node is checked against them as it would have been one at a time; a
// node that fans out first moves the position, and the span is dropped.
// A disabled endpoint counts as registered: enabled again before the
// span is written, it would get the events of its disabled time.
type skipSpan struct {
	from, to int64 // the stored position it starts at; the last event read
	since    time.Time
	known    bool             // from is the stored position as last read or written here
	held     []*memoryd.Event // webhook events in the span, read while no endpoint was registered
}

// idleQueued reports whether the step queued messages for an endpoint
// with no attempt running here.
func (d *Deliverer) idleQueued() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id := range d.queuedFor {
		if !d.inflight[id] {
			return true
		}
	}
	return false
}

// fanOut queues one batch of the log, noting in queuedFor the endpoints
// it queued messages for; more reports a full batch. Woken by a commit,
// it takes the events from the store's memory when they are all there.
func (d *Deliverer) fanOut(ctx context.Context, woken bool) (more bool, err error) {
	if !d.skip.known {
		pos, _, err := d.store.WebhookPosition(ctx)
		if err != nil {
			return false, err
		}
		if d.skip.from != pos || d.skip.to < pos {
			d.skip = skipSpan{from: pos, to: pos} // another node moved it
		}
		if d.endpoints, err = d.store.HasEndpoints(ctx); err != nil {
			return false, err
		}
		d.skip.known = true
	}
	pos := d.skip.from
	evs, err := memoryd.ReadAfter(ctx, d.log, d.skip.to, d.cfg.ReadBatch, woken)
	if err != nil {
		return false, err
	}
	to := d.skip.to
	if len(evs) > 0 {
		if evs[0].Seq > to+1 {
			d.lg.WarnContext(ctx, "webhooks: events after the fan-out position were pruned before delivery",
				"position", to, "first", evs[0].Seq)
		}
		to = evs[len(evs)-1].Seq
	}
	if to == pos {
		return false, nil
	}
	want := d.skip.held
	for _, e := range evs {
		if isWebhookType(e.Type) {
			want = append(want, e)
		}
	}
	fullBatch := len(evs) == d.cfg.ReadBatch
	if d.skip.to == pos {
		d.skip.since = d.now()
	}
	hold := len(want) == 0 || !d.endpoints && len(want) < d.cfg.ReadBatch
	if hold && d.now().Sub(d.skip.since) < d.cfg.PollInterval {
		d.skip.to, d.skip.held = to, want
		return fullBatch, nil
	}
	err = d.store.FanOut(ctx, pos, to, want, func(e *Endpoint, ev *memoryd.Event) (*Message, error) {
		d.queuedFor[e.ID] = true
		return buildMessage(e, ev)
	})
	if errors.Is(err, ErrMoved) {
		d.skip = skipSpan{}
		return true, nil // another node did it; read on from where it left
	}
	if err != nil {
		d.skip.known = false
		return false, err
	}
	d.skip = skipSpan{from: to, to: to, known: true}
	return fullBatch, nil
}

func isWebhookType(t string) bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// messageID is the webhook-id of event seq for endpoint e: the same
// whichever node fans it out, however often.
func messageID(endpointID string, seq int64) string {
	return fmt.Sprintf("msg_%s_%d", strings.TrimPrefix(endpointID, "wh_"), seq)
}

// buildMessage is the message of ev for endpoint e.
func buildMessage(e *Endpoint, ev *memoryd.Event) (*Message, error) {
	body, err := json.Marshal(events.WebhookMessage{Type: ev.Type, Timestamp: ev.CreatedAt.UTC(), Data: ev.Payload})
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	return &Message{ID: messageID(e.ID, ev.Seq), EndpointID: e.ID, Seq: ev.Seq, Type: ev.Type, Body: body,
		Status: StatusPending, NextAt: now, CreatedAt: now}, nil
}

// dispatch starts an attempt for every due message whose endpoint has
// none running here, within MaxInFlight.
func (d *Deliverer) dispatch(ctx context.Context) error {
	d.mu.Lock()
	room := d.cfg.MaxInFlight - len(d.inflight)
	d.mu.Unlock()
	if room <= 0 {
		return nil
	}
	now := d.now()
	due, err := d.store.DueMessages(ctx, now, room)
	if err != nil {
		return err
	}
	for _, m := range due {
		if !d.claimEndpoint(m.EndpointID) {
			continue
		}
		ok, err := d.store.LeaseMessage(ctx, m.ID, d.owner, now, now.Add(d.leaseFor()))
		if err != nil || !ok {
			d.releaseEndpoint(m.EndpointID)
			if err != nil {
				return err
			}
			continue
		}
		d.wg.Add(1)
		go d.deliver(ctx, m, now.Add(d.leaseFor()))
	}
	return nil
}

func (d *Deliverer) claimEndpoint(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inflight[id] {
		return false
	}
	d.inflight[id] = true
	return true
}

func (d *Deliverer) releaseEndpoint(id string) {
	d.mu.Lock()
	delete(d.inflight, id)
	d.mu.Unlock()
}

// deliver attempts m, then the endpoint's next messages while each is due
// at once: a busy endpoint's queue drains without waiting for a poll of
// every endpoint. It stops taking new messages when ctx ends.
func (d *Deliverer) deliver(ctx context.Context, m *Message, until time.Time) {
	defer d.wg.Done()
	defer d.Wake()
	defer d.releaseEndpoint(m.EndpointID)
	r := &run{d: d, queue: []leased{{m, until}}}
	r.attempt(ctx)
}

// leased is a message of a run and when its lease ends.
type leased struct {
	m     *Message
	until time.Time
}

// run POSTs an endpoint's leased messages in log order, each only once
// the one before it was delivered. Attempts are recorded behind the POSTs
// (the finisher batches them). While messages are left, one record at a
// time also extends the run with the messages queued after it, so the
// endpoint does not wait for a commit between runs; when the run is down
// to its last message with no extension coming, that message's record is
// waited for and leases the endpoint's next run from its head. Whatever
// the run does not attempt is released.
type run struct {
	d      *Deliverer
	queue  []leased
	ext    chan Finished // the answer to extOf, not yet taken; nil: none asked
	extOf  Finish        // the record that asked for an extension (Next)
	done   int           // messages attempted
	ep     *Endpoint
	epRead uint64 // d.changes when ep was read
	epAt   int    // done when ep was read
}

func (r *run) attempt(ctx context.Context) {
	d := r.d
	// The attempts and their records outlive ctx: a node stopping
	// finishes the POST it began.
	live := context.WithoutCancel(ctx)
	for len(r.queue) > 0 {
		r.takeExtension(false)
		m, until := r.queue[0].m, r.queue[0].until
		if !r.mayAttempt(ctx, live, m, until) {
			d.finish(Finish{Release: r.rest()})
			return
		}
		a := &Attempt{ID: memoryd.NewSortableID("att_"), EndpointID: m.EndpointID, MessageID: m.ID, EventType: m.Type,
			N: m.Attempts + 1, At: d.now().UTC()}
		d.post(live, r.ep, m, a)
		r.queue, r.done = r.queue[1:], r.done+1
		f := Finish{Attempt: a, Outcome: d.outcome(a)}
		if f.Outcome.Status != StatusDelivered {
			f.Release = r.rest() // they wait for this one's retry
			d.finish(f)
			return
		}
		r.recordDelivered(f, r.done < d.cfg.MaxChain && ctx.Err() == nil)
	}
}

// recordDelivered records a delivered attempt: behind the POSTs while
// the run has messages left, asking for an extension when none is under
// way and more may follow; waited for when it was the run's last, and
// then leasing the endpoint's next run when more may follow.
func (r *run) recordDelivered(f Finish, more bool) {
	d := r.d
	if len(r.queue) == 0 && r.ext != nil {
		// The next messages are the extension's, if it leased any.
		r.takeExtension(true)
	}
	switch {
	case len(r.queue) > 0 && more && r.ext == nil:
		f.Next = r.lease(r.queue[len(r.queue)-1].m)
		r.ext, r.extOf = d.recordReplied(f), f
	case len(r.queue) > 0:
		d.record(f)
	case more:
		f.Next = r.lease(nil)
		r.add(f.Next.Until, d.finish(f))
	default:
		d.finish(f)
	}
}

// mayAttempt reports whether m may be attempted now: the endpoint is
// still there and enabled, the node is not stopping, and m's lease
// outlasts the attempt. The endpoint is read again after a change made
// through this node, and every MaxRun messages: a change made through
// another node reaches the run within that many.
func (r *run) mayAttempt(ctx, live context.Context, m *Message, until time.Time) bool {
	d := r.d
	if c := d.changes.Load(); r.ep == nil || c != r.epRead || r.done-r.epAt >= d.cfg.MaxRun {
		ep, err := d.store.EndpointByID(live, m.EndpointID)
		if err != nil {
			// Deleted meanwhile (its messages went with it) or
			// unreadable: the rest goes back to the queue.
			return false
		}
		r.ep, r.epRead, r.epAt = ep, c, r.done
	}
	return r.ep.Enabled && ctx.Err() == nil && !d.now().Add(d.cfg.Timeout+leaseMargin).After(until)
}

// lease asks for the messages after tail (nil: the endpoint's head).
func (r *run) lease(tail *Message) *Lease {
	now := r.d.now()
	return &Lease{Now: now, Until: now.Add(r.d.leaseFor()), Max: r.d.cfg.MaxRun, After: tail}
}

// takeExtension adds the extension's messages to the queue once it is
// answered; wait waits for the answer.
func (r *run) takeExtension(wait bool) {
	if r.ext == nil {
		return
	}
	var res Finished
	if wait {
		res = <-r.ext
	} else {
		select {
		case res = <-r.ext:
		default:
			return
		}
	}
	r.ext = nil
	r.add(r.extOf.Next.Until, res.Next)
	r.d.warnUnrecorded(r.extOf, res.Err)
}

// add queues messages leased until `until`.
func (r *run) add(until time.Time, ms []*Message) {
	for _, m := range ms {
		r.queue = append(r.queue, leased{m, until})
	}
}

// rest is the ids of the messages the run will not attempt, the
// extension's included.
func (r *run) rest() []string {
	r.takeExtension(true)
	out := make([]string, len(r.queue))
	for i, l := range r.queue {
		out[i] = l.m.ID
	}
	r.queue = nil
	return out
}

// leaseFor is how long a node holds a run: longer than one attempt's own
// limit and leaseMargin, so the run's first attempt is always recorded
// under it; a run stops before an attempt that could outlast it.
func (d *Deliverer) leaseFor() time.Duration { return 2*d.cfg.Timeout + 2*leaseMargin }

// leaseMargin is what an attempt leaves before its lease ends, for its
// record to commit.
const leaseMargin = 15 * time.Second

// post sends m to ep and fills a in.
func (d *Deliverer) post(ctx context.Context, ep *Endpoint, m *Message, a *Attempt) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	start := time.Now()
	defer func() { a.Latency = time.Since(start) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, strings.NewReader(string(m.Body)))
	if err != nil {
		a.Error = "bad URL: " + err.Error()
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "memoryd-webhooks")
	if err := setHeaders(req.Header, ep, m.ID, a.At, m.Body); err != nil {
		a.Error = "signing failed: " + err.Error()
		return
	}
	resp, err := d.client.Do(req)
	if err != nil {
		a.Error = describe(err, d.cfg.Timeout)
		return
	}
	defer resp.Body.Close()
	a.StatusCode = resp.StatusCode
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	a.ResponseBody = strings.ToValidUTF8(string(b), string(utf8.RuneError))
}

// describe names a failure without a response; a timeout names its limit.
func describe(err error, limit time.Duration) string {
	if errors.Is(err, ErrRefused) {
		var s string
		for e := err; e != nil; e = errors.Unwrap(e) {
			s = e.Error()
			if errors.Is(e, ErrRefused) && !strings.Contains(s, "dial") {
				break
			}
		}
		return s
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return fmt.Sprintf("no complete response within the %s attempt limit", limit)
	}
	return err.Error()
}

// outcome decides the message's next state after attempt a.
func (d *Deliverer) outcome(a *Attempt) Outcome {
	switch {
	case a.Success():
		return Outcome{Status: StatusDelivered}
	case a.StatusCode == http.StatusGone:
		return Outcome{Status: StatusFailed, Disable: "the endpoint answered 410 Gone"}
	case a.N > len(d.cfg.Schedule):
		return Outcome{Status: StatusFailed}
	}
	delay := d.cfg.Schedule[a.N-1]
	jitter := time.Duration(float64(delay) * (rand.Float64()*0.4 - 0.2))
	return Outcome{Status: StatusPending, NextAt: d.now().UTC().Add(delay + jitter)}
}
