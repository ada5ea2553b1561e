package sse

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// readAll drains r into items and reports the terminal error.
func readAll(t *testing.T, r io.Reader) []Item {
	t.Helper()
	p := NewReader(r)
	var out []Item
	for {
		it, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, it)
	}
}

func ev(typ, data, id string, idSet bool) Item {
	return Item{Kind: KindEvent, Event: Event{Type: typ, Data: data, ID: id, IDSet: idSet}}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Item
	}{
		{"simple LF", "data: hi\n\n", []Item{ev("message", "hi", "", false)}},
		{"CRLF", "event: a\r\ndata: x\r\n\r\n", []Item{ev("a", "x", "", false)}},
		{"CR only", "event: a\rdata: x\r\r", []Item{ev("a", "x", "", false)}},
		{"mixed endings", "data: 1\r\ndata: 2\rdata: 3\n\r\n", []Item{ev("message", "1\n2\n3", "", false)}},
		{"multi-line data joined by LF", "data: a\ndata: b\ndata:\n\n", []Item{ev("message", "a\nb\n", "", false)}},
		{"only one leading space stripped", "data:  two\n\n", []Item{ev("message", " two", "", false)}},
		{"no space after colon", "data:x\n\n", []Item{ev("message", "x", "", false)}},
		{"field without colon is empty value", "data\n\n", []Item{ev("message", "", "", false)}},
		{"BOM stripped once", "\xEF\xBB\xBFdata: a\n\n", []Item{ev("message", "a", "", false)}},
		{"second BOM is part of the field name", "\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n", nil},
		{"comment reported", ": keepalive\n\n", []Item{{Kind: KindComment, Comment: "keepalive"}}},
		{"comment without space", ":ping\ndata: a\n\n", []Item{{Kind: KindComment, Comment: "ping"}, ev("message", "a", "", false)}},
		{"empty comment", ":\n\n", []Item{{Kind: KindComment, Comment: ""}}},
		{"event name kept, default message", "event: x\ndata: 1\n\ndata: 2\n\n",
			[]Item{ev("x", "1", "", false), ev("message", "2", "", false)}},
		{"id persists across events", "id: 7\ndata: a\n\ndata: b\n\n",
			[]Item{ev("message", "a", "7", true), ev("message", "b", "7", false)}},
		{"id with NUL ignored", "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
			[]Item{ev("message", "a", "1", true), ev("message", "b", "1", false)}},
		{"empty id resets", "id: 1\ndata: a\n\nid\ndata: b\n\n",
			[]Item{ev("message", "a", "1", true), ev("message", "b", "", true)}},
		{"id without data still updates last id", "id: 5\n\ndata: a\n\n",
			[]Item{ev("message", "a", "5", false)}},
		{"retry digits", "retry: 3000\n", []Item{{Kind: KindRetry, Retry: 3000}}},
		{"retry not digits ignored", "retry: 30s\nretry: -1\nretry: \nretry: 1.5\n", nil},
		{"retry with leading space only once stripped", "retry:  10\n", nil},
		{"unknown field ignored", "foo: bar\ndata: a\n\n", []Item{ev("message", "a", "", false)}},
		{"empty data buffer not dispatched", "event: x\n\ndata: a\n\n", []Item{ev("message", "a", "", false)}},
		{"unterminated final event dropped", "data: a\n\ndata: b\n", []Item{ev("message", "a", "", false)}},
		{"unterminated final line dropped", "data: a\n\ndata: b", []Item{ev("message", "a", "", false)}},
		{"blank lines alone", "\n\n\r\n", nil},
		{"field name is case sensitive", "Data: a\n\n", nil},
		{"UTF-8 data", "data: héllo ✓ 日本\n\n", []Item{ev("message", "héllo ✓ 日本", "", false)}},
		{"colon in value kept", "data: a: b\n\n", []Item{ev("message", "a: b", "", false)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, strings.NewReader(tc.in))
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// oneByte hands out one byte per Read, so CRLF and the BOM straddle reads.
type oneByte struct{ s string }

func (o *oneByte) Read(b []byte) (int, error) {
	if o.s == "" {
		return 0, io.EOF
	}
	b[0] = o.s[0]
	o.s = o.s[1:]
	return 1, nil
}

func TestReaderByteAtATime(t *testing.T) {
	in := "\xEF\xBB\xBFid: 1\r\nevent: e\r\ndata: a\r\n\r\n: c\r\ndata: b\r\r"
	got := readAll(t, &oneByte{s: in})
	want := []Item{ev("e", "a", "1", true), {Kind: KindComment, Comment: "c"}, ev("message", "b", "1", false)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

// A CR-terminated line must be processed without waiting for the next
// byte: a live stream may pause right after it.
func TestCRDoesNotWaitForNextByte(t *testing.T) {
	pr, pw := io.Pipe()
	p := NewReader(pr)
	go func() { _, _ = pw.Write([]byte("data: a\r\r")) }()
	it, err := p.Next()
	if err != nil || it.Event.Data != "a" {
		t.Fatalf("got %+v, %v", it, err)
	}
	go func() { _, _ = pw.Write([]byte("\ndata: b\r\n\r\n")); _ = pw.Close() }()
	e, err := p.NextEvent()
	if err != nil || e.Data != "b" {
		t.Fatalf("got %+v, %v", e, err)
	}
	if _, err := p.NextEvent(); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestLastEventIDAndNextEvent(t *testing.T) {
	p := NewReader(strings.NewReader(": hi\nretry: 5\nid: x\ndata: 1\n\nid: y\n\n"))
	e, err := p.NextEvent()
	if err != nil || e.Data != "1" || e.ID != "x" {
		t.Fatalf("got %+v, %v", e, err)
	}
	if _, err := p.NextEvent(); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF, got %v", err)
	}
	if p.LastEventID() != "y" {
		t.Fatalf("LastEventID = %q, want y", p.LastEventID())
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestReadErrorPropagates(t *testing.T) {
	if _, err := NewReader(failing{}).Next(); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("want read error, got %v", err)
	}
}
