package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/memoryd/memoryd/conformance/ndjson"
)

// Responses in NDJSON are checked line by line against the line schema.
func init() { ndjson.Register() }

func exportChecks() []Check {
	exp := authOp{"exportMemories", "EXPORT", Core, func(string) Request { return Request{Method: "GET", Path: "/memory/export"} }}
	imp := authOp{"importMemories", "IMPORT", Core, func(id string) Request {
		return Request{Method: "POST", Path: "/memory/import", ContentType: ndjson.MediaType,
			Raw: []byte(`{"id":"` + id + `","text":"overwritten?"}` + "\n")}
	}}
	return []Check{
		{ID: "MEM-EXPORT-001", Level: Must, Profile: Core, Ref: "exportMemories 200",
			Title: "GET /memory/export streams every memory as NDJSON with its vector, resumable from any line's cursor", Run: checkExport},
		{ID: "MEM-EXPORT-002", Level: Must, Profile: Core, Ref: "exportMemories 400",
			Title: "an export cursor the server did not issue is 400", Run: checkExportBadCursor},
		{ID: "MEM-EXPORT-003", Level: Must, Profile: Core, Ref: "exportMemories 401",
			Title: "exportMemories: a missing or bad key is 401 UNAUTHORIZED",
			Run:   func(ctx context.Context, t *T) { checkUnauthorized(ctx, t, exp) }},
		{ID: "MEM-EXPORT-004", Level: Must, Profile: Core, Ref: "exportMemories 403",
			Title: "exportMemories: a workspace the key may not use is 403 FORBIDDEN",
			Run:   func(ctx context.Context, t *T) { checkForbidden(ctx, t, exp) }},
		{ID: "MEM-IMPORT-001", Level: Must, Profile: Core, Ref: "importMemories 200",
			Title: "POST /memory/import stores an export's lines with their vectors, reports a bad line by number and goes on", Run: checkImport},
		{ID: "MEM-IMPORT-002", Level: Must, Profile: Core, Ref: "importMemories 400",
			Title: "an import body that is not application/x-ndjson is 400 and stores nothing", Run: checkImportNotNDJSON},
		{ID: "MEM-IMPORT-003", Level: Must, Profile: Core, Ref: "importMemories 401",
			Title: "importMemories: a missing or bad key is 401 UNAUTHORIZED and changes nothing",
			Run:   func(ctx context.Context, t *T) { checkUnauthorized(ctx, t, imp) }},
		{ID: "MEM-IMPORT-004", Level: Must, Profile: Core, Ref: "importMemories 403",
			Title: "importMemories: a workspace the key may not use is 403 FORBIDDEN and changes nothing",
			Run:   func(ctx context.Context, t *T) { checkForbidden(ctx, t, imp) }},
		{ID: "MEM-IMPORT-005", Level: Must, Profile: Core, Ref: "importMemories 413",
			Title: "an import body declared larger than the server's import limit is 413 before it is read", Run: checkImportTooLarge},
	}
}

// exportLine is one line of an export.
type exportLine struct {
	ID             string    `json:"id"`
	Text           string    `json:"text"`
	Embedding      []float64 `json:"embedding"`
	EmbeddingModel string    `json:"embedding_model"`
	Cursor         string    `json:"cursor"`
	Error          string    `json:"error"`
}

func (t *T) export(ctx context.Context, cursor string) []exportLine {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory/export", Query: q})
	t.Expect(resp, http.StatusOK)
	var out []exportLine
	for _, raw := range bytes.Split(resp.Body, []byte("\n")) {
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var l exportLine
		if err := json.Unmarshal(raw, &l); err != nil || l.Error != "" {
			t.Fatalf("export line %s: %v", snippet(raw), err)
		}
		out = append(out, l)
	}
	return out
}

func checkExport(ctx context.Context, t *T) {
	ids := []string{t.Name("export-1"), t.Name("export-2"), t.Name("export-3")}
	for _, id := range ids {
		t.Create(ctx, t.A, map[string]any{"id": id, "text": "exported " + id})
	}
	lines := t.export(ctx, "")
	at := map[string]int{}
	for i, l := range lines {
		at[l.ID] = i
		if l.Cursor == "" {
			t.Fatalf("line %d (%s) has no cursor", i+1, l.ID)
		}
	}
	for _, id := range ids {
		i, ok := at[id]
		if !ok {
			t.Fatalf("%s missing from the export of %d lines", id, len(lines))
		}
		if l := lines[i]; l.Text != "exported "+id || len(l.Embedding) == 0 || l.EmbeddingModel == "" {
			t.Fatalf("%s exported as %q with %d dims of %q", id, l.Text, len(l.Embedding), l.EmbeddingModel)
		}
	}
	if !(at[ids[0]] < at[ids[1]] && at[ids[1]] < at[ids[2]]) {
		t.Errorf("export order %d, %d, %d: not the order of creation", at[ids[0]], at[ids[1]], at[ids[2]])
	}
	rest := t.export(ctx, lines[at[ids[0]]].Cursor)
	seen := map[string]bool{}
	for _, l := range rest {
		seen[l.ID] = true
	}
	if seen[ids[0]] || !seen[ids[1]] || !seen[ids[2]] {
		t.Errorf("export resumed after %s: has it %v, %s %v, %s %v", ids[0], seen[ids[0]], ids[1], seen[ids[1]], ids[2], seen[ids[2]])
	}
}

func checkExportBadCursor(ctx context.Context, t *T) {
	t.ExpectError(t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory/export", Query: url.Values{"cursor": {"not-a-cursor!"}}}),
		http.StatusBadRequest)
}

// ImportReport is POST /memory/import's answer.
type ImportReport struct {
	Lines             int `json:"lines"`
	Imported          int `json:"imported"`
	Failed            int `json:"failed"`
	Reembedded        int `json:"reembedded"`
	LastCommittedLine int `json:"last_committed_line"`
	Errors            []struct {
		Line  int    `json:"line"`
		Error string `json:"error"`
	} `json:"errors"`
}

func checkImport(ctx context.Context, t *T) {
	src := t.Name("import-src")
	t.Create(ctx, t.A, map[string]any{"id": src, "text": "import source " + t.RunID})
	var line exportLine
	for _, l := range t.export(ctx, "") {
		if l.ID == src {
			line = l
		}
	}
	if line.ID == "" {
		t.Fatalf("%s missing from the export", src)
	}
	a, b := t.Name("import-a"), t.Name("import-b")
	t.Cleanup(func(ctx context.Context) { deleteQuietly(ctx, t.A, a); deleteQuietly(ctx, t.A, b) })
	mk := func(id string) string {
		l := map[string]any{"id": id, "text": line.Text, "embedding": line.Embedding, "embedding_model": line.EmbeddingModel}
		j, _ := json.Marshal(l)
		return string(j)
	}
	body := mk(a) + "\n{\"id\": \"broken\n" + mk(b) + "\n"
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory/import", ContentType: ndjson.MediaType, Raw: []byte(body)})
	t.Expect(resp, http.StatusOK)
	var rep ImportReport
	if err := resp.Decode(&rep); err != nil {
		t.Fatalf("%v", err)
	}
	if rep.Lines != 3 || rep.Imported != 2 || rep.Failed != 1 || rep.LastCommittedLine != 3 || len(rep.Errors) != 1 || rep.Errors[0].Line != 2 {
		t.Fatalf("report %+v, want 3 lines, 2 imported, line 2 refused", rep)
	}
	if rep.Reembedded != 0 {
		t.Errorf("%d lines re-embedded: the export's own model and dimension must be kept", rep.Reembedded)
	}
	m := t.Get(ctx, t.A, b, nil)
	if m.Text != line.Text || fmt.Sprint(m.Embedding) != fmt.Sprint(line.Embedding) {
		t.Errorf("%s imported with another text or vector than its line's", b)
	}
}

func checkImportNotNDJSON(ctx context.Context, t *T) {
	id := t.Name("import-json")
	t.ExpectError(t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory/import", JSON: map[string]any{"id": id, "text": "x"}}),
		http.StatusBadRequest)
	resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory/" + id})
	if resp.Status == http.StatusOK {
		deleteQuietly(ctx, t.A, id)
	}
	t.ExpectError(resp, http.StatusNotFound)
}

// checkImportTooLarge declares a 1 TiB body and sends a few bytes of it:
// the answer must come before the rest.
func checkImportTooLarge(ctx context.Context, t *T) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := t.A.NewHTTPRequest(ctx, Request{Method: "POST", Path: "/memory/import", ContentType: ndjson.MediaType, Raw: []byte{}})
	if err != nil {
		t.Fatalf("%v", err)
	}
	req.ContentLength = 1 << 40
	req.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"text":"x"}`+"\n"), &stalled{ctx: ctx}))
	res, err := t.A.hc.Do(req)
	if err != nil {
		t.Fatalf("no answer to a body declared at 1 TiB: %v", err)
	}
	defer res.Body.Close()
	out := &Response{Method: req.Method, URL: req.URL.String(), Status: res.StatusCode, Header: res.Header}
	out.Body, _ = io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if _, err := t.A.Validate(ctx, req, out, false); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	t.ExpectError(out, http.StatusRequestEntityTooLarge)
}

// stalled is a body that sends nothing more until ctx ends.
type stalled struct{ ctx context.Context }

func (s *stalled) Read([]byte) (int, error) {
	<-s.ctx.Done()
	return 0, s.ctx.Err()
}
