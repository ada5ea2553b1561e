package events

import (
	"encoding/json"
	"sync"
)

// entry is one log event as the hub shares it with every connection. It is
// immutable once in the ring, so connections use it without locks.
type entry struct {
	seq     int64
	ws      string
	typ     string
	frame   []byte // the whole SSE message, encoded once
	payload []byte

	fieldsOnce sync.Once
	fields     map[string]json.RawMessage
}

// matchFields returns the top-level fields metadata filters look at, parsed
// on first use (only filtered connections need them).
func (e *entry) matchFields() map[string]json.RawMessage {
	e.fieldsOnce.Do(func() { e.fields = filterFields(e.payload) })
	return e.fields
}

// ring holds the newest events in seq order. It is complete above floor:
// every event with floor < seq <= head is in it, so a cursor >= floor can be
// served from memory alone. Not safe for concurrent use; the hub locks it.
type ring struct {
	buf   []*entry
	start int // index of the oldest entry
	n     int
	floor int64
	head  int64
}

func newRing(size int, head int64) *ring {
	return &ring{buf: make([]*entry, size), floor: head, head: head}
}

func (r *ring) at(i int) *entry { return r.buf[(r.start+i)%len(r.buf)] }

// push appends e (e.seq > r.head), evicting the oldest entry when full.
func (r *ring) push(e *entry) {
	if r.n == len(r.buf) {
		r.floor = r.buf[r.start].seq
		r.buf[r.start] = nil
		r.start = (r.start + 1) % len(r.buf)
		r.n--
	}
	r.buf[(r.start+r.n)%len(r.buf)] = e
	r.n++
	r.head = e.seq
}

// after appends to dst the entries with seq > cursor, at most max of them.
// ok is false when cursor is below the floor: the ring cannot tell what
// came right after it.
func (r *ring) after(dst []*entry, cursor int64, max int) ([]*entry, bool) {
	if cursor < r.floor {
		return dst, false
	}
	lo, hi := 0, r.n // first index with seq > cursor
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if r.at(mid).seq <= cursor {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for i := lo; i < r.n && max > 0; i++ {
		dst = append(dst, r.at(i))
		max--
	}
	return dst, true
}
