package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

func batchChecks() []Check {
	op := authOp{"createMemories", "BATCH", Core, func(id string) Request {
		return Request{Method: "POST", Path: "/memory/batch", JSON: map[string]any{"memories": []any{map[string]any{"id": id, "text": "overwritten?"}}}}
	}}
	return []Check{
		{ID: "MEM-BATCH-001", Level: Must, Profile: Core, Ref: "createMemories 200",
			Title: "POST /memory/batch stores each valid item, refuses a duplicate id alone, one result per item in order", Run: checkBatch},
		{ID: "MEM-BATCH-002", Level: Must, Profile: Core, Ref: "createMemories 400",
			Title: "a batch of 0 or 1001 items, or with an unknown field, is 400 and stores nothing", Run: checkBatchRefused},
		{ID: "MEM-BATCH-003", Level: Must, Profile: Core, Ref: "createMemories 401",
			Title: "createMemories: a missing or bad key is 401 UNAUTHORIZED and changes nothing",
			Run:   func(ctx context.Context, t *T) { checkUnauthorized(ctx, t, op) }},
		{ID: "MEM-BATCH-004", Level: Must, Profile: Core, Ref: "createMemories 403",
			Title: "createMemories: a workspace the key may not use is 403 FORBIDDEN and changes nothing",
			Run:   func(ctx context.Context, t *T) { checkForbidden(ctx, t, op) }},
		{ID: "MEM-BATCH-005", Level: Must, Profile: Core, Ref: "createMemories 413",
			Title: "an oversized batch body is 413 PAYLOAD_TOO_LARGE", Run: checkBatchTooLarge},
	}
}

// BatchResponse is POST /memory/batch's answer.
type BatchResponse struct {
	Results []struct {
		Index  int          `json:"index"`
		Status string       `json:"status"`
		Result *StoreResult `json:"result"`
		Error  *ErrorBody   `json:"error"`
	} `json:"results"`
	Stored, Updated, Failed int
}

func checkBatch(ctx context.Context, t *T) {
	a, b := t.Name("batch-a"), t.Name("batch-b")
	t.Create(ctx, t.A, map[string]any{"id": b, "text": "before the batch"})
	t.Cleanup(func(ctx context.Context) { deleteQuietly(ctx, t.A, a) })
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory/batch", JSON: map[string]any{"memories": []any{
		map[string]any{"id": a, "text": "batch item one " + t.RunID},
		map[string]any{"id": b, "text": "batch item two " + t.RunID},
		map[string]any{"id": a, "text": "the same id again"},
	}}})
	t.Expect(resp, http.StatusOK)
	var br BatchResponse
	if err := resp.Decode(&br); err != nil {
		t.Fatalf("%v", err)
	}
	var got []string
	for i, r := range br.Results {
		got = append(got, r.Status)
		if r.Index != i {
			t.Errorf("result %d has index %d", i, r.Index)
		}
	}
	if strings.Join(got, ",") != "stored,updated,failed" || br.Stored != 1 || br.Updated != 1 || br.Failed != 1 {
		t.Fatalf("results %v (stored %d, updated %d, failed %d), want stored,updated,failed", got, br.Stored, br.Updated, br.Failed)
	}
	if e := br.Results[2].Error; e == nil || e.Error != "INVALID_REQUEST" || e.Message == "" {
		t.Errorf("the duplicate's error is %+v, want an INVALID_REQUEST envelope", e)
	}
	if r := br.Results[0].Result; r == nil || r.ID != a || !r.EmbeddingGenerated {
		t.Errorf("first result %+v, want %s embedded by the server", r, a)
	}
	if m := t.Get(ctx, t.A, a, nil); m.Text != "batch item one "+t.RunID {
		t.Errorf("%s reads %q: the refused duplicate overwrote it", a, m.Text)
	}
	if m := t.Get(ctx, t.A, b, nil); m.Text != "batch item two "+t.RunID {
		t.Errorf("%s reads %q, want the batch's text", b, m.Text)
	}
}

func checkBatchRefused(ctx context.Context, t *T) {
	id := t.Name("batch-refused")
	many := make([]any, 1001)
	for i := range many {
		many[i] = map[string]any{"id": fmt.Sprintf("%s-%d", id, i), "text": "x"}
	}
	for _, body := range []map[string]any{
		{"memories": []any{}},
		{"memories": many},
		{"memories": []any{map[string]any{"id": id, "text": "x", "colour": "blue"}}},
	} {
		t.ExpectError(t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory/batch", JSON: body}), http.StatusBadRequest)
	}
	for _, probe := range []string{id, id + "-0"} {
		resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory/" + probe})
		if resp.Status == http.StatusOK {
			deleteQuietly(ctx, t.A, probe)
		}
		t.ExpectError(resp, http.StatusNotFound)
	}
}

func checkBatchTooLarge(ctx context.Context, t *T) {
	big := strings.Repeat("z", t.suite.cfg.OversizeBytes)
	id := t.Name("batch-large")
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory/batch",
		Raw: []byte(`{"memories":[{"id":"` + id + `","text":"` + big + `"}]}`)})
	if resp.Status == http.StatusOK {
		deleteQuietly(ctx, t.A, id)
	}
	t.ExpectError(resp, http.StatusRequestEntityTooLarge)
}
