package drills

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// outage is how long a stopped dependency stays away.
const outage = 5 * time.Second

// postgresRestart: PostgreSQL stops under 16 writers (8 per node) and
// starts again after a while. Meanwhile every answer must be a write's
// acknowledgement or the documented 503 UNAVAILABLE (never 500); the nodes
// must reconnect by themselves; streams on both nodes, resumed from their
// last id when they end, must deliver the log without gap or duplicate.
func postgresRestart(ctx context.Context, env *Env) error {
	const ws = "drill-postgres"
	c, err := setup(ctx, env, ws)
	if err != nil {
		return err
	}
	var streams []*running
	for _, base := range []string{env.A, env.B} {
		r, err := follow(ctx, newFollower(c, base))
		if err != nil {
			return err
		}
		defer r.stop()
		streams = append(streams, r)
	}
	w := newWriters(c, ws)
	var nodes []string
	for i := range 16 {
		nodes = append(nodes, []string{env.A, env.B}[i%2])
	}
	wctx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); w.run(ctx, nodes, stay, 0) }()
	probe := newProber(c, "database", []string{"200", "503 UNAVAILABLE"}, env.A, env.B)
	go func() { defer wg.Done(); probe.run(wctx) }()
	defer func() { w.halt(); stopLoad(); wg.Wait() }()

	sleep(ctx, before)
	if err := within(ctx, faultLimit, "stopping PostgreSQL", env.Faults.StopPostgres); err != nil {
		return err
	}
	stopped := time.Now()
	probe.setOutage(true)
	sleep(ctx, outage)
	if err := within(ctx, faultLimit, "starting PostgreSQL", env.Faults.StartPostgres); err != nil {
		return err
	}
	back := time.Now()
	probe.setOutage(false)
	w.setMark(back)
	err = poll(ctx, recoverLimit, "writers served again after PostgreSQL's start", 50*time.Millisecond,
		func(context.Context) (bool, error) { _, ok := w.servedAgain(); return ok, nil })
	if err != nil {
		return fmt.Errorf("%w (answers:%s)", err, w.answersString())
	}
	served, _ := w.servedAgain()
	readyAgain, err := bothReady(ctx, c, env, "nodes ready after PostgreSQL's start", nil)
	if err != nil {
		return err
	}
	sleep(ctx, before)
	w.halt()
	stopLoad()
	wg.Wait()

	var errs []string
	acked, per := w.acks()
	found, total, err := c.list(ctx, env.B)
	if err != nil {
		return err
	}
	lost := missing(acked, found)
	fmt.Fprintf(env.Out, "  PostgreSQL away %s (stop to ready)\n", back.Sub(stopped).Round(time.Millisecond))
	fmt.Fprintf(env.Out, "  acknowledged %d (node A %d, node B %d; %d were 200 updates), listed %d of %d, lost %d\n",
		len(acked), per[env.A], per[env.B], updates(acked), len(acked)-len(lost), total, len(lost))
	fmt.Fprintf(env.Out, "  write answers:%s\n", w.answersString())
	fmt.Fprintf(env.Out, "  while away: %s\n", probe)
	fmt.Fprintf(env.Out, "  every writer served again %s after PostgreSQL was ready; both /ready 200 after %s\n",
		served.Round(time.Millisecond), readyAgain.Round(time.Millisecond))
	if bad := w.unexpected("200", "201", "503 UNAVAILABLE"); len(bad) > 0 {
		errs = append(errs, fmt.Sprintf("writes answered otherwise than 2xx or the documented 503: %v", bad))
	}
	if w.answers.n["503 UNAVAILABLE"] == 0 {
		errs = append(errs, "no write was answered 503 UNAVAILABLE while PostgreSQL was away")
	}
	errs = append(errs, probe.problems()...)
	if len(lost) > 0 {
		errs = append(errs, fmt.Sprintf("%d acknowledged writes missing (e.g. %s)", len(lost), lost[0]))
	}
	for i, r := range streams {
		name := []string{"node A", "node B"}[i]
		sc, err := checkStream(ctx, env, ws, r.f, name)
		fmt.Fprintf(env.Out, "  stream on %s: %s; %s\n", name, sc, r.f.summary())
		if err != nil {
			errs = append(errs, err.Error())
		} else if !sc.ok() {
			errs = append(errs, "stream on "+name+": "+sc.String())
		}
	}
	return joinErrs(errs)
}

// bothReady waits until both nodes' /ready answer 200 (and check, when
// given, accepts their checks); it returns how long that took.
func bothReady(ctx context.Context, c *client, env *Env, step string, check func(map[string]string) bool) (time.Duration, error) {
	start := time.Now()
	err := poll(ctx, recoverLimit, step, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		for _, base := range []string{env.A, env.B} {
			code, checks, err := c.ready(ctx, base)
			if err != nil || code != http.StatusOK || (check != nil && !check(checks)) {
				return false, fmt.Errorf("%s: %d %v %v", base, code, checks, err)
			}
		}
		return true, nil
	})
	return time.Since(start), err
}

// prober reads from both nodes while a dependency is away: a list page and
// /ready, tallying the answers.
type prober struct {
	c       *client
	nodes   []string
	check   string   // the /ready check the dependency is reported under
	readsOK []string // what reads may answer meanwhile

	mu     sync.Mutex
	away   bool
	reads  *tally
	ready  *tally
	checks map[string]bool
}

func newProber(c *client, check string, readsOK []string, nodes ...string) *prober {
	return &prober{c: c, nodes: nodes, check: check, readsOK: readsOK,
		reads: newTally(), ready: newTally(), checks: map[string]bool{}}
}

func (p *prober) setOutage(on bool) {
	p.mu.Lock()
	p.away = on
	p.mu.Unlock()
}

// run probes until ctx ends: reads and /ready in loops of their own, so
// a read that hangs while the dependency is away does not hold back the
// /ready probes. An answer counts as "while away" when its request was
// sent during the outage, however late it comes.
func (p *prober) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.loop(ctx, p.read) }()
	go func() { defer wg.Done(); p.loop(ctx, p.probeReady) }()
	wg.Wait()
}

func (p *prober) loop(ctx context.Context, probe func(ctx context.Context, base string)) {
	for ctx.Err() == nil {
		for _, base := range p.nodes {
			probe(ctx, base)
		}
		sleep(ctx, 200*time.Millisecond)
	}
}

func (p *prober) outage() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.away
}

func (p *prober) read(ctx context.Context, base string) {
	away := p.outage()
	r := p.c.do(ctx, http.MethodGet, base+"/api/v1/memory?limit=1", nil)
	if !away || ctx.Err() != nil {
		return
	}
	kind, _ := classify(r)
	p.mu.Lock()
	p.reads.add(kind, fmt.Sprintf("%s: %v %.200s", base, r.err, r.body))
	p.mu.Unlock()
}

func (p *prober) probeReady(ctx context.Context, base string) {
	away := p.outage()
	code, checks, err := p.c.ready(ctx, base)
	if !away || ctx.Err() != nil {
		return
	}
	p.mu.Lock()
	p.ready.add(fmt.Sprint(code), fmt.Sprint(err))
	p.checks[p.check+"="+checks[p.check]] = true
	p.mu.Unlock()
}

func (p *prober) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("reads %v, /ready %v (checks seen %v)", p.reads, p.ready, keys(p.checks))
}

// problems lists what the reads and readiness did wrong while away.
func (p *prober) problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k, n := range p.reads.n {
		if !slices.Contains(p.readsOK, k) {
			out = append(out, fmt.Sprintf("%d reads answered %s (e.g. %s)", n, k, p.reads.example[k]))
		}
	}
	if p.ready.n["503"] == 0 || !p.checks[p.check+"=unavailable"] {
		out = append(out, fmt.Sprintf("/ready never answered 503 with %s unavailable while away: %v %v",
			p.check, p.ready, keys(p.checks)))
	}
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
