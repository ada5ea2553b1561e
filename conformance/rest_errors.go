package conformance

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

func errorChecks() []Check {
	return []Check{
		{ID: "ERR-BODY-001", Level: Must, Profile: Core, Ref: "createMemory 400",
			Title: "POST /memory without text is 400 INVALID_REQUEST with details.missing_fields [text]", Run: checkMissingText},
		{ID: "ERR-BODY-002", Level: Must, Profile: Core, Ref: "createMemory 400",
			Title: "an unknown top-level field is 400 (additionalProperties: false)", Run: checkUnknownField},
		{ID: "ERR-BODY-003", Level: Must, Profile: Core, Ref: "createMemory 400",
			Title: "wrong JSON types (text, metadata, tags, embedding, id) are 400", Run: checkWrongTypes},
		{ID: "ERR-BODY-004", Level: Should, Profile: Core, Ref: "createMemory 400",
			Title: "a 400 for a wrong type names the field in details", Run: checkWrongTypeDetails},
		{ID: "ERR-BODY-005", Level: Must, Profile: Core, Ref: "createMemory 400",
			Title: "malformed JSON, an empty body, an empty text or an id outside the pattern is 400", Run: checkMalformed},
		{ID: "ERR-BODY-006", Level: Must, Profile: Core, Ref: "createMemory 413",
			Title: "an oversized body is 413 PAYLOAD_TOO_LARGE with the error envelope", Run: checkCreateTooLarge},
		{ID: "ERR-BODY-007", Level: Must, Profile: Core, Ref: "createMemory 400",
			Title: "a rejected request stores nothing", Run: checkRejectedStoresNothing},
	}
}

func (t *T) post(ctx context.Context, body any) *Response {
	return t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory", JSON: body})
}

// expect400 expects a 400 envelope and deletes whatever a lenient server stored.
func (t *T) expect400(ctx context.Context, resp *Response, what string) (ErrorBody, bool) {
	if resp.Status != http.StatusBadRequest {
		if resp.Status < 300 {
			var sr StoreResult
			if resp.Decode(&sr) == nil {
				deleteQuietly(ctx, t.A, sr.ID)
			}
		}
		t.Errorf("%s: want 400, got %s", what, resp)
		return ErrorBody{}, false
	}
	return t.checkEnvelope(resp), true
}

func checkMissingText(ctx context.Context, t *T) {
	for _, body := range []map[string]any{{}, {"metadata": map[string]any{"type": "x"}}} {
		e, ok := t.expect400(ctx, t.post(ctx, body), fmt.Sprint(body))
		if !ok {
			continue
		}
		missing, _ := e.Details["missing_fields"].([]any)
		if !slices.Contains(missing, any("text")) {
			t.Errorf("details.missing_fields %v, want it to list text", e.Details["missing_fields"])
		}
	}
}

func checkUnknownField(ctx context.Context, t *T) {
	t.expect400(ctx, t.post(ctx, map[string]any{"text": "x", "colour": "blue"}), "unknown field colour")
	t.expect400(ctx, t.post(ctx, map[string]any{"text": "x", "Text": "y"}), "field Text (case differs)")
}

func wrongTypeBodies() []map[string]any {
	return []map[string]any{
		{"text": 123},
		{"text": []string{"a"}},
		{"text": nil},
		{"text": "x", "metadata": "not an object"},
		{"text": "x", "metadata": map[string]any{"tags": "not-an-array"}},
		{"text": "x", "metadata": map[string]any{"type": 5}},
		{"text": "x", "metadata": map[string]any{"timestamp": "last tuesday"}},
		{"text": "x", "embedding": "0.1,0.2"},
		{"text": "x", "embedding": []any{"a", "b"}},
		{"text": "x", "embedding": []any{}},
		{"text": "x", "id": 7},
	}
}

func checkWrongTypes(ctx context.Context, t *T) {
	for _, b := range wrongTypeBodies() {
		t.expect400(ctx, t.post(ctx, b), fmt.Sprint(b))
	}
}

func checkWrongTypeDetails(ctx context.Context, t *T) {
	e, ok := t.expect400(ctx, t.post(ctx, map[string]any{"text": 123}), "text 123")
	if !ok {
		return
	}
	blob := strings.ToLower(fmt.Sprint(e.Details))
	if !strings.Contains(blob, "text") {
		t.Errorf("details %v do not name the field text", e.Details)
	}
}

func checkMalformed(ctx context.Context, t *T) {
	raws := []string{`{"text": "x"`, `not json`, ``, `[]`, `"text"`, `{"text": "x"} trailing`}
	for _, r := range raws {
		resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory", Raw: []byte(r), ContentType: "application/json"})
		t.expect400(ctx, resp, fmt.Sprintf("body %q", r))
	}
	t.expect400(ctx, t.post(ctx, map[string]any{"text": ""}), "empty text")
	for _, id := range badIDs() {
		t.expect400(ctx, t.post(ctx, map[string]any{"text": "x", "id": id}), "id "+id)
	}
}

func checkCreateTooLarge(ctx context.Context, t *T) {
	big := strings.Repeat("z", t.suite.cfg.OversizeBytes)
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory", Raw: []byte(`{"text":"` + big + `"}`)})
	if resp.Status == http.StatusCreated {
		var sr StoreResult
		if resp.Decode(&sr) == nil {
			deleteQuietly(ctx, t.A, sr.ID)
		}
	}
	t.ExpectError(resp, http.StatusRequestEntityTooLarge)
}

func checkRejectedStoresNothing(ctx context.Context, t *T) {
	id := t.Name("rejected")
	t.expect400(ctx, t.post(ctx, map[string]any{"id": id, "text": "x", "colour": "blue"}), "unknown field")
	t.expect400(ctx, t.post(ctx, map[string]any{"id": id, "text": "x", "embedding": []any{"a"}}), "bad embedding")
	resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory/" + id})
	if resp.Status == http.StatusOK {
		deleteQuietly(ctx, t.A, id)
	}
	t.ExpectError(resp, http.StatusNotFound)
}
