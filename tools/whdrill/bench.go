package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// bench: o.endpoints endpoints, creates paced at o.rate for o.duration;
// latency is each memory's first arrival at an endpoint minus the
// create's 201 (and minus the memory's created_at, the commit side).
func bench(ctx context.Context, o options, s *server, c *client) error {
	rcvs, err := startReceivers(o.endpoints, func(i int, r *receiver) error {
		sec, err := c.register(ctx, "", r.routeURL(i), o.events)
		if err != nil {
			return err
		}
		return r.setSecret(i, sec)
	})
	defer closeAll(rcvs)
	if err != nil {
		return err
	}
	if err := measure(ctx, "bench", o, s, c, rcvs, nil); err != nil {
		return err
	}
	rss, thr := s.procStatus()
	fmt.Printf("bench: memoryd after the run with %d endpoints: VmRSS=%s Threads=%s\n", o.endpoints, rss, thr)
	return scale(ctx, o, s)
}

// startReceivers starts n receivers with one endpoint each (route i),
// which setup prepares; it returns those it started, also on error.
func startReceivers(n int, setup func(i int, r *receiver) error) ([]*receiver, error) {
	var rcvs []*receiver
	for i := 0; i < n; i++ {
		r, err := newReceiver()
		if err != nil {
			return rcvs, err
		}
		rcvs = append(rcvs, r)
		if err := setup(i, r); err != nil {
			return rcvs, err
		}
	}
	return rcvs, nil
}

func closeAll(rcvs []*receiver) {
	for _, r := range rcvs {
		r.close()
	}
}

// benchCreates is how many creates bench and floor send.
func (o options) benchCreates() int { return int(o.rate * o.duration.Seconds()) }

// measure sends the paced creates, calls sent (if set) when they are
// done, waits (bounded) for the receivers and reports what they got.
func measure(ctx context.Context, label string, o options, s *server, c *client, rcvs []*receiver, sent func()) error {
	want := o.benchCreates()
	a := newAcks()
	t0, cpu := time.Now(), s.startCPU()
	err := paced(ctx, c, a, o.rate, want, want, o.duration+2*time.Minute, nil)
	if sent != nil {
		sent()
	}
	if err != nil {
		return err
	}
	sendEnd := time.Now()
	fmt.Printf("%s: %d creates acknowledged (%d failed) in %s: %.0f creates/s\n", label,
		a.n.Load(), a.failed.Load(), sendEnd.Sub(t0).Round(time.Millisecond), float64(a.n.Load())/sendEnd.Sub(t0).Seconds())
	ids, at := a.snapshot()
	waitRcvs(rcvs, ids, o.wait)
	cpu.report(label, report(label, rcvs, ids, at, t0, o.timeline))
	return nil
}

func waitRcvs(rcvs []*receiver, ids map[string]bool, limit time.Duration) {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		missing := 0
		for i, r := range rcvs {
			missing += count(ids, r.deliveries(i)).Missing
		}
		if missing == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Printf("bench: the %s wait limit ran out before every delivery arrived\n", limit)
}

// report prints the deliveries' figures and returns how many there were;
// with timeline, also those of each second's creates.
func report(label string, rcvs []*receiver, ids map[string]bool, at map[string]time.Time, t0 time.Time, timeline bool) int {
	var fromAck, fromCommit []time.Duration
	bySecond := map[int][]time.Duration{} // by when the create was acknowledged
	var n, dups, missing int
	last := t0
	for i, r := range rcvs {
		ds := r.deliveries(i)
		t := count(ids, ds)
		dups += t.DupIDs
		missing += t.Missing
		seen := map[string]bool{}
		for _, d := range ds {
			n++
			if d.Arrival.After(last) {
				last = d.Arrival
			}
			if seen[d.MemoryID] || !ids[d.MemoryID] {
				continue
			}
			seen[d.MemoryID] = true
			lat := d.Arrival.Sub(at[d.MemoryID])
			fromAck = append(fromAck, lat)
			sec := int(at[d.MemoryID].Sub(t0) / time.Second)
			bySecond[sec] = append(bySecond[sec], lat)
			fromCommit = append(fromCommit, d.Arrival.Sub(d.CreatedAt))
		}
	}
	fromAck, fromCommit = sortDurations(fromAck), sortDurations(fromCommit)
	el := last.Sub(t0)
	fmt.Printf("%s: %d deliveries to %d endpoints in %s (first create to last arrival): %.0f deliveries/s; missing=%d dup_webhook_id=%d\n", label,
		n, len(rcvs), el.Round(time.Millisecond), float64(n)/el.Seconds(), missing, dups)
	for _, l := range []struct {
		name string
		d    []time.Duration
	}{{"201-to-receiver", fromAck}, {"created_at-to-receiver", fromCommit}} {
		if len(l.d) == 0 {
			continue
		}
		fmt.Printf("%s: latency %s over %d: p50=%s p99=%s max=%s\n", label, l.name, len(l.d),
			ms(pct(l.d, 50)), ms(pct(l.d, 99)), ms(l.d[len(l.d)-1]))
	}
	if timeline {
		printTimeline(label, bySecond)
	}
	return n
}

// printTimeline prints the 201-to-receiver latency of the creates
// acknowledged in each second of the run: a backlog that builds and
// drains shows as a run of slow seconds, a slow start as the first ones.
func printTimeline(label string, bySecond map[int][]time.Duration) {
	last := 0
	for sec := range bySecond {
		last = max(last, sec)
	}
	for sec := 0; sec <= last; sec++ {
		d := sortDurations(bySecond[sec])
		if len(d) == 0 {
			continue
		}
		fmt.Printf("%s: second %d: %d deliveries, 201-to-receiver p50=%s p99=%s max=%s\n", label, sec, len(d),
			ms(pct(d, 50)), ms(pct(d, 99)), ms(d[len(d)-1]))
	}
}

// scale registers o.scale endpoints (100 per workspace, the server's
// limit), all on one receiver, and reads memoryd's RSS and threads idle
// and while o.scaleCreates creates fan out to them.
func scale(ctx context.Context, o options, s *server) error {
	if o.scale <= 0 {
		return nil
	}
	const perWS = 100
	nws := (o.scale + perWS - 1) / perWS
	args := []string{"keys", "create", "--db", s.db}
	for w := 0; w < nws; w++ {
		args = append(args, "--workspace", fmt.Sprintf("scale%d", w))
	}
	out, err := exec.CommandContext(ctx, s.bin, args...).Output()
	if err != nil {
		return fmt.Errorf("memoryd keys create: %w", err)
	}
	c := newClient(s.base(), strings.TrimSpace(string(out)))
	r, err := newReceiver()
	if err != nil {
		return err
	}
	defer r.close()
	rss, thr := s.procStatus()
	fmt.Printf("scale: before registering: VmRSS=%s Threads=%s\n", rss, thr)
	for i := 0; i < o.scale; i++ {
		sec, err := c.register(ctx, fmt.Sprintf("scale%d", i/perWS), r.routeURL(i), o.events)
		if err != nil {
			return err
		}
		if err := r.setSecret(i, sec); err != nil {
			return err
		}
	}
	time.Sleep(3 * time.Second)
	rss, thr = s.procStatus()
	fmt.Printf("scale: %d endpoints registered in %d workspaces, idle: VmRSS=%s Threads=%s\n", o.scale, nws, rss, thr)
	return scaleLoad(ctx, o, s, c, r, nws)
}

// scaleLoad creates o.scaleCreates memories in each scale workspace and
// samples RSS and threads until every endpoint has them (bounded).
func scaleLoad(ctx context.Context, o options, s *server, c *client, r *receiver, nws int) error {
	for w := 0; w < nws; w++ {
		for k := 0; k < o.scaleCreates; k++ {
			if _, err := c.post(ctx, fmt.Sprintf("scale%d", w), "/memory", map[string]any{"text": fmt.Sprintf("scale memory %d", k)}, nil); err != nil {
				return err
			}
		}
	}
	want := o.scale * o.scaleCreates
	start, end := time.Now(), time.Now().Add(o.wait)
	var peakRSS, peakThr string
	var peakKB, peakT int
	for time.Now().Before(end) {
		rss, thr := s.procStatus()
		var kb, t int
		fmt.Sscanf(rss, "%d", &kb)
		fmt.Sscanf(thr, "%d", &t)
		if kb > peakKB {
			peakKB, peakRSS = kb, rss
		}
		if t > peakT {
			peakT, peakThr = t, thr
		}
		if len(r.deliveries(-1)) >= want {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	got := len(r.deliveries(-1))
	fmt.Printf("scale: %d creates x %d endpoints: %d/%d deliveries in %s (%.0f/s); peak VmRSS=%s peak Threads=%s\n",
		o.scaleCreates, o.scale, got, want, time.Since(start).Round(time.Millisecond), float64(got)/time.Since(start).Seconds(), peakRSS, peakThr)
	return nil
}
