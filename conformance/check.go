// Package conformance is a black-box conformance suite for the memoryd API
// (spec/openapi.yaml and spec/asyncapi.yaml). It talks HTTP to any base URL
// and never imports the reference server, so third parties can run it
// against their own implementation. See README.md.
package conformance

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Level is how binding a check is (RFC 2119).
type Level string

// The levels. A failed MUST fails the run; a failed SHOULD is a warning.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
)

// Profile groups checks so a run can pick what the server offers.
type Profile string

// The profiles. Limits checks consume the key's rate-limit quota and open
// many connections, so they are opt-in. Cluster checks need a second node
// of the same deployment (Config.BaseURLB).
const (
	Core    Profile = "core"
	Stream  Profile = "stream"
	Limits  Profile = "limits"
	Cluster Profile = "cluster"
	// Webhooks checks run their own receiver, which the server must be
	// able to reach (Config.CallbackListen, Config.CallbackURL).
	Webhooks Profile = "webhooks"
)

// Profiles lists every profile, in the order the CLI documents them.
var Profiles = []Profile{Core, Stream, Limits, Cluster, Webhooks}

// Check is one conformance requirement.
type Check struct {
	// ID is stable across releases (e.g. MEM-CREATE-003) so reports can be
	// compared run to run.
	ID      string
	Level   Level
	Profile Profile
	// Ref names what the check verifies, comma-separated: "operationId
	// status" from openapi.yaml ("* 429" for every operation documenting
	// 429), an AsyncAPI message name ("memory.created"), or a seed section.
	Ref     string
	Title   string
	Timeout time.Duration
	Run     func(ctx context.Context, t *T)
}

// Refs returns the check's references, split and trimmed.
func (c Check) Refs() []string {
	var out []string
	for _, r := range strings.Split(c.Ref, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// T is handed to a running check. Fatalf and Skipf stop the check (they
// must be called from the check's own goroutine, as with testing.T).
type T struct {
	A, B *Client // clients for key A and key B (B is nil without --api-key-b)
	// AOnB is key A's client on the second node (nil without --base-url-b).
	AOnB  *Client
	RunID string // unique per run; prefix of every id and tag the check creates
	suite *Suite

	mu       sync.Mutex
	failures []string
	skip     string
	logs     []string
	cleanups []func(context.Context)
}

// Errorf records a failure and lets the check continue.
func (t *T) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failures = append(t.failures, fmt.Sprintf(format, args...))
}

// Fatalf records a failure and stops the check.
func (t *T) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	runtime.Goexit()
}

// Skipf stops the check and reports it skipped with the reason.
func (t *T) Skipf(format string, args ...any) {
	t.mu.Lock()
	t.skip = fmt.Sprintf(format, args...)
	t.mu.Unlock()
	runtime.Goexit()
}

// Logf records a note shown in the reports.
func (t *T) Logf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.logs = append(t.logs, fmt.Sprintf(format, args...))
}

// Cleanup registers f to run after the check (last registered first), with
// a fresh context so cleanup still runs after a timeout.
func (t *T) Cleanup(f func(ctx context.Context)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// NeedB skips the check when no second key was given.
func (t *T) NeedB() {
	if t.B == nil {
		t.Skipf("needs a second key in another workspace (--api-key-b)")
	}
}

// NeedNodeB skips the check when no second node was given.
func (t *T) NeedNodeB() {
	if t.AOnB == nil {
		t.Skipf("needs a second node of the deployment (--base-url-b)")
	}
}

// Name returns a run-unique name with the given suffix, usable as a memory
// id, tag or type (it matches the MemoryID pattern).
func (t *T) Name(suffix string) string { return t.RunID + "-" + suffix }

func (t *T) runCleanups() {
	t.mu.Lock()
	cs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			defer func() { _ = recover() }()
			cs[i](ctx)
		}()
	}
}
