package main

import (
	"slices"
	"testing"
)

// Rounds alternate their order, so each row runs early once and late once.
func TestScheduleAlternates(t *testing.T) {
	runs := []row{{name: "a"}, {name: "b"}, {name: "c"}}
	if got := schedule(runs, 1); len(got) != 3 || got[0].name != "a" {
		t.Fatalf("one round = %v", got)
	}
	var names []string
	for _, r := range schedule(runs, 3) {
		names = append(names, r.name)
	}
	want := []string{"a #1", "b #1", "c #1", "c #2", "b #2", "a #2", "a #3", "b #3", "c #3"}
	if !slices.Equal(names, want) {
		t.Fatalf("three rounds = %q, want %q", names, want)
	}
}
