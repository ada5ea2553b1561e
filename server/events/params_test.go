package events

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestAcceptsEventStream(t *testing.T) {
	cases := map[string]bool{
		"":                  true, // no Accept: anything goes
		"text/event-stream": true,
		"text/*":            true,
		"*/*":               true,
		"application/json, text/event-stream;q=0.5": true,
		"application/json":                          false,
		"text/html":                                 false,
		"text/event-stream;q=0":                     false,
		"garbage":                                   false,
	}
	for accept, want := range cases {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/stream", nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		if got := acceptsEventStream(r); got != want {
			t.Errorf("Accept %q: %v, want %v", accept, got, want)
		}
	}
}

func TestParseRequest(t *testing.T) {
	cfg := Default()
	ok := func(q string) *request {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, "/api/v1/stream?"+q, nil)
		req, err := parseRequest(r, "ws", cfg)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return req
	}
	req := ok("events=memory.created,memory.updated&events=search.performed&events=heartbeat&heartbeat=45&filters[user_id]=u1&filters[n]=2")
	if len(req.sub.types) != 3 || !req.sub.types["search.performed"] || req.heartbeat != 45*time.Second {
		t.Fatalf("parsed %+v", req)
	}
	if req.sub.filters["user_id"] != "u1" || req.sub.filters["n"] != "2" || len(req.sub.filters) != 2 {
		t.Fatalf("filters %v", req.sub.filters)
	}
	if req := ok(""); req.sub.types != nil || req.heartbeat != 30*time.Second || req.sub.filters != nil {
		t.Fatalf("defaults %+v", req)
	}
	if req := ok(`filters={"user_id":"u1","n":2,"b":true}`); req.sub.filters["n"] != "2" || req.sub.filters["b"] != "true" {
		t.Fatalf("json filters %v", req.sub.filters)
	}
	if req := ok("events[]=memory.deleted"); !req.sub.types["memory.deleted"] {
		t.Fatalf("events[] %v", req.sub.types)
	}
	for _, q := range []string{
		"events=memory.exploded", "heartbeat=29", "heartbeat=abc", "heartbeat=3601", "heartbeat=30.5",
		"filters[]=x", "filters[a][b]=x", "filters[a=x", "filters=notjson", `filters={"a":{"b":1}}`,
		"filters[a]=1&filters[a]=2",
	} {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/stream?"+q, nil)
		if _, err := parseRequest(r, "ws", cfg); err == nil || err.Code != "INVALID_REQUEST" {
			t.Errorf("%s: err = %v, want INVALID_REQUEST", q, err)
		}
	}
}

func TestLastEventIDHeaderWins(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/stream?last_event_id=fromquery", nil)
	req, _ := parseRequest(r, "ws", Default())
	if req.position != "fromquery" {
		t.Fatalf("position %q", req.position)
	}
	r.Header.Set("Last-Event-ID", "fromheader")
	req, _ = parseRequest(r, "ws", Default())
	if req.position != "fromheader" {
		t.Fatalf("position %q", req.position)
	}
}
