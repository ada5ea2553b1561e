package sqlite

import (
	"context"
	"sync"

	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// Listen returns a channel that receives the position of newly appended
// events (a wake-up hint; readers still read by position) until ctx ends.
// It hears this process's commits; the event hub's poll finds what
// another process writes to the same file.
func (s *Store) Listen(ctx context.Context) (<-chan int64, error) {
	return s.wake.subscribe(ctx), nil
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
		sqlstore.SendLatest(ch, seq)
	}
}
