package conformance

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

func systemChecks() []Check {
	return []Check{
		{ID: "SYS-HEALTH-001", Level: Must, Profile: Core, Ref: "getHealth 200",
			Title: "GET /health answers 200 {status: ok} without a key", Run: checkHealth},
		{ID: "SYS-READY-001", Level: Must, Profile: Core, Ref: "getReadiness 200, getReadiness 503",
			Title: "GET /ready answers 200 when ready (503 with the Health body otherwise), without a key", Run: checkReady},
		{ID: "SYS-OPENAPI-001", Level: Must, Profile: Core, Ref: "getOpenAPI 200",
			Title: "GET /openapi.yaml serves a valid OpenAPI 3 document with every operation of the contract", Run: checkOpenAPIServed},
		{ID: "SYS-ASYNCAPI-001", Level: Must, Profile: Core, Ref: "getAsyncAPI 200",
			Title: "GET /asyncapi.yaml serves an AsyncAPI 3 document with every message of the contract, without a key", Run: checkAsyncAPIServed},
	}
}

type health struct {
	Status string `json:"status"`
}

func checkHealth(ctx context.Context, t *T) {
	resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/health", NoAuth: true, NoWorkspace: true})
	t.Expect(resp, http.StatusOK)
	var h health
	if err := resp.Decode(&h); err != nil {
		t.Fatalf("%v", err)
	}
	if h.Status != "ok" {
		t.Fatalf("status %q, want ok", h.Status)
	}
}

func checkReady(ctx context.Context, t *T) {
	resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/ready", NoAuth: true, NoWorkspace: true})
	t.Expect(resp, http.StatusOK, http.StatusServiceUnavailable)
	var h health
	if err := resp.Decode(&h); err != nil {
		t.Fatalf("%v", err)
	}
	want := map[int]string{200: "ok", 503: "unavailable"}[resp.Status]
	if h.Status != want {
		t.Fatalf("status %q with HTTP %d, want %q", h.Status, resp.Status, want)
	}
	if resp.Status != http.StatusOK {
		// The 503 shape conforms, but every other check needs a ready server.
		t.Fatalf("server is not ready: %s", resp)
	}
}

func checkOpenAPIServed(ctx context.Context, t *T) {
	resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/openapi.yaml", NoAuth: true, NoWorkspace: true})
	t.Expect(resp, http.StatusOK)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(resp.Body)
	if err != nil {
		t.Fatalf("served document does not load: %v", err)
	}
	// Validation resolves only local references; the limit is for a
	// document that never finishes, not for a slow machine.
	const validateLimit = time.Minute
	vctx, cancel := context.WithTimeout(ctx, validateLimit)
	defer cancel()
	if err := doc.Validate(vctx); err != nil {
		if vctx.Err() != nil {
			t.Fatalf("validating the served document exceeded its %s limit: %v", validateLimit, err)
		}
		t.Fatalf("served document is not valid OpenAPI: %v", err)
	}
	served := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			served[op.OperationID] = true
		}
	}
	for _, op := range t.suite.spec.Operations() {
		if !served[op.ID] {
			t.Errorf("served document lacks operation %s (%s %s)", op.ID, op.Method, op.Path)
		}
	}
}

func checkAsyncAPIServed(ctx context.Context, t *T) {
	resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/asyncapi.yaml", NoAuth: true, NoWorkspace: true})
	t.Expect(resp, http.StatusOK)
	served, version, err := asyncMessageNames(resp.Body)
	if err != nil {
		t.Fatalf("served document is not YAML: %v", err)
	}
	if !strings.HasPrefix(version, "3.") {
		t.Fatalf("served document has asyncapi %q, want 3.x", version)
	}
	want, err := AsyncMessages()
	if err != nil {
		t.Fatalf("%v", err)
	}
	for _, m := range want {
		if !slices.Contains(served, m) {
			t.Errorf("served document lacks message %s", m)
		}
	}
}
