package main

import (
	"fmt"
	"sort"
	"time"
)

// pct is the p-th percentile (nearest rank) of sorted; 0 for none.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func sortDurations(d []time.Duration) []time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

// tally is what one endpoint received, against the acknowledged creates.
type tally struct {
	Acked      int // creates answered 201
	Deliveries int // 2xx-answered memory.created deliveries
	Distinct   int // acknowledged memories received at least once
	Missing    int // acknowledged memories never received
	DupIDs     int // deliveries repeating a webhook-id already received
	DupMems    int // deliveries repeating a memory already received
	Unacked    int // distinct memories received whose create was not acknowledged
}

// count compares the memory.created deliveries ds with the acknowledged
// memory ids: an at-least-once sender may repeat a webhook-id, and a
// create whose answer was lost in a crash may still have committed.
func count(acked map[string]bool, ds []delivery) tally {
	t := tally{Acked: len(acked)}
	ids, mems := map[string]bool{}, map[string]bool{}
	for _, d := range ds {
		if d.Type != "memory.created" {
			continue
		}
		t.Deliveries++
		if ids[d.WebhookID] {
			t.DupIDs++
		}
		ids[d.WebhookID] = true
		if mems[d.MemoryID] {
			t.DupMems++
		}
		mems[d.MemoryID] = true
	}
	for m := range mems {
		if acked[m] {
			t.Distinct++
		} else {
			t.Unacked++
		}
	}
	t.Missing = t.Acked - t.Distinct
	return t
}

func (t tally) String() string {
	return fmt.Sprintf("acked=%d received_distinct=%d missing=%d deliveries=%d dup_webhook_id=%d dup_memory=%d unacked_received=%d",
		t.Acked, t.Distinct, t.Missing, t.Deliveries, t.DupIDs, t.DupMems, t.Unacked)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
