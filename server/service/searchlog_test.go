package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/service"
)

// searchEvents returns the queries of workspace w's search.performed
// events, in log order.
func searchEvents(t *testing.T, st memoryd.EventLog) []string {
	t.Helper()
	evs, err := st.ReadEvents(context.Background(), "w", 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, ev := range evs {
		if ev.Type != memoryd.EventSearchPerformed {
			continue
		}
		var p struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, p.Query)
	}
	return qs
}

// Searches answered while the search log runs have their events in the
// log once it stops, each once; a search after the stop appends its own
// before it answers.
func TestSearchLogAppendsEveryEvent(t *testing.T) {
	st := openStore(t, "")
	svc, logs := newService(st)
	stop := svc.StartSearchLog()
	const n = 3000 // more than the queue holds
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < n; i += 8 {
				_, err := svc.Search(context.Background(), actor, service.SearchQuery{Query: fmt.Sprint("q", i), Mode: service.ModeKeyword, Limit: 1})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stop()
	got := searchEvents(t, st)
	if len(got) != n {
		t.Fatalf("%d search.performed events after %d searches; logs:\n%s", len(got), n, logs)
	}
	seen := map[string]bool{}
	for _, q := range got {
		if seen[q] {
			t.Fatalf("query %q recorded twice", q)
		}
		seen[q] = true
	}
	if _, err := svc.Search(context.Background(), actor, service.SearchQuery{Query: "after", Mode: service.ModeKeyword, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if got := searchEvents(t, st); len(got) != n+1 || got[n] != "after" {
		t.Fatalf("a search after stop: last events %q, want %d ending in \"after\"", got[max(0, len(got)-2):], n+1)
	}
}

// A write that follows a search on the same node has its event after the
// search's, though search.performed events wait to be appended in
// batches: each kind of write stores the queued events first.
func TestSearchLogEventsPrecedeLaterWrites(t *testing.T) {
	st := openStore(t, "")
	svc, logs := newService(st)
	stop := svc.StartSearchLog()
	defer stop()
	ctx := context.Background()
	text := "searched before"
	writes := []struct {
		name  string
		write func() error
	}{
		{"put", func() error {
			_, err := svc.Put(ctx, actor, service.PutInput{ID: "a", Text: "x", Embedding: unit(0)})
			return err
		}},
		{"update", func() error {
			_, err := svc.Update(ctx, actor, "a", service.UpdateInput{Text: &text, Embedding: unit(1)})
			return err
		}},
		{"batch", func() error {
			_, err := svc.PutBatch(ctx, actor, []service.PutInput{{ID: "b", Text: "y", Embedding: unit(2)}})
			return err
		}},
		{"delete", func() error {
			_, err := svc.Delete(ctx, actor, "b")
			return err
		}},
	}
	for _, w := range writes {
		if _, err := svc.Search(ctx, actor, service.SearchQuery{Query: "before " + w.name, Mode: service.ModeKeyword, Limit: 1}); err != nil {
			t.Fatal(err)
		}
		if err := w.write(); err != nil {
			t.Fatal(err)
		}
		evs, err := st.ReadEvents(ctx, "w", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-1]
		var searched bool
		for _, ev := range evs[:len(evs)-1] {
			searched = searched || ev.Type == memoryd.EventSearchPerformed && strings.Contains(string(ev.Payload), `"before `+w.name+`"`)
		}
		if !searched || last.Type == memoryd.EventSearchPerformed {
			t.Fatalf("%s: the search before it is not in the log before its event (last: %s); logs:\n%s", w.name, last.Type, logs)
		}
	}
}
