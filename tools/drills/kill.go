package drills

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// How long the writers run before and after a fault.
const (
	before = 3 * time.Second
	after  = 5 * time.Second
)

// killNodeA: 16 writers on node A fail over to node B when A is killed
// (SIGKILL); every write acknowledged by either node must be there
// afterwards, and a stream on B must deliver the log without gap or
// duplicate. A then starts again on the same database.
func killNodeA(ctx context.Context, env *Env) error {
	const ws = "drill-kill"
	c, err := setup(ctx, env, ws)
	if err != nil {
		return err
	}
	fb, err := follow(ctx, newFollower(c, env.B))
	if err != nil {
		return err
	}
	defer fb.stop()
	w := newWriters(c, ws)
	nodes := make([]string, 16)
	for i := range nodes {
		nodes[i] = env.A
	}
	done := make(chan struct{})
	go func() { w.run(ctx, nodes, failover(env.B), 0); close(done) }()
	defer func() { w.halt(); <-done }()

	sleep(ctx, before)
	if err := within(ctx, faultLimit, "killing node A", env.Faults.KillNodeA); err != nil {
		return err
	}
	killed := time.Now()
	w.setMark(killed)
	err = poll(ctx, recoverLimit, "writers failing over to node B", 50*time.Millisecond,
		func(context.Context) (bool, error) { _, ok := w.servedAgain(); return ok, nil })
	if err != nil {
		return fmt.Errorf("%w (answers:%s)", err, w.answersString())
	}
	failedOver, _ := w.servedAgain()
	sleep(ctx, after)
	w.halt()
	<-done

	var errs []string
	acked, per := w.acks()
	found, total, err := c.list(ctx, env.B)
	if err != nil {
		return err
	}
	lost := missing(acked, found)
	sc, serr := checkStream(ctx, env, ws, fb.f, "node B")
	fmt.Fprintf(env.Out, "  acknowledged %d (node A %d, node B %d; %d were 200 updates of a write A had committed), listed on B %d of %d, lost %d\n",
		len(acked), per[env.A], per[env.B], updates(acked), len(acked)-len(lost), total, len(lost))
	fmt.Fprintf(env.Out, "  answers:%s\n", w.answersString())
	fmt.Fprintf(env.Out, "  stream on B: %s; %s\n", sc, fb.f.summary())
	fmt.Fprintf(env.Out, "  every writer served by B %s after the kill\n", failedOver.Round(time.Millisecond))
	if len(lost) > 0 {
		errs = append(errs, fmt.Sprintf("%d acknowledged writes missing (e.g. %s)", len(lost), lost[0]))
	}
	if total != len(found) || len(found) < len(acked) {
		errs = append(errs, fmt.Sprintf("the list's total %d, ids listed %d, acknowledged %d", total, len(found), len(acked)))
	}
	if serr != nil {
		errs = append(errs, serr.Error())
	} else if !sc.ok() {
		errs = append(errs, "stream on B: "+sc.String())
	}

	start := time.Now()
	err = within(ctx, faultLimit, "starting node A again", func(ctx context.Context) error {
		url, err := env.Faults.StartNodeA(ctx)
		env.A = url
		return err
	})
	if err != nil {
		errs = append(errs, err.Error())
	} else {
		fmt.Fprintf(env.Out, "  node A ready again %s after its start\n", time.Since(start).Round(time.Millisecond))
	}
	return joinErrs(errs)
}

// setup creates the workspace's key and client.
func setup(ctx context.Context, env *Env, ws string) (*client, error) {
	key, err := env.Key(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("creating a key for %s: %w", ws, err)
	}
	return newClient(key, ws), nil
}

// running is a follower with its goroutine.
type running struct {
	f      *follower
	cancel context.CancelFunc
	done   chan struct{}
}

func (r *running) stop() { r.cancel(); <-r.done }

// follow starts f and waits for its first welcome.
func follow(ctx context.Context, f *follower) (*running, error) {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &running{f: f, cancel: cancel, done: make(chan struct{})}
	go func() { f.run(fctx); close(r.done) }()
	err := within(ctx, requestLimit, "opening the stream on "+f.base, func(ctx context.Context) error {
		select {
		case <-f.opened:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%w (%s)", ctx.Err(), f.summary())
		}
	})
	if err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

// missing lists the acknowledged ids not found.
func missing(acked map[string]ackInfo, found map[string]bool) []string {
	var out []string
	for id := range acked {
		if !found[id] {
			out = append(out, id)
		}
	}
	return out
}

// updates counts acknowledgements that were 200: the write had committed
// on an earlier attempt whose answer was lost.
func updates(acked map[string]ackInfo) int {
	n := 0
	for _, a := range acked {
		if a.status == 200 {
			n++
		}
	}
	return n
}

func joinErrs(errs []string) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(errs, "; "))
}
