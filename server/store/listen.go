package store

import (
	"context"
	"strconv"
	"sync"

	"github.com/uptrace/bun/driver/pgdriver"
)

// Listen returns a channel that receives the position of newly appended
// events (a wake-up hint; readers still read by position) until ctx ends.
// On PostgreSQL it follows NOTIFY, so writes of other nodes wake it too.
func (s *Store) Listen(ctx context.Context) (<-chan int64, error) {
	if !s.pg {
		return s.wake.subscribe(ctx), nil
	}
	ln := pgdriver.NewListener(s.db)
	if err := ln.Listen(ctx, notifyChannel); err != nil {
		ln.Close()
		return nil, err
	}
	out := make(chan int64, 1)
	go func() {
		defer close(out)
		defer ln.Close()
		ch := ln.Channel(pgdriver.WithChannelSize(1024))
		for {
			select {
			case <-ctx.Done():
				return
			case n, ok := <-ch:
				if !ok {
					return
				}
				seq, _ := strconv.ParseInt(n.Payload, 10, 64)
				sendLatest(out, seq)
			}
		}
	}()
	return out, nil
}

// sendLatest delivers seq without blocking: a pending, older hint is
// replaced, since a reader only needs to know that something is new.
func sendLatest(ch chan int64, seq int64) {
	for {
		select {
		case ch <- seq:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// wakeups fans commit notifications out to in-process subscribers.
type wakeups struct {
	mu   sync.Mutex
	subs map[chan int64]struct{}
}

func newWakeups() *wakeups { return &wakeups{subs: map[chan int64]struct{}{}} }

func (w *wakeups) subscribe(ctx context.Context) <-chan int64 {
	ch := make(chan int64, 1)
	w.mu.Lock()
	w.subs[ch] = struct{}{}
	w.mu.Unlock()
	go func() {
		<-ctx.Done()
		w.mu.Lock()
		delete(w.subs, ch)
		close(ch)
		w.mu.Unlock()
	}()
	return ch
}

func (w *wakeups) notify(seq int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs {
		sendLatest(ch, seq)
	}
}
