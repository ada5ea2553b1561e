package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeAPI is a few hand-written handlers, enough to exercise the suite's
// own machinery (routing, validation, envelopes, SSE reading). It is not a
// memoryd implementation.
func fakeAPI(t *testing.T, prefix string) (*httptest.Server, *http.Header) {
	t.Helper()
	last := &http.Header{}
	mux := http.NewServeMux()
	j := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	mux.HandleFunc("GET "+prefix+"/api/v1/health", func(w http.ResponseWriter, r *http.Request) {
		*last = r.Header.Clone()
		switch r.URL.Query().Get("mode") {
		case "bad":
			j(w, 200, `{"status":"weird"}`)
		case "teapot":
			j(w, 418, `{"status":"ok"}`)
		default:
			j(w, 200, `{"status":"ok"}`)
		}
	})
	mux.HandleFunc("GET "+prefix+"/api/v1/memory/{id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "envelope":
			j(w, 404, `{"error":"NOT_FOUND","message":"No such memory"}`)
		case "wrongcode":
			j(w, 404, `{"error":"FORBIDDEN","message":"x"}`)
		case "nomessage":
			j(w, 404, `{"error":"NOT_FOUND","message":""}`)
		case "limited":
			j(w, 429, `{"error":"RATE_LIMITED","message":"slow down","retry_after":3}`)
		default:
			j(w, 404, `{"error":"NOT_FOUND"}`) // message missing: violates the schema
		}
	})
	mux.HandleFunc("POST "+prefix+"/api/v1/memory", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if _, err := io.ReadAll(r.Body); err != nil {
			j(w, 413, `{"error":"PAYLOAD_TOO_LARGE","message":"too large"}`)
			return
		}
		j(w, 400, `{"error":"INVALID_REQUEST","message":"Text field is required","details":{"missing_fields":["text"]}}`)
	})
	mux.HandleFunc("GET "+prefix+"/api/v1/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.WriteHeader(200)
		welcome := `{"connection_id":"c1","position":"p1","head":"p1","heartbeat":30,"events":[],"filters":{},"workspace":"default","retry":3000}`
		if r.URL.Query().Get("mode") == "bad" {
			welcome = `{"connection_id":"c1"}`
		}
		fmt.Fprintf(w, "retry: 3000\nid: p1\nevent: welcome\ndata: %s\n\n: keepalive\n\n", welcome)
		fmt.Fprintf(w, "id: p2\nevent: memory.deleted\ndata: {\"id\":\"m1\",\"deleted_at\":\"2024-01-15T10:32:00Z\",\"deleted_by\":\"u\",\"reason\":\"user_request\"}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, last
}

// runOne runs a single check function against base and returns its result.
func runOne(t *testing.T, base string, f func(ctx context.Context, t *T)) Result {
	t.Helper()
	s := newTestSuite(t, Config{BaseURL: base, KeyA: "secret-a", WorkspaceA: "ws-a", OversizeBytes: 2 << 20})
	rep := s.Run(context.Background(), []Check{{ID: "T-X-001", Level: Must, Profile: Core, Ref: "x", Timeout: 10 * time.Second, Run: f}})
	return rep.Results[0]
}

func TestClientValidatesResponses(t *testing.T) {
	for _, prefix := range []string{"", "/under/a/path"} {
		srv, last := fakeAPI(t, prefix)
		base := srv.URL + prefix
		s := newTestSuite(t, Config{BaseURL: base, KeyA: "secret-a", WorkspaceA: "ws-a"})
		ctx := context.Background()
		resp, err := s.A.Do(ctx, Request{Method: "GET", Path: "/health"})
		if err != nil || resp.SpecErr != nil || resp.Operation != "getHealth" {
			t.Fatalf("%s: conforming response: %v %v op %q", prefix, err, resp.SpecErr, resp.Operation)
		}
		if last.Get("Authorization") != "Bearer secret-a" || last.Get("X-Workspace-ID") != "ws-a" {
			t.Errorf("headers sent: %v", *last)
		}
		resp, _ = s.A.Do(ctx, Request{Method: "GET", Path: "/health", Query: map[string][]string{"mode": {"bad"}}})
		if resp.SpecErr == nil || !strings.Contains(resp.SpecErr.Error(), "getHealth 200") {
			t.Errorf("enum violation not reported: %v", resp.SpecErr)
		}
		resp, _ = s.A.Do(ctx, Request{Method: "GET", Path: "/health", Query: map[string][]string{"mode": {"teapot"}}})
		if resp.SpecErr == nil {
			t.Errorf("undocumented status 418 not reported")
		}
		resp, _ = s.A.Do(ctx, Request{Method: "GET", Path: "/memory/x"})
		if resp.SpecErr == nil {
			t.Errorf("error body without message not reported")
		}
		resp, _ = s.A.Do(ctx, Request{Method: "GET", Path: "/nowhere"})
		if resp.SpecErr == nil || !strings.Contains(resp.SpecErr.Error(), "not an operation") {
			t.Errorf("unknown path: %v", resp.SpecErr)
		}
		if _, err := s.A.Do(ctx, Request{Method: "GET", Path: "/health", NoAuth: true, NoWorkspace: true}); err != nil {
			t.Fatal(err)
		}
		if last.Get("Authorization") != "" || last.Get("X-Workspace-ID") != "" {
			t.Errorf("NoAuth/NoWorkspace still sent: %v", *last)
		}
	}
}

func TestExpectErrorEnvelope(t *testing.T) {
	srv, _ := fakeAPI(t, "")
	cases := map[string]Outcome{"envelope": Pass, "wrongcode": Fail, "nomessage": Fail, "missing": Fail}
	for id, want := range cases {
		r := runOne(t, srv.URL, func(ctx context.Context, t *T) {
			t.ExpectError(t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory/" + id}), 404)
		})
		if r.Outcome != want {
			t.Errorf("%s: %s (%s), want %s", id, r.Outcome, r.Reason, want)
		}
	}
	// 429 needs a Retry-After header as well as retry_after.
	r := runOne(t, srv.URL, func(ctx context.Context, t *T) {
		t.ExpectError(t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory/limited", NoValidate: true}), 429)
	})
	if r.Outcome != Fail || !strings.Contains(r.Reason, "Retry-After") {
		t.Errorf("429 without Retry-After: %s %s", r.Outcome, r.Reason)
	}
}

func TestMissingTextCheckAgainstFake(t *testing.T) {
	srv, _ := fakeAPI(t, "")
	if r := runOne(t, srv.URL, checkMissingText); r.Outcome != Pass {
		t.Fatalf("%s: %s", r.Outcome, r.Reason)
	}
}

// An oversized body must yield the server's 413, not a write error, even
// though the server stops reading early.
func TestOversizedBodyGets413(t *testing.T) {
	srv, _ := fakeAPI(t, "")
	if r := runOne(t, srv.URL, checkCreateTooLarge); r.Outcome != Pass {
		t.Fatalf("%s: %s", r.Outcome, r.Reason)
	}
}

func TestOpenStreamReadsWelcomeAndValidates(t *testing.T) {
	srv, _ := fakeAPI(t, "")
	r := runOne(t, srv.URL, func(ctx context.Context, t *T) {
		s := t.OpenStream(ctx, t.A, StreamOpts{})
		if s.Welcome.Position != "p1" || s.WelcomeEvent.ID != "p1" || s.Welcome.Retry != 3000 {
			t.Fatalf("welcome %+v", s.Welcome)
		}
		s.Await(2*time.Second, "memory.deleted", isMemoryEvent("memory.deleted", "m1"))
	})
	if r.Outcome != Pass {
		t.Fatalf("%s: %s", r.Outcome, r.Reason)
	}
	r = runOne(t, srv.URL, func(ctx context.Context, t *T) {
		t.OpenStream(ctx, t.A, StreamOpts{Query: map[string][]string{"mode": {"bad"}}})
	})
	if r.Outcome != Fail || !strings.Contains(r.Reason, "violates its schema") {
		t.Fatalf("invalid welcome: %s %s", r.Outcome, r.Reason)
	}
	r = runOne(t, srv.URL, func(ctx context.Context, t *T) {
		s := t.OpenStream(ctx, t.A, StreamOpts{})
		s.Await(300*time.Millisecond, "memory.created", isMemoryEvent("memory.created", "m1"))
	})
	if r.Outcome != Fail || !strings.Contains(r.Reason, "no memory.created") {
		t.Fatalf("await timeout: %s %s", r.Outcome, r.Reason)
	}
}
