package sqlstore

import (
	"context"
	"sync"
)

// SendLatest delivers seq on a wake-up channel without blocking: a
// pending, older hint is replaced, since a reader only needs to know that
// something is new (it reads by position).
func SendLatest(ch chan int64, seq int64) {
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

// Wakeups fans commit notifications out to a process's log tailers.
type Wakeups struct {
	mu   sync.Mutex
	subs map[chan int64]struct{}
}

// NewWakeups returns Wakeups without subscribers.
func NewWakeups() *Wakeups { return &Wakeups{subs: map[chan int64]struct{}{}} }

// Subscribe returns a channel that receives the newest notified position
// until ctx ends or CloseAll, then is closed.
func (w *Wakeups) Subscribe(ctx context.Context) <-chan int64 {
	ch := make(chan int64, 1)
	w.mu.Lock()
	w.subs[ch] = struct{}{}
	w.mu.Unlock()
	go func() {
		<-ctx.Done()
		w.unsubscribe(ch)
	}()
	return ch
}

func (w *Wakeups) unsubscribe(ch chan int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.subs[ch]; ok {
		delete(w.subs, ch)
		close(ch)
	}
}

// Notify wakes every subscriber with seq.
func (w *Wakeups) Notify(seq int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs {
		SendLatest(ch, seq)
	}
}

// CloseAll ends every subscription: the subscribers subscribe again.
func (w *Wakeups) CloseAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs {
		delete(w.subs, ch)
		close(ch)
	}
}
