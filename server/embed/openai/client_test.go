package openai

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	future := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := map[string][2]time.Duration{
		"":                              {0, 0},
		"0":                             {0, 0},
		"-5":                            {0, 0},
		"junk":                          {0, 0},
		"7":                             {7 * time.Second, 7 * time.Second},
		" 2 ":                           {2 * time.Second, 2 * time.Second},
		future:                          {80 * time.Second, 90 * time.Second},
		"Mon, 01 Jan 2001 00:00:00 GMT": {0, 0}, // in the past
	}
	for in, want := range cases {
		if got := parseRetryAfter(in); got < want[0] || got > want[1] {
			t.Errorf("parseRetryAfter(%q) = %v, want in [%v, %v]", in, got, want[0], want[1])
		}
	}
}

func TestBackoff(t *testing.T) {
	e := &Embedder{cfg: Config{RetryBase: 100 * time.Millisecond, MaxRetryWait: time.Second}}
	for attempt := 1; attempt <= 40; attempt++ {
		full := min(100*time.Millisecond<<min(attempt-1, 20), time.Second)
		for range 20 {
			if d := e.backoff(attempt, 0); d < full/2 || d > full {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
	if d := e.backoff(1, 5*time.Second); d != time.Second {
		t.Errorf("Retry-After 5s gave %v, want the 1s cap", d)
	}
	if d := e.backoff(1, 300*time.Millisecond); d != 300*time.Millisecond {
		t.Errorf("Retry-After 300ms gave %v", d)
	}
}
