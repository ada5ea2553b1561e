package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/memoryd/memoryd/gen/api"
	"github.com/memoryd/memoryd/internal/testenv"
)

// TestCrashKeepsLog kills memoryd with SIGKILL in the middle of a burst of
// concurrent writes and restarts it on the same database, on each backend.
// Every acknowledged write must survive with its event (memory and event
// are one transaction), the log must stay gap-free, and a position handed
// out before the crash must resume after it.
func TestCrashKeepsLog(t *testing.T) {
	t.Parallel()
	backends := []struct {
		name string
		db   func(t testing.TB) string
	}{
		{"sqlite", func(t testing.TB) string { return "sqlite://" + t.TempDir() + "/memoryd.db" }},
		{"postgres", pgDSN},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { crashAndRecover(t, b.db(t)) })
	}
}

// crashWriters is how many clients write at once; crashAfter is how many
// acknowledged writes the stream must have shown before the kill.
const (
	crashWriters = 6
	crashAfter   = 150
)

func crashAndRecover(t *testing.T, db string) {
	key := createKey(t, db, "crash")
	before := startNode(t, "before-crash", db)
	s1 := openStream(t, before.base, key, "")
	epoch, _ := testenv.SplitPosition(t, s1.Welcome.Position)

	burst := startBurst(testenv.NewClient(before.base, key), crashWriters)
	// A position read from the stream mid-burst: the client's resume point.
	resumeFrom := nthMemoryEvent(t, s1, crashAfter/3)
	nthMemoryEvent(t, s1, crashAfter-crashAfter/3)
	before.kill()
	acked := burst.stop(t)
	// The stream showed crashAfter committed writes; each writer has at
	// most one whose answer was still on its way.
	if len(acked) < crashAfter-crashWriters {
		t.Fatalf("only %d writes acknowledged before the crash, want at least %d", len(acked), crashAfter-crashWriters)
	}

	after := startNode(t, "after-crash", db)
	c := testenv.NewClient(after.base, key)
	for id, text := range acked {
		m := c.Get(t, id)
		if m == nil || m.Text != text {
			t.Fatalf("acknowledged memory %s lost in the crash: got %+v", id, m)
		}
	}

	// The whole log, replayed from its start: gap-free, and its
	// memory.created events are exactly the stored memories.
	full := openStream(t, after.base, key, testenv.Position(epoch, 0))
	if e, _ := testenv.SplitPosition(t, full.Welcome.Position); e != epoch {
		t.Fatalf("the log's epoch changed across the restart: %q, was %q", e, epoch)
	}
	head := testenv.LastOnStream(t, db, "crash", testenv.SeqOf(t, full.Welcome.Head))
	log := full.LogUntil(t, head)
	testenv.CheckNoGap(t, db, "crash", 0, log)
	checkEventsMatchMemories(t, log, c.ListIDs(t), acked)

	// The position from before the crash resumes right after it.
	resumed := openStream(t, after.base, key, resumeFrom)
	from := testenv.SeqOf(t, resumeFrom)
	rest := log
	for len(rest) > 0 && testenv.SeqOf(t, rest[0].ID) <= from {
		rest = rest[1:]
	}
	sameEvents(t, "full log after "+resumeFrom, rest, "stream resumed there", resumed.LogUntil(t, head))

	// And the log goes on from where it was: the next write is live on
	// the resumed stream, with no gap after the pre-crash head.
	c.Create(t, "after-crash", "written after the restart")
	testenv.CheckNoGap(t, db, "crash", head, untilMemory(t, resumed, "after-crash"))
}

// nthMemoryEvent reads s up to its n-th memory.created event (counting from
// the stream's start) and returns its position.
func nthMemoryEvent(t testing.TB, s *testenv.SSE, n int) string {
	t.Helper()
	for seen := 0; ; {
		m := s.Next(t)
		if m.Event == "memory.created" {
			if seen++; seen == n {
				return m.ID
			}
		}
	}
}

// checkEventsMatchMemories fails unless the log's memory.created events
// name each stored memory exactly once and nothing else, and every
// acknowledged write is among them.
func checkEventsMatchMemories(t *testing.T, log []testenv.Message, stored map[string]bool, acked map[string]string) {
	t.Helper()
	created := map[string]bool{}
	for _, m := range log {
		switch m.Event {
		case "memory.created":
			id := testenv.MemoryID(t, m)
			if created[id] {
				t.Fatalf("memory.created %s twice in the log", id)
			}
			if !stored[id] {
				t.Fatalf("memory.created %s at %s, but no such memory: an event without its change", id, m.ID)
			}
			created[id] = true
		case "user.activity":
		default:
			t.Fatalf("unexpected %s event in the log: %s", m.Event, m.Data)
		}
	}
	for id := range stored {
		if !created[id] {
			t.Fatalf("memory %s is stored but has no memory.created event: a change without its event", id)
		}
	}
	for id := range acked {
		if !created[id] {
			t.Fatalf("acknowledged memory %s has no memory.created event", id)
		}
	}
	t.Logf("%d acknowledged writes, %d stored, %d events in the log", len(acked), len(stored), len(log))
}

// burst is several goroutines creating memories as fast as the server
// takes them, until it dies.
type burst struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	acked map[string]string // id -> text, answered 201
	err   error             // an HTTP error answer (a server that answers must not fail)
	quit  chan struct{}
}

func startBurst(c *testenv.Client, writers int) *burst {
	b := &burst{acked: map[string]string{}, quit: make(chan struct{})}
	for w := range writers {
		b.wg.Add(1)
		go b.write(c, w)
	}
	return b
}

func (b *burst) write(c *testenv.Client, w int) {
	defer b.wg.Done()
	for i := 0; ; i++ {
		select {
		case <-b.quit:
			return
		default:
		}
		id := fmt.Sprintf("w%d-%04d", w, i)
		text := "burst write " + id
		status, err := c.Do(http.MethodPost, "/memory", api.CreateMemoryRequest{Id: &id, Text: text}, nil)
		b.mu.Lock()
		switch {
		case err == nil && status == http.StatusCreated:
			b.acked[id] = text
		case status != 0:
			// The server answered, and not with success.
			b.err = errors.Join(b.err, fmt.Errorf("%s: %d %v", id, status, err))
		}
		b.mu.Unlock()
		if err != nil {
			// Transport error: the server is gone; the write's fate is
			// unknown, and this writer stops.
			return
		}
	}
}

// stop ends the writers and returns the acknowledged writes.
func (b *burst) stop(t testing.TB) map[string]string {
	t.Helper()
	close(b.quit)
	b.wg.Wait()
	if b.err != nil {
		t.Fatalf("writes failed while the server was up: %v", b.err)
	}
	return b.acked
}
