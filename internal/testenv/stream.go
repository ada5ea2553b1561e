package testenv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	ev "github.com/memoryd/memoryd/gen/events"
	"github.com/memoryd/memoryd/server/events"
	"github.com/memoryd/memoryd/server/store"
)

// StreamRequest sends GET /api/v1/stream?query to the server at base
// (its root, without the API's base path) with Accept: text/event-stream,
// the key (none when "") and the headers, and returns the response as is.
func StreamRequest(t testing.TB, hc *http.Client, base, key, query string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/stream?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// OpenStream opens a stream as StreamRequest does and checks it starts as
// memoryd's do: the retry advice, then welcome, whose id is its position.
// It returns the stream and its welcome (also kept in SSE.Welcome); the
// stream is closed when the test ends.
func OpenStream(t testing.TB, hc *http.Client, base, key, query string, hdr map[string]string) (*SSE, ev.Welcome) {
	t.Helper()
	resp := StreamRequest(t, hc, base, key, query, hdr)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET /stream?%s: %d %s", query, resp.StatusCode, b)
	}
	s := NewSSE(resp)
	t.Cleanup(s.Close)
	if first := s.Raw(t); !first.IsRetry() {
		t.Fatalf("first message %+v, want the retry advice", first)
	}
	m := s.Next(t)
	if m.Event != "welcome" {
		t.Fatalf("first event %q, want welcome", m.Event)
	}
	m.Decode(t, &s.Welcome)
	if !m.HasID || m.ID != s.Welcome.Position {
		t.Fatalf("welcome id %q, position %q", m.ID, s.Welcome.Position)
	}
	return s, s.Welcome
}

// GetStream is StreamRequest on e's server.
func (e *Env) GetStream(key, query string, hdr map[string]string) *http.Response {
	e.T.Helper()
	return StreamRequest(e.T, e.HTTP, e.URL, key, query, hdr)
}

// OpenStream is OpenStream on e's server.
func (e *Env) OpenStream(key, query string, hdr map[string]string) (*SSE, ev.Welcome) {
	e.T.Helper()
	return OpenStream(e.T, e.HTTP, e.URL, key, query, hdr)
}

// ExpectStatus checks a refused request's status and error code, and
// returns its error body.
func ExpectStatus(t testing.TB, resp *http.Response, status int, code string) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != status || body["error"] != code {
		t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, status, code)
	}
	return body
}

// Positions are opaque to clients: base64url("<epoch>.<seq>"). Tests
// decode them only to check sequences and to build foreign or future ones.

// SplitPosition decodes a position.
func SplitPosition(t testing.TB, pos string) (epoch string, seq int64) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(pos)
	if err != nil {
		t.Fatalf("position %q: %v", pos, err)
	}
	dot := strings.LastIndexByte(string(raw), '.')
	if dot < 0 {
		t.Fatalf("position %q decodes to %q", pos, raw)
	}
	seq, err = strconv.ParseInt(string(raw[dot+1:]), 10, 64)
	if err != nil {
		t.Fatalf("position %q decodes to %q", pos, raw)
	}
	return string(raw[:dot]), seq
}

// SeqOf returns a position's log sequence number.
func SeqOf(t testing.TB, pos string) int64 {
	t.Helper()
	_, seq := SplitPosition(t, pos)
	return seq
}

// Position encodes a position.
func Position(epoch string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(epoch + "." + strconv.FormatInt(seq, 10)))
}

// CheckNoGap fails unless msgs, the log events a stream of workspace ws
// delivered after position after, are exactly the events of ws that the
// log holds there and that the stream sends (events.OnStream), in order:
// no gap, no duplicate. It reads the log of the database at dsn.
func CheckNoGap(t testing.TB, dsn, ws string, after int64, msgs []Message) {
	t.Helper()
	if len(msgs) == 0 {
		return
	}
	last := SeqOf(t, msgs[len(msgs)-1].ID)
	want := streamSeqs(t, dsn, ws, after, last)
	got := make([]int64, len(msgs))
	for i, m := range msgs {
		got[i] = SeqOf(t, m.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the stream delivered the positions\n%v\nthe log holds\n%v\n(a gap, a duplicate or a reordering)", got, want)
	}
}

// LastOnStream returns the position of ws's last log event at or before
// upto that the stream sends: a welcome's head can be an event the stream
// does not send, which a reader waiting for the head would never see.
func LastOnStream(t testing.TB, dsn, ws string, upto int64) int64 {
	t.Helper()
	seqs := streamSeqs(t, dsn, ws, 0, upto)
	if len(seqs) == 0 {
		return 0
	}
	return seqs[len(seqs)-1]
}

// streamSeqs returns the positions in (after, last] of ws's log events
// that the stream sends.
func streamSeqs(t testing.TB, dsn, ws string, after, last int64) []int64 {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("opening the log at %s: %v", store.Redact(dsn), err)
	}
	defer st.Close()
	var seqs []int64
	for after < last {
		evs, err := st.ReadEvents(ctx, ws, after, 1000)
		if err != nil {
			t.Fatalf("reading the log: %v", err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			if e.Seq <= last && events.OnStream(e.Type) {
				seqs = append(seqs, e.Seq)
			}
		}
		after = evs[len(evs)-1].Seq
	}
	return seqs
}

// MemoryID returns the memory id of a memory.* event's payload.
func MemoryID(t testing.TB, m Message) string {
	t.Helper()
	var p struct{ ID string }
	if err := json.Unmarshal([]byte(m.Data), &p); err != nil || p.ID == "" {
		t.Fatalf("%s payload %q has no id: %v", m.Event, m.Data, err)
	}
	return p.ID
}
