package events

import (
	"encoding/base64"
	"testing"

	ev "github.com/memoryd/memoryd/gen/events"
)

func TestPositionRoundTrip(t *testing.T) {
	for _, seq := range []int64{0, 1, 42, 1 << 40} {
		pos := encodePosition("ep0ch", seq)
		got, err := decodePosition(pos, "ep0ch")
		if err != nil || got != seq {
			t.Fatalf("decode(encode(%d)) = %d, %v", seq, got, err)
		}
	}
}

func TestPositionErrors(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		pos  string
		want ev.RestartReason
	}{
		{"not base64 !!", ev.Malformed},
		{b64("nodot"), ev.Malformed},
		{b64("ep0ch.x1"), ev.Malformed},
		{b64("ep0ch.-1"), ev.Malformed},
		{b64("ep0ch."), ev.Malformed},
		{"", ev.Malformed},
		{encodePosition("other", 5), ev.ForeignEpoch},
	}
	for _, c := range cases {
		_, err := decodePosition(c.pos, "ep0ch")
		if err == nil || err.Reason != c.want {
			t.Errorf("decodePosition(%q) = %v, want %s", c.pos, err, c.want)
		}
	}
}

func TestCheckRange(t *testing.T) {
	cases := []struct {
		seq, first, head int64
		want             ev.RestartReason // "" = usable
	}{
		{10, 1, 10, ""},
		{0, 1, 10, ""}, // before the first event, nothing missing
		{11, 1, 10, ev.Future},
		{4, 5, 10, ""}, // first-1: the next event is retained
		{3, 5, 10, ev.Pruned},
		{7, 0, 7, ""}, // empty log
		{8, 0, 7, ev.Future},
	}
	for _, c := range cases {
		err := checkRange(c.seq, c.first, c.head)
		got := ev.RestartReason("")
		if err != nil {
			got = err.Reason
		}
		if got != c.want {
			t.Errorf("checkRange(%d, %d, %d) = %q, want %q", c.seq, c.first, c.head, got, c.want)
		}
	}
}
