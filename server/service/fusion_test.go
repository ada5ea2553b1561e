package service

import (
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
)

// A question in other words than the memory's: the keyword list's best
// hit shares only "the" with it, and must not outrank the semantic
// answer, as it did when both lists counted alike.
func TestFuseShrinksKeywordHitsThatShareAWord(t *testing.T) {
	query := "when does the duty pager hand over"
	sem := []memoryd.Scored{{ID: "answer", Score: 0.52}, {ID: "noise", Score: 0.31}, {ID: "other", Score: 0.10}}
	kw := []memoryd.Scored{{ID: "noise", Score: 0.40}, {ID: "other", Score: 0.38}}
	texts := map[string]string{"noise": "The boiler needs a service", "other": "The tap drips"}
	got := fuse(sem, kw, texts, query, DefaultAlpha, 3)
	if got[0].ID != "answer" {
		t.Fatalf("ranking %v: want the semantic answer first", got)
	}
}

// An exact id: the memory containing every word of the query wins over
// the semantic best, whose text lacks it.
func TestFuseKeepsExactMatchesFirst(t *testing.T) {
	query := "INC-4471"
	sem := []memoryd.Scored{{ID: "near", Score: 0.40}, {ID: "exact", Score: 0.20}, {ID: "far", Score: 0.05}}
	kw := []memoryd.Scored{{ID: "exact", Score: 0.80}, {ID: "half", Score: 0.30}}
	texts := map[string]string{"exact": "Incident INC-4471: out of memory", "half": "Incident INC-4502: TLS"}
	got := fuse(sem, kw, texts, query, DefaultAlpha, 3)
	if got[0].ID != "exact" {
		t.Fatalf("ranking %v: want the exact match first", got)
	}
}

func TestFuseScoresAreOrderedWithinZeroAndOne(t *testing.T) {
	sem := []memoryd.Scored{{ID: "a", Score: 0.9}, {ID: "b", Score: -0.2}}
	kw := []memoryd.Scored{{ID: "b", Score: 0.7}, {ID: "c", Score: 0.1}}
	texts := map[string]string{"b": "apple pie", "c": "apple"}
	for _, alpha := range []float32{0.1, 0.4, 0.9} {
		got := fuse(sem, kw, texts, "apple pie", alpha, 10)
		if len(got) != 3 {
			t.Fatalf("alpha %v: %d hits, want 3", alpha, len(got))
		}
		for i, h := range got {
			if h.Score < 0 || h.Score > 1 || (i > 0 && h.Score > got[i-1].Score) {
				t.Fatalf("alpha %v: ranking %v: scores must fall within 0..1, best first", alpha, got)
			}
		}
	}
	if got := fuse(sem, kw, texts, "apple pie", 0.4, 1); len(got) != 1 {
		t.Fatalf("limit 1: %d hits", len(got))
	}
}
