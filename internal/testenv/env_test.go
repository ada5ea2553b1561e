package testenv_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/memoryd/memoryd/internal/testenv"
)

// The environment serves the REST API and the stream over one listening
// server: a write through the client shows on the stream.
func TestEnvServesTheAPIAndTheStream(t *testing.T) {
	e := testenv.New(t)
	s, w := e.OpenStream(e.KeyA, "", nil)
	if w.Workspace != "a" || s.Welcome.ConnectionId != w.ConnectionId {
		t.Fatalf("welcome %+v, kept %+v", w, s.Welcome)
	}
	e.Client(e.KeyA).Create(t, "m1", "hello")
	m := s.NextData(t)
	if m.Event != "memory.created" || testenv.MemoryID(t, m) != "m1" || !m.IsLogEvent() {
		t.Fatalf("got %+v", m)
	}
	if got := testenv.SeqOf(t, m.ID); got != testenv.SeqOf(t, w.Position)+1 {
		t.Fatalf("event at %d after a welcome at %s", got, w.Position)
	}
	r := e.Do(http.MethodGet, "/api/v1/memory/m1", e.KeyB, nil)
	testenv.WantError(t, r, http.StatusNotFound, "NOT_FOUND")
}

func TestPositionsRoundTrip(t *testing.T) {
	pos := testenv.Position("ep.och", 42)
	if ep, seq := testenv.SplitPosition(t, pos); ep != "ep.och" || seq != 42 {
		t.Fatalf("%q decodes to %q %d", pos, ep, seq)
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// A response the OpenAPI document does not allow is reported, one it
// allows is not.
func TestCheckResponseFlagsUndocumentedAnswers(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "http://memoryd.test/api/v1/health", nil)
	answer := func(status int, body string) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body))}
	}
	r := &recorder{TB: t}
	testenv.CheckResponse(r, req, answer(http.StatusTeapot, `{}`), []byte(`{}`))
	if len(r.errors) != 1 {
		t.Fatalf("an undocumented 418 gave %d reports, want 1: %v", len(r.errors), r.errors)
	}
	e := testenv.New(t)
	res, err := e.HTTP.Get(e.URL + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	r = &recorder{TB: t}
	req, _ = http.NewRequest(http.MethodGet, e.URL+"/api/v1/health", nil)
	testenv.CheckResponse(r, req, res, raw)
	if len(r.errors) != 0 {
		t.Fatalf("the server's own /health was reported: %v", r.errors)
	}
}
