package e2e

import (
	"fmt"
	"sync"
	"testing"
)

// TestMultiNodeStream runs two memoryd processes on one PostgreSQL. Each
// tails the shared log, so a stream on either node sees the writes made
// through both, in the same order, at the same positions; and a position
// handed out by one node resumes a stream on the other.
func TestMultiNodeStream(t *testing.T) {
	t.Parallel()
	db := pgDSN(t)
	key := createKey(t, db, "team")
	a := startNode(t, "A", db)
	// Started after A is up: both would migrate the empty database at once.
	b := startNode(t, "B", db)
	ca, cb := newClient(a.base, key), newClient(b.base, key)
	sa := openStream(t, a.base, key, "")
	sb := openStream(t, b.base, key, "")
	epochA, seqA := splitPosition(t, sa.welcome.Position)
	epochB, seqB := splitPosition(t, sb.welcome.Position)
	if epochA != epochB {
		t.Fatalf("nodes A and B report different log epochs %q and %q", epochA, epochB)
	}
	start := max(seqA, seqB)

	// Phase 1: writes through A only, one after the other: this is the
	// order both streams must show.
	var want []string
	for i := range 12 {
		id := fmt.Sprintf("seq-%02d", i)
		ca.create(t, id, "first phase "+id)
		want = append(want, "memory.created "+id)
	}
	ca.update(t, "seq-03", "changed on A")
	cb.update(t, "seq-04", "changed on B")
	ca.remove(t, "seq-05")
	want = append(want, "memory.updated seq-03", "memory.updated seq-04", "memory.deleted seq-05")

	// Phase 2: concurrent writers on both nodes; the log decides the order.
	perWriter := concurrentWrites(t, map[string]*client{"a": ca, "b": cb}, 15)
	cb.create(t, "end", "last write, through B")

	logA := untilMemory(t, sa, "end")
	logB := untilMemory(t, sb, "end")
	logA, logB = after(t, logA, start), after(t, logB, start)
	sameEvents(t, "stream on A", logA, "stream on B", logB)
	checkConsecutive(t, start, logA)

	got := memoryEvents(t, logA)
	if len(got) != len(want)+2*15+1 {
		t.Fatalf("%d memory events, want %d: %v", len(got), len(want)+2*15+1, got)
	}
	for i, w := range want {
		if got[i] != w {
			t.Fatalf("memory event %d is %q, want %q (phase 1 order)\n%v", i, got[i], w, got)
		}
	}
	checkWriterOrder(t, got[len(want):len(got)-1], perWriter)

	// A position from node A resumes a stream on node B, without a gap.
	mid := logA[len(logA)/2]
	sc := openStream(t, b.base, key, mid.id)
	resumed := untilMemory(t, sc, "end")
	sameEvents(t, "stream on A after "+mid.id, logA[len(logA)/2+1:], "stream on B resumed there", resumed)
}

// concurrentWrites creates n memories through each client at once, and
// returns the ids each writer created, in its order.
func concurrentWrites(t *testing.T, clients map[string]*client, n int) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	errs := make(chan error, len(clients))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				id := fmt.Sprintf("%s-%02d", name, i)
				if _, err := c.do("POST", "/memory", map[string]string{"id": id, "text": "written through " + name}, nil); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				out[name] = append(out[name], "memory.created "+id)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

// checkWriterOrder fails unless got holds exactly the writers' events,
// each writer's in the order it wrote them.
func checkWriterOrder(t *testing.T, got []string, perWriter map[string][]string) {
	t.Helper()
	next := map[string]int{}
	owner := map[string]string{}
	total := 0
	for w, evs := range perWriter {
		total += len(evs)
		for _, e := range evs {
			owner[e] = w
		}
	}
	if len(got) != total {
		t.Fatalf("%d concurrent writes in the log, want %d", len(got), total)
	}
	for _, e := range got {
		w, ok := owner[e]
		if !ok || perWriter[w][next[w]] != e {
			t.Fatalf("event %q out of its writer's order or unexpected (log %v)", e, got)
		}
		next[w]++
	}
}

// untilMemory reads log events until the memory.created event of id.
func untilMemory(t testing.TB, s *sse, id string) []message {
	t.Helper()
	return s.logThrough(t, func(m message) bool { return m.event == "memory.created" && memoryID(t, m) == id })
}

// after drops the events at or before position seq.
func after(t testing.TB, msgs []message, seq int64) []message {
	t.Helper()
	for i, m := range msgs {
		if seqOf(t, m.id) > seq {
			return msgs[i:]
		}
	}
	return nil
}

// sameEvents fails unless both lists hold the same events: type, position
// and payload bytes.
func sameEvents(t testing.TB, nameA string, a []message, nameB string, b []message) {
	t.Helper()
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			t.Fatalf("%s and %s differ at event %d:\n%s\n%s", nameA, nameB, i, at(a, i), at(b, i))
		}
	}
}

func at(msgs []message, i int) string {
	if i >= len(msgs) {
		return "(none)"
	}
	return fmt.Sprintf("%s id=%s %s", msgs[i].event, msgs[i].id, msgs[i].data)
}

// memoryEvents returns "type id" of the memory.* events of msgs.
func memoryEvents(t testing.TB, msgs []message) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		switch m.event {
		case "memory.created", "memory.updated", "memory.deleted":
			out = append(out, m.event+" "+memoryID(t, m))
		}
	}
	return out
}
