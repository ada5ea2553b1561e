package mcp_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/memoryd/memoryd/internal/testenv"
)

// waitLimit bounds every call: it only guards against a hung test.
const waitLimit = testenv.WaitLimit

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a client session on transport.
func connect(t *testing.T, transport sdk.Transport) *sdk.ClientSession {
	t.Helper()
	c := sdk.NewClient(&sdk.Implementation{Name: "memoryd-test", Version: "1"}, nil)
	cs, err := c.Connect(ctxFor(t), transport, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// call calls a tool that must succeed and decodes its structured content.
func call(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any, out any) *sdk.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(ctxFor(t), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		t.Fatalf("%s(%v) failed: %s", name, args, text(res))
	}
	if out != nil {
		remarshal(t, res.StructuredContent, out)
	}
	return res
}

// callErr calls a tool that must fail with code, and returns the error
// envelope it carried.
func callErr(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any, code string) envelope {
	t.Helper()
	res, err := cs.CallTool(ctxFor(t), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !res.IsError {
		t.Fatalf("%s(%v) succeeded, want a %s tool error: %s", name, args, code, text(res))
	}
	var env envelope
	remarshal(t, res.StructuredContent, &env)
	if env.Error != code || env.Message == "" {
		t.Fatalf("%s(%v): error %+v, want code %s", name, args, env, code)
	}
	if !strings.HasPrefix(text(res), code+": ") {
		t.Fatalf("%s: text %q does not start with the code %s", name, text(res), code)
	}
	return env
}

type envelope struct {
	Error   string         `json:"error"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

func text(res *sdk.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func remarshal(t *testing.T, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

type memory struct {
	ID        string         `json:"id"`
	Text      string         `json:"text"`
	Metadata  map[string]any `json:"metadata"`
	Embedding []float32      `json:"embedding"`
	CreatedBy string         `json:"created_by"`
}

// exercise runs every tool through cs as a user would, checking each
// answer, and returns the id of a memory it deleted.
func exercise(t *testing.T, cs *sdk.ClientSession) (deleted string) {
	t.Helper()
	tools, err := cs.ListTools(ctxFor(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
		if len(tool.Description) < 40 {
			t.Errorf("tool %s: description %q is too short to guide a model", tool.Name, tool.Description)
		}
	}
	slices.Sort(names)
	if want := []string{"delete", "get", "list", "search", "store", "update"}; !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}

	var stored struct{ ID, Status string }
	res := call(t, cs, "store", map[string]any{"text": "The user prefers green tea in the morning",
		"metadata": map[string]any{"type": "preference", "tags": []string{"drinks"}}}, &stored)
	if stored.ID == "" || stored.Status != "stored" || !strings.Contains(text(res), stored.ID) {
		t.Fatalf("store: %+v, text %q", stored, text(res))
	}
	// Upsert: a chosen id is created, then replaced.
	call(t, cs, "store", map[string]any{"id": "deploy-day", "text": "Deploys happen on Tuesdays"}, &stored)
	if stored.ID != "deploy-day" || stored.Status != "stored" {
		t.Fatalf("store with a new id: %+v", stored)
	}
	call(t, cs, "store", map[string]any{"id": "deploy-day", "text": "Deploys happen on Thursdays"}, &stored)
	if stored.Status != "updated" {
		t.Fatalf("store with an existing id: %+v, want status updated", stored)
	}

	var found struct {
		Results []struct {
			Memory memory
			Score  float32
		}
		TotalResults int `json:"total_results"`
		Mode         string
	}
	res = call(t, cs, "search", map[string]any{"query": "green tea morning", "limit": 1}, &found)
	if found.TotalResults != 1 || found.Results[0].Memory.Text != "The user prefers green tea in the morning" ||
		found.Mode != "semantic" || found.Results[0].Memory.Embedding != nil {
		t.Fatalf("search: %+v", found)
	}
	if !strings.Contains(text(res), "green tea") || !strings.Contains(text(res), found.Results[0].Memory.ID) {
		t.Fatalf("search text %q lacks the hit", text(res))
	}
	call(t, cs, "search", map[string]any{"query": "tea", "mode": "keyword",
		"filters": map[string]any{"type": "preference", "tags": []string{"drinks"}}}, &found)
	if found.TotalResults != 1 || found.Mode != "keyword" {
		t.Fatalf("filtered keyword search: %+v", found)
	}

	var got memory
	call(t, cs, "get", map[string]any{"id": "deploy-day"}, &got)
	if got.Text != "Deploys happen on Thursdays" || got.Embedding != nil {
		t.Fatalf("get: %+v", got)
	}

	call(t, cs, "store", map[string]any{"text": "A third memory"}, nil)
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		var page struct {
			Memories   []memory
			Total      int
			HasMore    bool   `json:"has_more"`
			NextCursor string `json:"next_cursor"`
		}
		args := map[string]any{"limit": 2}
		if cursor != "" {
			args["cursor"] = cursor
		}
		res := call(t, cs, "list", args, &page)
		if page.Total != 3 || pages > 2 {
			t.Fatalf("list page %d: %+v", pages, page)
		}
		for _, m := range page.Memories {
			seen[m.ID] = true
		}
		if !page.HasMore {
			break
		}
		if !strings.Contains(text(res), page.NextCursor) {
			t.Fatalf("list text %q does not give the cursor", text(res))
		}
		cursor = page.NextCursor
	}
	if len(seen) != 3 || !seen["deploy-day"] {
		t.Fatalf("list over pages saw %v", seen)
	}

	var upd struct {
		Status      string
		Regenerated bool `json:"embedding_regenerated"`
	}
	call(t, cs, "update", map[string]any{"id": "deploy-day", "text": "Deploys happen on Fridays",
		"metadata": map[string]any{"type": "process"}}, &upd)
	if upd.Status != "updated" || !upd.Regenerated {
		t.Fatalf("update: %+v", upd)
	}
	call(t, cs, "get", map[string]any{"id": "deploy-day"}, &got)
	if got.Text != "Deploys happen on Fridays" || got.Metadata["type"] != "process" {
		t.Fatalf("get after update: %+v", got)
	}

	var del struct {
		Success   bool
		DeletedID string `json:"deleted_id"`
	}
	call(t, cs, "delete", map[string]any{"id": "deploy-day"}, &del)
	if !del.Success || del.DeletedID != "deploy-day" {
		t.Fatalf("delete: %+v", del)
	}
	callErr(t, cs, "get", map[string]any{"id": "deploy-day"}, "NOT_FOUND")
	callErr(t, cs, "delete", map[string]any{"id": "deploy-day"}, "NOT_FOUND")
	callErr(t, cs, "update", map[string]any{"id": "deploy-day", "text": "x"}, "NOT_FOUND")
	return "deploy-day"
}

// TestBadArgumentsAreInvalidRequests checks that arguments the API would
// refuse are refused with its code, and change nothing.
func TestBadArgumentsAreInvalidRequests(t *testing.T) {
	cs, _ := stdio(t)
	for _, c := range []struct {
		tool  string
		args  map[string]any
		field string
	}{
		{"store", map[string]any{"text": ""}, "text"},
		{"store", map[string]any{"text": "x", "embedding": []float32{1}}, ""},
		{"store", map[string]any{"text": "x", "id": "no spaces"}, "id"},
		{"store", map[string]any{"text": "x", "metadata": map[string]any{"tags": "not-a-list"}}, ""},
		{"store", map[string]any{"text": "x", "id": "search"}, ""},
		{"search", map[string]any{"query": "x", "limit": 101}, "limit"},
		{"search", map[string]any{"query": "x", "mode": "fuzzy"}, "mode"},
		{"search", map[string]any{"limit": 3}, ""},
		// alpha reaches the service, which refuses it outside hybrid.
		{"search", map[string]any{"query": "x", "mode": "semantic", "alpha": 0.5}, ""},
		{"list", map[string]any{"cursor": strings.Repeat("c", 513)}, "cursor"},
		{"list", map[string]any{"created_after": "yesterday"}, ""},
		{"update", map[string]any{"id": "x"}, ""},
		{"get", map[string]any{}, ""},
	} {
		env := callErr(t, cs, c.tool, c.args, "INVALID_REQUEST")
		if c.field != "" {
			fields, _ := env.Details["fields"].(map[string]any)
			if _, ok := fields[c.field]; !ok {
				t.Errorf("%s(%v): details %v do not name %s", c.tool, c.args, env.Details, c.field)
			}
		}
	}
	var page struct{ Total int }
	call(t, cs, "list", nil, &page)
	if page.Total != 0 {
		t.Fatalf("refused calls stored %d memories", page.Total)
	}
}

// TestNullArgumentsAreAbsent: models often send null for "not given".
func TestNullArgumentsAreAbsent(t *testing.T) {
	cs, _ := stdio(t)
	var stored struct{ ID string }
	call(t, cs, "store", map[string]any{"text": "hello", "id": nil, "metadata": nil}, &stored)
	var page struct{ Total int }
	call(t, cs, "list", map[string]any{"cursor": nil, "limit": nil}, &page)
	if stored.ID == "" || page.Total != 1 {
		t.Fatalf("stored %+v, listed %d", stored, page.Total)
	}
}

// logger writes to the test log.
func logger(t *testing.T) *slog.Logger {
	return testenv.Logger(t, slog.LevelWarn)
}
