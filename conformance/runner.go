package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/memoryd/memoryd/conformance/sse"
)

// Outcome is the result of one check.
type Outcome string

// The outcomes. Warn is a failed SHOULD check.
const (
	Pass Outcome = "pass"
	Fail Outcome = "fail"
	Warn Outcome = "warn"
	Skip Outcome = "skip"
)

// Config describes the server under test and what to run.
type Config struct {
	BaseURL string // e.g. http://localhost:8080 (the API is under /api/v1)
	// BaseURLB is a second node of the same deployment (same database, same
	// keys), for the cluster profile; optional.
	BaseURLB   string
	KeyA, KeyB string // KeyB must use another workspace than KeyA; optional
	// WorkspaceA/B are sent as X-Workspace-ID when set.
	WorkspaceA, WorkspaceB string
	Profiles               []Profile      // default core and stream
	Run                    *regexp.Regexp // only checks whose ID matches; nil = all
	// OversizeBytes is the body size used for 413 checks (default 8 MiB).
	OversizeBytes int
	// RateRequests bounds the requests the limits profile sends to reach a 429.
	RateRequests int
	// EventWait is how long a stream check waits for an expected message
	// (default 10s). A failing check waits this long, so mutation tests
	// against a local server lower it.
	EventWait time.Duration
	// ClusterWait is the bound within which a write on one node must be
	// visible on the other (default 5s; see CLUSTER-* checks).
	ClusterWait time.Duration
	// CallbackListen is where the webhooks profile's receiver listens
	// (default 127.0.0.1:0); CallbackURL is the URL the server under test
	// is given for it (default: http:// + the address listened on).
	CallbackListen, CallbackURL string
	// WebhookRetryWait bounds how long the webhooks profile waits for the
	// retry of a delivery its receiver failed (default 30s).
	WebhookRetryWait time.Duration
	HTTPClient       *http.Client
	Out              io.Writer // one line per check; nil = silent
}

// Result is one check's outcome.
type Result struct {
	ID       string        `json:"id"`
	Level    Level         `json:"level"`
	Profile  Profile       `json:"profile"`
	Ref      string        `json:"ref"`
	Title    string        `json:"title"`
	Outcome  Outcome       `json:"outcome"`
	Reason   string        `json:"reason,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	Log      []string      `json:"log,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	BaseURL  string          `json:"base_url"`
	RunID    string          `json:"run_id"`
	Started  time.Time       `json:"started"`
	Duration time.Duration   `json:"duration_ns"`
	Profiles []Profile       `json:"profiles"`
	Counts   map[Outcome]int `json:"counts"`
	Results  []Result        `json:"results"`
}

// Failed reports whether a MUST check failed (the run's exit status).
func (r *Report) Failed() bool { return r.Counts[Fail] > 0 }

// Suite runs checks against one server.
type Suite struct {
	cfg   Config
	runID string
	spec  *Spec
	A, B  *Client
	AOnB  *Client // key A on the second node

	fixMu        sync.Mutex
	fixtures     map[string]any
	cleanups     []func(context.Context)
	streamErrors []sse.Event
}

// New prepares a suite: it loads the bundled spec and builds the clients.
func New(cfg Config) (*Suite, error) {
	if cfg.BaseURL == "" || cfg.KeyA == "" {
		return nil, fmt.Errorf("conformance: base URL and key A are required")
	}
	if len(cfg.Profiles) == 0 {
		cfg.Profiles = []Profile{Core, Stream}
	}
	if cfg.OversizeBytes <= 0 {
		cfg.OversizeBytes = 8 << 20
	}
	if cfg.RateRequests <= 0 {
		cfg.RateRequests = 1200
	}
	if cfg.EventWait <= 0 {
		cfg.EventWait = 10 * time.Second
	}
	if cfg.ClusterWait <= 0 {
		cfg.ClusterWait = DefaultClusterWait
	}
	if cfg.WebhookRetryWait <= 0 {
		cfg.WebhookRetryWait = DefaultWebhookRetryWait
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	var more []string
	if cfg.BaseURLB != "" {
		more = append(more, strings.TrimRight(cfg.BaseURLB, "/"))
	}
	spec, err := LoadSpec(strings.TrimRight(cfg.BaseURL, "/"), more...)
	if err != nil {
		return nil, err
	}
	s := &Suite{cfg: cfg, runID: newRunID(), spec: spec, fixtures: map[string]any{}}
	obs := &observer{}
	s.A = newClient("A", cfg.BaseURL, cfg.KeyA, cfg.WorkspaceA, cfg.HTTPClient, spec, obs)
	if cfg.KeyB != "" {
		s.B = newClient("B", cfg.BaseURL, cfg.KeyB, cfg.WorkspaceB, cfg.HTTPClient, spec, obs)
	}
	if cfg.BaseURLB != "" {
		s.AOnB = newClient("A@node-B", cfg.BaseURLB, cfg.KeyA, cfg.WorkspaceA, cfg.HTTPClient, spec, obs)
	}
	return s, nil
}

// RunID is the run's unique prefix for ids and tags.
func (s *Suite) RunID() string { return s.runID }

func newRunID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "cf" + hex.EncodeToString(b[:])
}

// selected reports whether c is in the run's profiles and matches --run.
func (s *Suite) selected(c Check) bool {
	if s.cfg.Run != nil && !s.cfg.Run.MatchString(c.ID) {
		return false
	}
	for _, p := range s.cfg.Profiles {
		if p == c.Profile {
			return true
		}
	}
	return false
}

// Run runs the selected checks in order, one at a time, and returns the report.
func (s *Suite) Run(ctx context.Context, checks []Check) *Report {
	rep := &Report{BaseURL: s.cfg.BaseURL, RunID: s.runID, Started: time.Now().UTC(),
		Profiles: s.cfg.Profiles, Counts: map[Outcome]int{}}
	for _, c := range checks {
		if !s.selected(c) {
			continue
		}
		r := s.runOne(ctx, c)
		rep.Results = append(rep.Results, r)
		rep.Counts[r.Outcome]++
		if s.cfg.Out != nil {
			fmt.Fprintln(s.cfg.Out, r.Line())
		}
	}
	s.runSuiteCleanups()
	rep.Duration = time.Since(rep.Started)
	return rep
}

// Line is the one-line summary printed per check.
func (r Result) Line() string {
	line := fmt.Sprintf("%-22s %-6s %-4s %6dms", r.ID, r.Level, strings.ToUpper(string(r.Outcome)), r.Duration.Milliseconds())
	if r.Reason != "" {
		line += "  " + strings.ReplaceAll(r.Reason, "\n", " | ")
	}
	return line
}

func (s *Suite) runOne(ctx context.Context, c Check) Result {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := &T{A: s.A, B: s.B, AOnB: s.AOnB, RunID: s.runID, suite: s}
	start := time.Now()
	done := make(chan any, 1)
	go func() {
		var p any
		defer func() { done <- p }()
		defer func() { p = recover() }()
		c.Run(cctx, t)
	}()
	var panicked any
	timedOut := false
	select {
	case panicked = <-done:
	case <-cctx.Done():
		// Give the check a moment to notice the cancelled context and
		// return, so its cleanups do not race with its requests.
		select {
		case panicked = <-done:
		case <-time.After(2 * time.Second):
		}
		timedOut = ctx.Err() == nil
	}
	t.runCleanups()
	res := Result{ID: c.ID, Level: c.Level, Profile: c.Profile, Ref: c.Ref, Title: c.Title, Duration: time.Since(start)}
	t.mu.Lock()
	defer t.mu.Unlock()
	res.Log = t.logs
	failures := t.failures
	if panicked != nil {
		failures = append(failures, fmt.Sprintf("check panicked: %v", panicked))
	}
	if timedOut {
		failures = append(failures, fmt.Sprintf("timed out: exceeded the check's %s limit", timeout))
	}
	switch {
	case len(failures) > 0:
		res.Outcome, res.Reason = Fail, strings.Join(failures, "; ")
		if c.Level == Should {
			res.Outcome = Warn
		}
	case ctx.Err() != nil:
		res.Outcome, res.Reason = Skip, "run interrupted"
	case t.skip != "":
		res.Outcome, res.Reason = Skip, t.skip
	default:
		res.Outcome = Pass
	}
	return res
}

// fixture returns the value named key, building it once per run with
// build. Fixtures are shared by checks (e.g. the 25 memories the list
// checks page through) and removed by the suite's cleanups at the end.
func (s *Suite) fixture(key string, build func() (any, error)) (any, error) {
	s.fixMu.Lock()
	v, ok := s.fixtures[key]
	s.fixMu.Unlock()
	if ok {
		if err, bad := v.(error); bad {
			return nil, err
		}
		return v, nil
	}
	// Checks run one at a time, so building outside the lock cannot race;
	// it lets a fixture use another one (the search fixture needs Dims).
	v, err := build()
	if err != nil {
		v = err
	}
	s.fixMu.Lock()
	s.fixtures[key] = v
	s.fixMu.Unlock()
	return v, err
}

// suiteCleanup registers f to run when the whole run ends.
func (s *Suite) suiteCleanup(f func(context.Context)) {
	s.fixMu.Lock()
	defer s.fixMu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

func (s *Suite) runSuiteCleanups() {
	s.fixMu.Lock()
	cs := s.cleanups
	s.cleanups = nil
	s.fixtures = map[string]any{}
	s.fixMu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		func() {
			defer func() { _ = recover() }()
			cs[i](ctx)
		}()
		cancel()
	}
}

// noteStreamError records an `error` message seen on any stream, for
// STREAM-ERROR-001 (such errors cannot be provoked from outside).
func (s *Suite) noteStreamError(ev sse.Event) {
	s.fixMu.Lock()
	defer s.fixMu.Unlock()
	s.streamErrors = append(s.streamErrors, ev)
}

func (s *Suite) seenStreamErrors() []sse.Event {
	s.fixMu.Lock()
	defer s.fixMu.Unlock()
	return append([]sse.Event(nil), s.streamErrors...)
}
