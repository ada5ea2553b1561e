package conformance

import (
	"context"
	"net/http"
	"net/url"
)

// authOp is one authenticated operation, as the auth checks send it.
type authOp struct {
	op, short string
	profile   Profile
	// build returns the request; id names an existing memory of key A.
	build func(id string) Request
}

func authOps() []authOp {
	return []authOp{
		{"createMemory", "CREATE", Core, func(id string) Request {
			return Request{Method: "POST", Path: "/memory", JSON: map[string]any{"id": id, "text": "overwritten?"}}
		}},
		{"listMemories", "LIST", Core, func(string) Request { return Request{Method: "GET", Path: "/memory"} }},
		{"searchMemories", "SEARCH", Core, func(string) Request {
			return Request{Method: "POST", Path: "/memory/search", JSON: map[string]any{"query": "anything"}}
		}},
		{"getMemory", "GET", Core, func(id string) Request { return Request{Method: "GET", Path: "/memory/" + url.PathEscape(id)} }},
		{"updateMemory", "UPDATE", Core, func(id string) Request {
			return Request{Method: "PUT", Path: "/memory/" + url.PathEscape(id), JSON: map[string]any{"text": "overwritten?"}}
		}},
		{"deleteMemory", "DELETE", Core, func(id string) Request {
			return Request{Method: "DELETE", Path: "/memory/" + url.PathEscape(id)}
		}},
		{"createStreamTicket", "TICKET", Stream, func(string) Request { return Request{Method: "POST", Path: "/stream/tickets"} }},
		{"streamEvents", "STREAM", Stream, func(string) Request {
			return Request{Method: "GET", Path: "/stream", Header: http.Header{"Accept": {"text/event-stream"}}}
		}},
	}
}

func authChecks() []Check {
	var out []Check
	for _, o := range authOps() {
		o := o
		out = append(out,
			Check{ID: "AUTH-401-" + o.short, Level: Must, Profile: o.profile, Ref: o.op + " 401",
				Title: o.op + ": a missing, unknown, empty or non-Bearer key is 401 UNAUTHORIZED and changes nothing",
				Run:   func(ctx context.Context, t *T) { checkUnauthorized(ctx, t, o) }},
			Check{ID: "AUTH-403-" + o.short, Level: Must, Profile: o.profile, Ref: o.op + " 403",
				Title: o.op + ": X-Workspace-ID naming a workspace the key may not use is 403 FORBIDDEN and changes nothing",
				Run:   func(ctx context.Context, t *T) { checkForbidden(ctx, t, o) }},
		)
	}
	return append(out,
		Check{ID: "AUTH-WS-001", Level: Must, Profile: Core, Ref: "listMemories 200",
			Title: "X-Workspace-ID naming the key's own workspace is accepted", Run: checkOwnWorkspace},
		Check{ID: "AUTH-WS-002", Level: Must, Profile: Core, Ref: "listMemories 403, createMemory 403",
			Title: "key A with key B's workspace in X-Workspace-ID is 403", Run: checkOtherKeysWorkspace},
	)
}

// guarded creates a memory of key A and, after the check, verifies the
// rejected requests left it alone.
func (t *T) guarded(ctx context.Context, what string) string {
	id := t.Name(what)
	t.Create(ctx, t.A, map[string]any{"id": id, "text": "guarded " + what})
	t.Cleanup(func(ctx context.Context) {
		resp, err := t.A.Do(ctx, Request{Method: "GET", Path: "/memory/" + id})
		if err != nil {
			t.Errorf("re-reading %s: %v", id, err)
			return
		}
		var m Memory
		if resp.Status != http.StatusOK || resp.Decode(&m) != nil || m.Text != "guarded "+what {
			t.Errorf("a rejected request changed or removed %s: %s", id, resp)
		}
	})
	return id
}

func checkUnauthorized(ctx context.Context, t *T, o authOp) {
	id := t.guarded(ctx, "auth401-"+o.short)
	variants := []struct {
		name string
		set  func(*Request)
	}{
		{"no Authorization", func(r *Request) { r.NoAuth = true }},
		{"unknown key", func(r *Request) { r.Auth = "Bearer mk_" + t.RunID + "_unknown" }},
		{"empty bearer", func(r *Request) { r.Auth = "Bearer " }},
		{"Basic scheme", func(r *Request) { r.Auth = "Basic " + "dXNlcjpwYXNz" }},
		{"key without scheme", func(r *Request) { r.Auth = t.A.Key }},
	}
	for _, v := range variants {
		r := o.build(id)
		v.set(&r)
		resp := t.Do(ctx, t.A, r)
		if resp.Status != http.StatusUnauthorized {
			t.Errorf("%s: want 401, got %s", v.name, resp)
			continue
		}
		t.checkEnvelope(resp)
	}
}

func checkForbidden(ctx context.Context, t *T, o authOp) {
	id := t.guarded(ctx, "auth403-"+o.short)
	r := o.build(id)
	r.Workspace = t.Name("not-yours")
	t.ExpectError(t.Do(ctx, t.A, r), http.StatusForbidden)
}

func checkOwnWorkspace(ctx context.Context, t *T) {
	if t.A.Workspace == "" {
		t.Skipf("no --workspace-a given")
	}
	t.List(ctx, t.A, url.Values{"limit": {"1"}})
}

func checkOtherKeysWorkspace(ctx context.Context, t *T) {
	t.NeedB()
	if t.B.Workspace == "" || t.B.Workspace == t.A.Workspace {
		t.Skipf("needs distinct --workspace-a and --workspace-b")
	}
	t.ExpectError(t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory", Workspace: t.B.Workspace}), http.StatusForbidden)
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory", Workspace: t.B.Workspace, JSON: map[string]any{"text": "x"}})
	if resp.Status < 300 {
		var sr StoreResult
		if resp.Decode(&sr) == nil {
			deleteQuietly(ctx, t.B, sr.ID)
		}
	}
	t.ExpectError(resp, http.StatusForbidden)
}
