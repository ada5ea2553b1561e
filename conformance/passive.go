package conformance

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

func passiveChecks() []Check {
	return []Check{
		{ID: "ERR-5XX-001", Level: Must, Profile: Core, Ref: "* 500, * 503",
			Title: "every 500/503 seen during the run had the error envelope (INTERNAL/UNAVAILABLE) and no internal detail",
			Run:   checkServerErrors},
	}
}

// checkServerErrors runs last: server errors cannot be provoked from
// outside, so it judges the ones other checks happened to meet.
func checkServerErrors(ctx context.Context, t *T) {
	seen := t.A.obs.serverErrors()
	if len(seen) == 0 {
		t.Skipf("no 5xx response was seen during the run (they cannot be provoked from outside)")
	}
	for _, r := range seen {
		if r.Status != http.StatusInternalServerError && r.Status != http.StatusServiceUnavailable {
			t.Errorf("undocumented status: %s", r)
			continue
		}
		if r.Operation == "getReadiness" {
			continue // the Health body, checked by SYS-READY-001
		}
		var e ErrorBody
		if err := json.Unmarshal(r.Body, &e); err != nil || e.Error != errorCodes[r.Status] || e.Message == "" {
			t.Errorf("5xx without the error envelope: %s", r)
		}
		if looksInternal(e.Message) {
			t.Errorf("5xx message leaks internals: %q", e.Message)
		}
	}
	t.Logf("%d server error(s) seen; the first: %s", len(seen), seen[0])
}

// leakMarkers are fragments of internal errors that must not reach clients.
var leakMarkers = []string{"panic", "goroutine", "runtime error", "sqlstate", "sql:", "pq:", "sqlite",
	"no such table", ".go:", "nil pointer", "stack trace", "connection refused", "dial tcp"}

func looksInternal(msg string) bool {
	m := strings.ToLower(msg)
	for _, k := range leakMarkers {
		if strings.Contains(m, k) {
			return true
		}
	}
	return false
}
