// Package searcheval measures search quality on a labelled set of memories
// and queries: recall at 1 (the first result is relevant) and mean
// reciprocal rank (1/rank of the first relevant result, 0 when none is
// returned), per query class.
//
// The set in testdata was written for this purpose: topics with
// near-duplicates, paraphrase queries whose words differ from the
// memory's, and keyword queries of exact names, ids, numbers and rare
// terms. Its queries are split in two halves (Tuning, HeldOut) so that a
// weight chosen on one half can be checked on the other.
package searcheval

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Query classes.
const (
	Paraphrase = "paraphrase"
	Keyword    = "keyword"
)

// Memory is one memory of the set.
type Memory struct {
	ID, Text string
}

// Query is one labelled query.
type Query struct {
	Class    string
	Text     string
	Relevant []string // ids of the memories that answer it
}

// Set is the labelled set.
type Set struct {
	Memories []Memory
	Queries  []Query
}

// Load reads memories.txt ("id | text") and queries.txt ("class | ids |
// query") from dir; lines starting with # are comments.
func Load(dir string) (*Set, error) {
	var s Set
	err := readLines(filepath.Join(dir, "memories.txt"), 2, func(f []string) error {
		s.Memories = append(s.Memories, Memory{ID: f[0], Text: f[1]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, m := range s.Memories {
		if known[m.ID] {
			return nil, fmt.Errorf("memory %s listed twice", m.ID)
		}
		known[m.ID] = true
	}
	err = readLines(filepath.Join(dir, "queries.txt"), 3, func(f []string) error {
		q := Query{Class: f[0], Relevant: strings.Split(f[1], ","), Text: f[2]}
		if q.Class != Paraphrase && q.Class != Keyword {
			return fmt.Errorf("unknown class %q", q.Class)
		}
		for _, id := range q.Relevant {
			if !known[id] {
				return fmt.Errorf("query %q names unknown memory %q", q.Text, id)
			}
		}
		s.Queries = append(s.Queries, q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func readLines(path string, fields int, add func([]string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "|", fields)
		if len(parts) != fields {
			return fmt.Errorf("%s:%d: want %d fields separated by |", path, n, fields)
		}
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		if err := add(parts); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

// Searcher returns the ids of the memories a search for query finds, best
// first.
type Searcher func(ctx context.Context, query string) ([]string, error)

// Score is the quality of one mode on one class of queries.
type Score struct {
	R1, MRR float64
	N       int // queries measured
}

// Ranks runs every query through search and returns, per query, the
// 1-based rank of its first relevant result (0 when none is returned).
func Ranks(ctx context.Context, queries []Query, search Searcher) ([]int, error) {
	out := make([]int, len(queries))
	for i, q := range queries {
		ids, err := search(ctx, q.Text)
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", q.Text, err)
		}
		out[i] = firstRelevant(ids, q.Relevant)
	}
	return out, nil
}

// Summarise scores ranks (as Ranks returns them for queries) per class;
// keep, when not nil, selects the queries counted by their index.
func Summarise(queries []Query, ranks []int, keep func(i int) bool) map[string]Score {
	out := map[string]Score{}
	for i, q := range queries {
		if keep != nil && !keep(i) {
			continue
		}
		s := out[q.Class]
		s.N++
		if r := ranks[i]; r > 0 {
			s.MRR += 1 / float64(r)
			if r == 1 {
				s.R1++
			}
		}
		out[q.Class] = s
	}
	for c, s := range out {
		s.R1 /= float64(s.N)
		s.MRR /= float64(s.N)
		out[c] = s
	}
	return out
}

// Tuning selects, for Summarise, every other query starting with the
// first: the half on which weights are chosen.
func Tuning(i int) bool { return i%2 == 0 }

// HeldOut selects the other half, kept to check a choice made on Tuning.
func HeldOut(i int) bool { return i%2 == 1 }

// firstRelevant is the 1-based rank of the first relevant id, 0 if none.
func firstRelevant(ids, relevant []string) int {
	for i, id := range ids {
		if slices.Contains(relevant, id) {
			return i + 1
		}
	}
	return 0
}

// Row is one line of a results table.
type Row struct {
	Name   string
	Scores map[string]Score
}

// Table renders rows as a Markdown table of R@1 and MRR per class.
func Table(rows []Row) string {
	var b strings.Builder
	b.WriteString("| mode | paraphrase R@1 | paraphrase MRR | keyword R@1 | keyword MRR |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, r := range rows {
		p, k := r.Scores[Paraphrase], r.Scores[Keyword]
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %.3f |\n", r.Name, p.R1, p.MRR, k.R1, k.MRR)
	}
	return b.String()
}
