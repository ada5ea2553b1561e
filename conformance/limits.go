package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

func limitChecks() []Check {
	return []Check{
		{ID: "LIM-RATE-001", Level: Must, Profile: Limits, Ref: "* 429", Timeout: 10 * time.Minute,
			Title: "past the key's request quota every operation is 429 RATE_LIMITED with retry_after and Retry-After (uses up key A's hourly quota)",
			Run:   checkRateLimit},
	}
}

func checkRateLimit(ctx context.Context, t *T) {
	n := t.suite.cfg.RateRequests
	var limited *Response
	for i := 0; i < n && limited == nil; i++ {
		resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory", Query: map[string][]string{"limit": {"1"}}})
		switch resp.Status {
		case http.StatusTooManyRequests:
			limited = resp
		case http.StatusOK:
		default:
			t.Fatalf("request %d: %s", i, resp)
		}
	}
	if limited == nil {
		t.Skipf("no 429 after %d requests: the key may be unlimited (raise --rate-requests)", n)
	}
	e := t.ExpectError(limited, http.StatusTooManyRequests)
	if h, err := strconv.Atoi(limited.Header.Get("Retry-After")); err != nil || h < 0 {
		t.Errorf("Retry-After %q is not a number of seconds", limited.Header.Get("Retry-After"))
	} else if *e.RetryAfter != h {
		t.Logf("retry_after %d, Retry-After %d", *e.RetryAfter, h)
	}
	// The quota is per key, so every operation is now limited.
	for _, o := range authOps() {
		if o.op == "streamEvents" {
			continue // streams are limited by open connections (STREAM-LIMIT-001)
		}
		resp := t.Do(ctx, t.A, o.build(t.Name("ratelimited")))
		if resp.Status != http.StatusTooManyRequests {
			t.Errorf("%s after the quota: want 429, got %s", o.op, resp)
			continue
		}
		t.checkEnvelope(resp)
	}
	t.Logf("%s", fmt.Sprintf("limited after the quota; retry_after %d s", *e.RetryAfter))
}
