package conformance

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"
)

// Target is the server a Go test runs the suite against with Run.
type Target struct {
	// BaseURL is the server's root, e.g. http://127.0.0.1:8080 (the API
	// is expected under /api/v1).
	BaseURL string
	// APIKey is key A. APIKeyB, optional, must use another workspace; the
	// isolation checks are skipped without it.
	APIKey, APIKeyB string
	// WorkspaceA/B are sent as X-Workspace-ID when set.
	WorkspaceA, WorkspaceB string
	// Profiles to run (default core and stream).
	Profiles []Profile
	// Only runs the checks whose ID matches this regular expression.
	Only string
	// EventWait is how long a stream check waits for an expected message
	// (default 10 s).
	EventWait time.Duration
	// Config, when set, is applied last to the suite's configuration, for
	// the settings Target does not name (callback URL, second node, ...).
	Config func(*Config)
	// HTTPClient sends the requests (default a plain http.Client).
	HTTPClient *http.Client
}

// Run runs the conformance suite against target as subtests of t, one per
// check, named by the check's ID (go test -run 'TestX/MEM-CREATE' selects
// some). A failed MUST check fails its subtest; a failed SHOULD check is
// logged; a skipped check skips. A target that cannot work at all (nothing
// listening, a key refused) fails t before any check runs.
func Run(t *testing.T, target Target) {
	t.Helper()
	cfg := Config{BaseURL: target.BaseURL, KeyA: target.APIKey, KeyB: target.APIKeyB,
		WorkspaceA: target.WorkspaceA, WorkspaceB: target.WorkspaceB, Profiles: target.Profiles,
		EventWait: target.EventWait, HTTPClient: target.HTTPClient}
	if target.Only != "" {
		re, err := regexp.Compile(target.Only)
		if err != nil {
			t.Fatalf("conformance: Only: %v", err)
		}
		cfg.Run = re
	}
	if target.Config != nil {
		target.Config(&cfg)
	}
	base, _, err := BaseURL(cfg.BaseURL)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	cfg.BaseURL = base
	ctx, cancel := context.WithTimeout(context.Background(), ProbeLimit)
	err = Probe(ctx, cfg)
	cancel()
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	defer s.runSuiteCleanups()
	ran := 0
	for _, c := range Checks() {
		if !s.selected(c) {
			continue
		}
		ran++
		t.Run(c.ID, func(t *testing.T) { report(t, s.runOne(t.Context(), c)) })
	}
	if ran == 0 {
		t.Fatalf("conformance: no check selected (profiles %v, only %q)", cfg.Profiles, target.Only)
	}
}

// report turns a check's result into its subtest's outcome.
func report(t *testing.T, r Result) {
	t.Helper()
	for _, l := range r.Log {
		t.Log(l)
	}
	switch r.Outcome {
	case Fail:
		t.Errorf("%s (%s, %s): %s", r.Title, r.Level, r.Ref, r.Reason)
	case Warn:
		t.Logf("SHOULD not met: %s (%s): %s", r.Title, r.Ref, r.Reason)
	case Skip:
		t.Skip(r.Reason)
	}
}
