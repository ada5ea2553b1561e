package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"
)

func listChecks() []Check {
	slow := 3 * time.Minute
	return []Check{
		{ID: "MEM-LIST-001", Level: Must, Profile: Core, Ref: "listMemories 200", Timeout: slow,
			Title: "cursor pagination over 25 memories with limit 10: pages 10/10/5, no gap, no duplicate, total 25", Run: checkListPages},
		{ID: "MEM-LIST-002", Level: Must, Profile: Core, Ref: "listMemories 200", Timeout: slow,
			Title: "lists are newest first", Run: checkListOrder},
		{ID: "MEM-LIST-003", Level: Must, Profile: Core, Ref: "listMemories 200", Timeout: slow,
			Title: "filters type, source, tags (every tag), metadata[key] select exactly the matches", Run: checkListFilters},
		{ID: "MEM-LIST-004", Level: Must, Profile: Core, Ref: "listMemories 200", Timeout: slow,
			Title: "created_after (inclusive) and created_before (exclusive) select by creation time", Run: checkListCreatedRange},
		{ID: "MEM-LIST-005", Level: Must, Profile: Core, Ref: "listMemories 200", Timeout: slow,
			Title: "lists leave embeddings out by default and include them with include_embedding=true", Run: checkListEmbedding},
		{ID: "MEM-LIST-006", Level: Should, Profile: Core, Ref: "listMemories 200", Timeout: slow,
			Title: "the default page size is 20", Run: checkListDefaultLimit},
		{ID: "MEM-LIST-007", Level: Must, Profile: Core, Ref: "listMemories 400",
			Title: "limit 0, 101 or not a number, a malformed date or cursor is 400", Run: checkListInvalid},
	}
}

// listFixture is 25 memories under one run tag, created one after another.
type listFixture struct {
	Tag     string
	IDs     []string // creation order
	Created map[string]time.Time
	Type    map[string]string
	Source  map[string]string
	Tags    map[string][]string
	Color   map[string]string // metadata.color
}

const listSize = 25

func (t *T) listFixture(ctx context.Context) *listFixture {
	v, err := t.suite.fixture("list", func() (any, error) {
		f := &listFixture{Tag: t.Name("list"), Created: map[string]time.Time{}, Type: map[string]string{},
			Source: map[string]string{}, Tags: map[string][]string{}, Color: map[string]string{}}
		for i := range listSize {
			id := t.Name(fmt.Sprintf("list-%02d", i))
			typ := []string{"note", "meeting", "task"}[i%3]
			src := []string{"slack", "email"}[i%2]
			tags := []string{f.Tag}
			if i%4 == 0 {
				tags = append(tags, t.Name("four"))
			}
			if i%5 == 0 {
				tags = append(tags, t.Name("five"))
			}
			color := []string{"red", "green", "blue", "black", "white"}[i%5]
			resp, err := t.A.Do(ctx, Request{Method: "POST", Path: "/memory", JSON: map[string]any{
				"id": id, "text": fmt.Sprintf("list item %d of run %s", i, t.RunID),
				"metadata": map[string]any{"type": typ, "source": src, "tags": tags, "color": color},
			}})
			if err != nil {
				return nil, err
			}
			if resp.Status != http.StatusCreated || resp.SpecErr != nil {
				return nil, fmt.Errorf("creating list fixture: %s %v", resp, resp.SpecErr)
			}
			var sr StoreResult
			if err := resp.Decode(&sr); err != nil {
				return nil, err
			}
			t.suite.suiteCleanup(func(ctx context.Context) { deleteQuietly(ctx, t.A, id) })
			f.IDs = append(f.IDs, id)
			f.Created[id], f.Type[id], f.Source[id], f.Tags[id], f.Color[id] = sr.CreatedAt, typ, src, tags, color
		}
		return f, nil
	})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return v.(*listFixture)
}

func checkListPages(ctx context.Context, t *T) {
	f := t.listFixture(ctx)
	q := url.Values{"tags": {f.Tag}, "limit": {"10"}}
	seen := map[string]bool{}
	var sizes []int
	for page := 0; page < 10; page++ {
		l := t.List(ctx, t.A, q)
		sizes = append(sizes, len(l.Memories))
		if l.Total != listSize {
			t.Errorf("page %d: total %d, want %d", page, l.Total, listSize)
		}
		for _, m := range l.Memories {
			if seen[m.ID] {
				t.Errorf("page %d repeats %s", page, m.ID)
			}
			seen[m.ID] = true
		}
		last := l.NextCursor == nil
		if l.HasMore == last {
			t.Errorf("page %d: has_more %v with next_cursor present=%v", page, l.HasMore, !last)
		}
		if last {
			break
		}
		q.Set("cursor", *l.NextCursor)
	}
	if !slices.Equal(sizes, []int{10, 10, 5}) {
		t.Errorf("page sizes %v, want [10 10 5]", sizes)
	}
	for _, id := range f.IDs {
		if !seen[id] {
			t.Errorf("%s never listed (gap)", id)
		}
	}
	if len(seen) != listSize {
		t.Errorf("%d distinct memories listed, want %d", len(seen), listSize)
	}
}

func checkListOrder(ctx context.Context, t *T) {
	f := t.listFixture(ctx)
	var times []time.Time
	q := url.Values{"tags": {f.Tag}, "limit": {"7"}}
	for {
		l := t.List(ctx, t.A, q)
		for _, m := range l.Memories {
			times = append(times, m.CreatedAt)
		}
		if l.NextCursor == nil {
			break
		}
		q.Set("cursor", *l.NextCursor)
	}
	for i := 1; i < len(times); i++ {
		if times[i].After(times[i-1]) {
			t.Fatalf("item %d created %s after item %d (%s): not newest first", i, times[i], i-1, times[i-1])
		}
	}
}

// expectIDs compares two id sets, order ignored.
func (t *T) expectIDs(what string, got, want []string) {
	g, w := slices.Clone(got), slices.Clone(want)
	sort.Strings(g)
	sort.Strings(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got %v, want %v", what, g, w)
	}
}

func (f *listFixture) where(pred func(id string) bool) []string {
	var out []string
	for _, id := range f.IDs {
		if pred(id) {
			out = append(out, id)
		}
	}
	return out
}

func checkListFilters(ctx context.Context, t *T) {
	f := t.listFixture(ctx)
	base := func(kv ...string) url.Values {
		q := url.Values{"tags": {f.Tag}}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Add(kv[i], kv[i+1])
		}
		return q
	}
	four, five := t.Name("four"), t.Name("five")
	cases := []struct {
		name string
		q    url.Values
		want []string
	}{
		{"type=meeting", base("type", "meeting"), f.where(func(id string) bool { return f.Type[id] == "meeting" })},
		{"source=email", base("source", "email"), f.where(func(id string) bool { return f.Source[id] == "email" })},
		{"tags four", base("tags", four), f.where(func(id string) bool { return slices.Contains(f.Tags[id], four) })},
		{"tags four and five", base("tags", four, "tags", five),
			f.where(func(id string) bool { return slices.Contains(f.Tags[id], four) && slices.Contains(f.Tags[id], five) })},
		{"metadata[color]=blue", base("metadata[color]", "blue"), f.where(func(id string) bool { return f.Color[id] == "blue" })},
		{"type=task source=slack", base("type", "task", "source", "slack"),
			f.where(func(id string) bool { return f.Type[id] == "task" && f.Source[id] == "slack" })},
		{"type=nothing", base("type", t.Name("no-such-type")), nil},
	}
	for _, tc := range cases {
		got := t.ListAll(ctx, t.A, tc.q)
		t.expectIDs(tc.name, got, tc.want)
		if l := t.List(ctx, t.A, tc.q); l.Total != len(tc.want) {
			t.Errorf("%s: total %d, want %d", tc.name, l.Total, len(tc.want))
		}
	}
}

func checkListCreatedRange(ctx context.Context, t *T) {
	f := t.listFixture(ctx)
	for _, k := range []int{0, 12, 24} {
		at := f.Created[f.IDs[k]]
		stamp := at.Format(time.RFC3339Nano)
		after := t.ListAll(ctx, t.A, url.Values{"tags": {f.Tag}, "created_after": {stamp}})
		t.expectIDs("created_after "+stamp, after, f.where(func(id string) bool { return !f.Created[id].Before(at) }))
		before := t.ListAll(ctx, t.A, url.Values{"tags": {f.Tag}, "created_before": {stamp}})
		t.expectIDs("created_before "+stamp, before, f.where(func(id string) bool { return f.Created[id].Before(at) }))
	}
	far := time.Now().Add(24 * 365 * time.Hour).UTC().Format(time.RFC3339)
	if ids := t.ListAll(ctx, t.A, url.Values{"tags": {f.Tag}, "created_after": {far}}); len(ids) != 0 {
		t.Errorf("created_after a year ahead lists %v", ids)
	}
}

func checkListEmbedding(ctx context.Context, t *T) {
	f := t.listFixture(ctx)
	l := t.List(ctx, t.A, url.Values{"tags": {f.Tag}, "limit": {"3"}})
	for _, m := range l.Memories {
		if m.HasEmbedding {
			t.Errorf("%s listed with its embedding by default", m.ID)
		}
	}
	l = t.List(ctx, t.A, url.Values{"tags": {f.Tag}, "limit": {"3"}, "include_embedding": {"true"}})
	for _, m := range l.Memories {
		if len(m.Embedding) == 0 || len(m.Embedding) != m.VectorDimensions {
			t.Errorf("%s: %d embedding values with include_embedding=true (vector_dimensions %d)", m.ID, len(m.Embedding), m.VectorDimensions)
		}
	}
}

func checkListDefaultLimit(ctx context.Context, t *T) {
	f := t.listFixture(ctx)
	l := t.List(ctx, t.A, url.Values{"tags": {f.Tag}})
	if len(l.Memories) != 20 || !l.HasMore {
		t.Errorf("default page has %d memories (has_more %v), want 20 and more", len(l.Memories), l.HasMore)
	}
}

func checkListInvalid(ctx context.Context, t *T) {
	bad := []url.Values{
		{"limit": {"0"}}, {"limit": {"101"}}, {"limit": {"ten"}},
		{"created_after": {"yesterday"}}, {"created_before": {"2024-13-45"}},
		{"include_embedding": {"maybe"}},
		{"cursor": {"%%%not-a-cursor%%%"}},
	}
	for _, q := range bad {
		resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory", Query: q})
		if resp.Status != http.StatusBadRequest {
			t.Errorf("GET /memory?%s: want 400, got %s", q.Encode(), resp)
			continue
		}
		t.checkEnvelope(resp)
	}
}
