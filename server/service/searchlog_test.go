package service_test

import (
	"context"
	"encoding/json"
	"fmt"
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
