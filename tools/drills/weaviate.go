package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"
)

// batchSize is how many writes share a tag: a filtered search (at most
// 100 results) then sees a whole batch, so the searches over every batch
// count what the vector engine holds.
const batchSize = 50

// weaviateOutage is how long Weaviate stays away: longer than PostgreSQL's
// outage, since a search on a connection to the vanished Weaviate takes up
// to memoryd's dead-peer timeout (3 s) to answer 503, and the searchers
// must see several answers of each kind.
const weaviateOutage = 10 * time.Second

// weaviateRestart: Weaviate is killed (SIGKILL) under writers on both
// nodes and started again. Meanwhile writes keep 201, semantic search
// answers the documented 503 with Retry-After, keyword search 200, and
// /ready reports the vector index unavailable; afterwards semantic search
// (answered by Weaviate) finds every write on both nodes: as many as the
// database lists.
func weaviateRestart(ctx context.Context, env *Env) error {
	const ws = "drill-weaviate"
	c, err := setup(ctx, env, ws)
	if err != nil {
		return err
	}
	w := newWriters(c, ws)
	w.text = func(id string, n int) map[string]any {
		return map[string]any{"id": id, "text": fmt.Sprintf("drill note %d about %s", n, id),
			"metadata": map[string]any{"tags": []string{batchTag(n)}}}
	}
	nodes := []string{env.A, env.B, env.A, env.B}
	wctx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); w.run(ctx, nodes, stay, 50*time.Millisecond) }()
	probe := newProber(c, "vector_index", []string{"200"}, env.A, env.B)
	go func() { defer wg.Done(); probe.run(wctx) }()
	s := &searcher{c: c, nodes: []string{env.A, env.B}, semantic: newTally(), keyword: newTally()}
	go func() { defer wg.Done(); s.run(wctx) }()
	defer func() { w.halt(); stopLoad(); wg.Wait() }()

	sleep(ctx, before)
	if err := within(ctx, faultLimit, "killing Weaviate", env.Faults.KillWeaviate); err != nil {
		return err
	}
	killed := time.Now()
	probe.setOutage(true)
	s.setOutage(true)
	sleep(ctx, weaviateOutage)
	s.setOutage(false)
	probe.setOutage(false)
	if err := within(ctx, faultLimit, "starting Weaviate", env.Faults.StartWeaviate); err != nil {
		return err
	}
	back := time.Now()
	readyAgain, err := bothReady(ctx, c, env, "nodes ready with the vector index after Weaviate's start",
		func(checks map[string]string) bool { return checks["vector_index"] == "ok" })
	if err != nil {
		return err
	}
	sleep(ctx, before)
	w.halt()
	stopLoad()
	wg.Wait()

	var errs []string
	acked, _ := w.acks()
	w.mu.Lock()
	batches := (w.count + batchSize - 1) / batchSize
	w.mu.Unlock()
	found, total, err := c.list(ctx, env.A)
	if err != nil {
		return err
	}
	lost := missing(acked, found)
	fmt.Fprintf(env.Out, "  Weaviate away %s (kill to ready)\n", back.Sub(killed).Round(time.Millisecond))
	fmt.Fprintf(env.Out, "  acknowledged %d, listed %d of %d, lost %d; write answers:%s\n",
		len(acked), len(acked)-len(lost), total, len(lost), w.answersString())
	fmt.Fprintf(env.Out, "  while away: semantic %v, keyword %v (slowest search %s), %s\n",
		s.semantic, s.keyword, s.slowest.Round(time.Millisecond), probe)
	fmt.Fprintf(env.Out, "  both /ready 200 with vector_index ok %s after Weaviate's start\n", readyAgain.Round(time.Millisecond))
	if bad := w.unexpected("201"); len(bad) > 0 {
		errs = append(errs, fmt.Sprintf("writes answered otherwise than 201: %v", bad))
	}
	errs = append(errs, s.problems()...)
	errs = append(errs, probe.problems()...)
	if len(lost) > 0 {
		errs = append(errs, fmt.Sprintf("%d acknowledged writes missing (e.g. %s)", len(lost), lost[0]))
	}
	for _, base := range []string{env.A, env.B} {
		start, seen := time.Now(), map[string]bool{}
		err := poll(ctx, catchUpLimit, "semantic search on "+base+" finding every write", 250*time.Millisecond,
			func(ctx context.Context) (bool, error) {
				got, err := semanticIDs(ctx, c, base, batches)
				if err == nil {
					seen = got
				}
				return err == nil && len(seen) == total, err
			})
		fmt.Fprintf(env.Out, "  semantic search on %s finds %d of the database's %d (after %s)\n",
			base, len(seen), total, time.Since(start).Round(time.Millisecond))
		if err != nil {
			errs = append(errs, fmt.Sprintf("semantic search on %s finds %d of %d (missing e.g. %v): %v",
				base, len(seen), total, first(notIn(found, seen), 3), err))
		}
	}
	return joinErrs(errs)
}

func batchTag(n int) string { return fmt.Sprintf("batch-%d", n/batchSize) }

// semanticIDs returns the memories semantic search finds over every
// batch's tag (threshold -1: every vector matches).
func semanticIDs(ctx context.Context, c *client, base string, batches int) (map[string]bool, error) {
	ids := map[string]bool{}
	for b := range batches {
		r := c.do(ctx, http.MethodPost, base+"/api/v1/memory/search", map[string]any{
			"query": "drill note", "mode": "semantic", "limit": 100, "threshold": -1,
			"filters": map[string]any{"tags": []string{batchTag(b * batchSize)}}})
		if r.err != nil || r.status != http.StatusOK {
			return nil, fmt.Errorf("search: %d %v %.200s", r.status, r.err, r.body)
		}
		var out struct {
			Results []struct {
				Memory struct {
					ID string `json:"id"`
				} `json:"memory"`
			} `json:"results"`
		}
		if err := json.Unmarshal(r.body, &out); err != nil {
			return nil, err
		}
		for _, res := range out.Results {
			ids[res.Memory.ID] = true
		}
	}
	return ids, nil
}

// notIn lists the ids of a that b lacks, sorted.
func notIn(a, b map[string]bool) []string {
	var out []string
	for id := range a {
		if !b[id] {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// searcher runs semantic and keyword searches on the nodes, tallying the
// answers while the outage lasts.
type searcher struct {
	c                 *client
	nodes             []string
	mu                sync.Mutex
	away              bool
	semantic, keyword *tally
	slowest           time.Duration // the slowest answer while away
}

func (s *searcher) setOutage(on bool) {
	s.mu.Lock()
	s.away = on
	s.mu.Unlock()
}

func (s *searcher) run(ctx context.Context) {
	for ctx.Err() == nil {
		for _, base := range s.nodes {
			for mode, t := range map[string]*tally{"semantic": s.semantic, "keyword": s.keyword} {
				// An answer counts when its request was sent during the
				// outage (answers may take long while a dependency is away).
				s.mu.Lock()
				away := s.away
				s.mu.Unlock()
				start := time.Now()
				r := s.c.do(ctx, http.MethodPost, base+"/api/v1/memory/search",
					map[string]any{"query": "drill note", "mode": mode, "limit": 5})
				if ctx.Err() != nil {
					return
				}
				kind, _ := classify(r)
				s.mu.Lock()
				if away {
					t.add(kind, fmt.Sprintf("%s: %v %.200s", base, r.err, r.body))
					s.slowest = max(s.slowest, time.Since(start))
				}
				s.mu.Unlock()
			}
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

// problems lists what the searches did wrong while Weaviate was away.
func (s *searcher) problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k, n := range s.semantic.n {
		if k != "503 UNAVAILABLE" {
			out = append(out, fmt.Sprintf("%d semantic searches answered %s (e.g. %s)", n, k, s.semantic.example[k]))
		}
	}
	for k, n := range s.keyword.n {
		if k != "200" {
			out = append(out, fmt.Sprintf("%d keyword searches answered %s (e.g. %s)", n, k, s.keyword.example[k]))
		}
	}
	if s.semantic.n["503 UNAVAILABLE"] == 0 || s.keyword.n["200"] == 0 {
		out = append(out, fmt.Sprintf("too few searches while away: semantic %v, keyword %v", s.semantic, s.keyword))
	}
	return out
}
