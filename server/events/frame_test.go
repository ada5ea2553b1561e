package events

import "testing"

func TestFrame(t *testing.T) {
	got := string(frame("p1", "memory.created", []byte(`{"a":1}`)))
	if want := "id: p1\nevent: memory.created\ndata: {\"a\":1}\n\n"; got != want {
		t.Fatalf("frame = %q, want %q", got, want)
	}
	// A line break must not end the message early.
	got = string(frame("p", "e", []byte("{\n\"a\":1\r\n}\r")))
	if want := "id: p\nevent: e\ndata: {\ndata: \"a\":1\ndata: }\ndata: \n\n"; got != want {
		t.Fatalf("frame = %q, want %q", got, want)
	}
}
