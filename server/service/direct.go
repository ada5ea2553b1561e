package service

import "sync"

// directMax bounds how many positions direct remembers: a node whose log
// follower lags further behind its own writes than that reads the oldest
// back from the store, which is only slower.
const directMax = 1 << 16

// direct remembers the log positions of the changes whose index update
// this node made itself, right after the write and under its lock, so the
// log follower need not read those memories back from the store.
type direct struct {
	mu   sync.Mutex
	seqs map[int64]struct{}
	ring [directMax]int64 // the newest positions added, oldest overwritten
	next int
}

func (d *direct) add(seq int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seqs == nil {
		d.seqs = make(map[int64]struct{})
	}
	delete(d.seqs, d.ring[d.next]) // forget the oldest, taken or not
	d.ring[d.next] = seq
	d.next = (d.next + 1) % directMax
	d.seqs[seq] = struct{}{}
}

func (d *direct) take(seq int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.seqs[seq]
	delete(d.seqs, seq)
	return ok
}

// AppliedDirectly reports, once, whether this node's index already holds
// the change at log position seq because the node made it: the write
// updated the index itself under the memory's lock, so the index holds
// that state or a newer one, and the follower may skip the event.
func (s *Service) AppliedDirectly(seq int64) bool { return s.direct.take(seq) }
