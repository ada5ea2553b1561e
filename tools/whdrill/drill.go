package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// drill: 3 endpoints, the first failing for o.failFor; memoryd is killed
// with SIGKILL after half the creates are acknowledged and restarted on
// the same database and port while the creates go on.
func drill(ctx context.Context, o options, s *server, c *client) error {
	const endpoints = 3
	rcv, err := newReceiver()
	if err != nil {
		return err
	}
	defer rcv.close()
	for i := 0; i < endpoints; i++ {
		sec, err := c.register(ctx, "", rcv.routeURL(i), o.events)
		if err != nil {
			return err
		}
		if err := rcv.setSecret(i, sec); err != nil {
			return err
		}
	}
	t0 := time.Now()
	rcv.failFor(0, t0.Add(o.failFor))
	fmt.Printf("drill: endpoint 0 answers 500 until %s (+%s)\n", t0.Add(o.failFor).Format(time.TimeOnly), o.failFor)

	a := newAcks()
	var killed atomic.Bool
	var restart sync.WaitGroup
	var restartErr error
	hook := func() {
		if int(a.n.Load()) < o.creates/2 || !killed.CompareAndSwap(false, true) {
			return
		}
		s.kill9()
		fmt.Printf("drill: kill -9 at +%s after %d acknowledged creates\n", time.Since(t0).Round(time.Millisecond), a.n.Load())
		restart.Add(1)
		go func() {
			defer restart.Done()
			restartErr = s.start(ctx)
			fmt.Printf("drill: memoryd restarted and healthy at +%s\n", time.Since(t0).Round(time.Millisecond))
		}()
	}
	maxTries := o.creates + int(o.rate*120)
	if err := paced(ctx, c, a, o.rate, o.creates, maxTries, 5*time.Minute, hook); err != nil {
		return err
	}
	restart.Wait()
	if restartErr != nil {
		return restartErr
	}
	fmt.Printf("drill: creates done at +%s: %d acknowledged, %d failed\n", time.Since(t0).Round(time.Millisecond), a.n.Load(), a.failed.Load())
	ids, _ := a.snapshot()
	waitAll(rcv, ids, endpoints, o.wait, t0)
	for i := 0; i < endpoints; i++ {
		ds := rcv.deliveries(i)
		role := "healthy"
		if i == 0 {
			role = "failing for " + o.failFor.String()
		}
		last := time.Time{}
		for _, d := range ds {
			if d.Arrival.After(last) {
				last = d.Arrival
			}
		}
		fmt.Printf("endpoint %d (%s): %s last_arrival=+%s\n", i, role, count(ids, ds), last.Sub(t0).Round(time.Second))
	}
	refused, bad := rcv.counters()
	fmt.Printf("receiver: 500s answered on purpose=%d, rejected (signature/body)=%d\n", refused, bad)
	return nil
}

// waitAll waits, at most limit, until every endpoint has every
// acknowledged memory, and prints progress every 15 s.
func waitAll(rcv *receiver, ids map[string]bool, endpoints int, limit time.Duration, t0 time.Time) {
	end := time.Now().Add(limit)
	next := time.Now()
	for {
		missing := 0
		for i := 0; i < endpoints; i++ {
			missing += count(ids, rcv.deliveries(i)).Missing
		}
		if missing == 0 {
			fmt.Printf("drill: every endpoint has every acknowledged memory at +%s\n", time.Since(t0).Round(time.Second))
			return
		}
		if time.Now().After(end) {
			fmt.Printf("drill: the %s wait limit ran out with %d (endpoint, memory) pairs missing\n", limit, missing)
			return
		}
		if time.Now().After(next) {
			fmt.Printf("drill: +%s missing pairs=%d\n", time.Since(t0).Round(time.Second), missing)
			next = next.Add(15 * time.Second)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
