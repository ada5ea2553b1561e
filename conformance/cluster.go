package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/memoryd/memoryd/conformance/sse"
)

// DefaultClusterWait is the bound within which a change made on one node
// must be visible on another: every node follows one shared event log, so
// a change is seen elsewhere as soon as that node has read the log past it.
const DefaultClusterWait = 5 * time.Second

// The cluster profile runs against two nodes of one deployment (the same
// database and keys; --base-url and --base-url-b). Key A writes on the
// first node; its client on the second node reads.
func clusterChecks() []Check {
	return []Check{
		{ID: "CLUSTER-READ-001", Level: Must, Profile: Cluster, Ref: "getMemory 200",
			Title: "a memory written on node A is readable on node B within the cluster bound", Run: checkClusterRead},
		{ID: "CLUSTER-LIST-001", Level: Must, Profile: Cluster, Ref: "listMemories 200",
			Title: "a memory written on node A is listed on node B within the cluster bound", Run: checkClusterList},
		{ID: "CLUSTER-SEARCH-001", Level: Must, Profile: Cluster, Ref: "searchMemories 200",
			Title: "a memory written on node A is found by a semantic search on node B within the cluster bound", Run: checkClusterSearch},
		{ID: "CLUSTER-UPDATE-001", Level: Must, Profile: Cluster, Ref: "updateMemory 200, searchMemories 200",
			Title: "an update on node A is what node B reads and searches within the cluster bound", Run: checkClusterUpdate},
		{ID: "CLUSTER-DELETE-001", Level: Must, Profile: Cluster, Ref: "deleteMemory 200, getMemory 404",
			Title: "a delete on node A removes the memory from node B's reads and searches within the cluster bound", Run: checkClusterDelete},
		{ID: "CLUSTER-STREAM-001", Level: Must, Profile: Cluster, Ref: "memory.created",
			Title: "a stream open on node B receives the writes made on node A", Run: checkClusterStream},
		{ID: "CLUSTER-RESUME-001", Level: Must, Profile: Cluster, Ref: "streamEvents 200",
			Title: "a position issued by node A resumes on node B strictly after it: no restart, gap or duplicate, then live", Run: checkClusterResume},
		{ID: "CLUSTER-LIMIT-001", Level: Must, Profile: Cluster, Ref: "streamEvents 429", Timeout: 2 * time.Minute,
			Title: "the 5-streams-per-key limit holds on each node; the report says whether node B counts node A's streams", Run: checkClusterLimit},
	}
}

func (t *T) clusterWait() time.Duration { return t.suite.cfg.ClusterWait }

// eventually polls probe until it reports done, at most the cluster bound;
// then it stops the check with what the last probe saw.
func (t *T) eventually(ctx context.Context, what string, probe func() (done bool, saw string)) time.Duration {
	start := time.Now()
	deadline := start.Add(t.clusterWait())
	for {
		done, saw := probe()
		if done {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within the cluster bound of %s; last seen: %s", what, t.clusterWait(), saw)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// createTagged writes a memory with key A on node A, tagged for this check.
func (t *T) createTagged(ctx context.Context, text, tag string) StoreResult {
	return t.Create(ctx, t.A, map[string]any{"text": text, "metadata": map[string]any{"tags": []any{tag}}})
}

// getOn reads id through c and returns the response (any status).
func (t *T) getOn(ctx context.Context, c *Client, id string) *Response {
	return t.Do(ctx, c, Request{Method: "GET", Path: "/memory/" + url.PathEscape(id)})
}

// searchTag runs a semantic search for query among the memories tagged tag.
func (t *T) searchTag(ctx context.Context, c *Client, query, tag string) SearchResponse {
	return t.Search(ctx, c, map[string]any{"query": query, "mode": "semantic", "limit": 10,
		"filters": map[string]any{"tags": []any{tag}}})
}

// foundText returns the text of id among the results, and whether it is there.
func foundText(s SearchResponse, id string) (string, bool) {
	for _, r := range s.Results {
		if r.Memory.ID == id {
			return r.Memory.Text, true
		}
	}
	return "", false
}

// awaitSearchable waits until node B's search finds id with text.
func (t *T) awaitSearchable(ctx context.Context, id, text, tag string) time.Duration {
	return t.eventually(ctx, "node B's search finds "+id+" with its text", func() (bool, string) {
		res := t.searchTag(ctx, t.AOnB, text, tag)
		got, ok := foundText(res, id)
		return ok && got == text, fmt.Sprintf("results %v", res.IDs())
	})
}

func checkClusterRead(ctx context.Context, t *T) {
	t.NeedNodeB()
	text := "written on node A " + t.RunID
	sr := t.createTagged(ctx, text, t.Name("cread"))
	d := t.eventually(ctx, "GET on node B", func() (bool, string) {
		resp := t.getOn(ctx, t.AOnB, sr.ID)
		if resp.Status != http.StatusOK {
			return false, resp.String()
		}
		var m Memory
		if err := resp.Decode(&m); err != nil {
			t.Fatalf("%v", err)
		}
		return m.Text == text, "text " + m.Text
	})
	t.Logf("readable on node B after %s", d.Round(time.Millisecond))
}

func checkClusterList(ctx context.Context, t *T) {
	t.NeedNodeB()
	tag := t.Name("clist")
	sr := t.createTagged(ctx, "listed on node B "+t.RunID, tag)
	d := t.eventually(ctx, "list on node B", func() (bool, string) {
		ids := t.ListAll(ctx, t.AOnB, url.Values{"tags": {tag}})
		return slices.Contains(ids, sr.ID), fmt.Sprintf("ids %v", ids)
	})
	t.Logf("listed on node B after %s", d.Round(time.Millisecond))
}

func checkClusterSearch(ctx context.Context, t *T) {
	t.NeedNodeB()
	tag := t.Name("csearch")
	text := "the harbour lights were green on the night we sailed " + t.RunID
	sr := t.createTagged(ctx, text, tag)
	d := t.awaitSearchable(ctx, sr.ID, text, tag)
	t.Logf("found by node B's search after %s", d.Round(time.Millisecond))
}

func checkClusterUpdate(ctx context.Context, t *T) {
	t.NeedNodeB()
	tag := t.Name("cupdate")
	before := "the meeting moved to Tuesday " + t.RunID
	sr := t.createTagged(ctx, before, tag)
	t.awaitSearchable(ctx, sr.ID, before, tag)
	after := "lunch is served in the garden at noon " + t.RunID
	t.update(ctx, t.A, sr.ID, map[string]any{"text": after})
	d := t.awaitSearchable(ctx, sr.ID, after, tag)
	m := t.Get(ctx, t.AOnB, sr.ID, nil)
	if m.Text != after {
		t.Errorf("node B's GET has text %q after its search had the update", m.Text)
	}
	t.Logf("update searchable on node B after %s", d.Round(time.Millisecond))
}

func checkClusterDelete(ctx context.Context, t *T) {
	t.NeedNodeB()
	tag := t.Name("cdelete")
	text := "a note that will be deleted " + t.RunID
	sr := t.createTagged(ctx, text, tag)
	t.awaitSearchable(ctx, sr.ID, text, tag)
	t.Expect(t.del(ctx, t.A, sr.ID), http.StatusOK)
	d := t.eventually(ctx, "node B forgets "+sr.ID, func() (bool, string) {
		resp := t.getOn(ctx, t.AOnB, sr.ID)
		if resp.Status != http.StatusNotFound {
			return false, resp.String()
		}
		res := t.searchTag(ctx, t.AOnB, text, tag)
		_, found := foundText(res, sr.ID)
		return !found, fmt.Sprintf("search results %v", res.IDs())
	})
	t.ExpectError(t.getOn(ctx, t.AOnB, sr.ID), http.StatusNotFound)
	t.Logf("gone from node B after %s", d.Round(time.Millisecond))
}

func checkClusterStream(ctx context.Context, t *T) {
	t.NeedNodeB()
	s := t.OpenStream(ctx, t.AOnB, StreamOpts{Query: url.Values{"events": {"memory.created"}}})
	start := time.Now()
	sr := t.createTagged(ctx, "streamed to node B "+t.RunID, t.Name("cstream"))
	ev, _ := s.Await(t.clusterWait(), "memory.created of node A's write on node B's stream", isMemoryEvent("memory.created", sr.ID))
	t.validateEvent(ev)
	t.Logf("on node B's stream after %s", time.Since(start).Round(time.Millisecond))
}

// checkClusterResume takes the position of the first of three writes from
// node A's stream and resumes on node B from it: B must replay exactly the
// other two, in order, then deliver a fourth write live.
func checkClusterResume(ctx context.Context, t *T) {
	t.NeedNodeB()
	q := url.Values{"events": {"memory.created"}}
	a := t.OpenStream(ctx, t.A, StreamOpts{Query: q})
	tag := t.Name("cresume")
	ids := t.createN(ctx, t.A, 3, tag, nil)
	pos := a.awaitCreated(ids)
	b := t.OpenStream(ctx, t.AOnB, StreamOpts{Query: q, LastEventID: pos[0]})
	ours := map[string]bool{}
	for _, id := range ids {
		ours[id] = true
	}
	var got []string
	for len(got) < 2 {
		ev, _ := b.Await(t.clusterWait(), "the replay of node A's writes on node B", func(ev sse.Event) bool {
			return ev.Type == "restart" || (ev.Type == "memory.created" && ours[fmt.Sprint(payload(ev)["id"])])
		})
		if ev.Type == "restart" {
			t.Fatalf("node B answered node A's position %q with restart: %s", pos[0], ev.Data)
		}
		got = append(got, fmt.Sprint(payload(ev)["id"]))
	}
	if !slices.Equal(got, ids[1:]) {
		t.Fatalf("node B replayed %v after node A's position of %s; want %v (no gap, no duplicate, in order)", got, ids[0], ids[1:])
	}
	live := t.createTagged(ctx, "live after the resume "+t.RunID, tag)
	ev, before := b.Await(t.clusterWait(), "the live write after the replay", func(ev sse.Event) bool {
		return ev.Type == "memory.created" && (ours[fmt.Sprint(payload(ev)["id"])] || payload(ev)["id"] == live.ID)
	})
	if id := payload(ev)["id"]; id != live.ID {
		t.Fatalf("after the replay node B sent %v again (duplicate), before %s (%d other events)", id, live.ID, len(before))
	}
}

// checkClusterLimit opens the per-key maximum of streams on node A. The
// next one on node A must be refused (429); one on node B may be accepted
// (memoryd counts streams per node, so N nodes admit N times the limit) or
// refused (a deployment that counts across nodes); the report says which.
// The first max may wait for slots that closed streams of earlier checks
// still hold (slotWait).
func checkClusterLimit(ctx context.Context, t *T) {
	t.NeedNodeB()
	const max = 5
	for range max {
		t.openForSlot(ctx, t.A, StreamOpts{})
	}
	resp, cancel := t.connect(ctx, t.A, StreamOpts{})
	status := resp.StatusCode
	body := readSome(resp, cancel)
	resp.Body.Close()
	cancel()
	if status != http.StatusTooManyRequests {
		t.Fatalf("stream %d of key A on node A: status %d, want 429 (%s)", max+1, status, snippet(body))
	}
	resp, cancel = t.connect(ctx, t.AOnB, StreamOpts{})
	defer cancel()
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		t.Logf("per node: node B accepted key A's stream %d while node A held %d", max+1, max)
	case http.StatusTooManyRequests:
		t.Logf("across nodes: node B refused key A's stream %d while node A held %d", max+1, max)
	default:
		t.Fatalf("stream of key A on node B while node A held %d: status %d, want 200 (per-node limit) or 429 (cluster-wide limit)",
			max, resp.StatusCode)
	}
}
