package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
	"time"
)

func newTestSuite(t *testing.T, cfg Config) *Suite {
	t.Helper()
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://127.0.0.1:1"
	}
	if cfg.KeyA == "" {
		cfg.KeyA = "key-a"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunnerOutcomes(t *testing.T) {
	cleaned := 0
	checks := []Check{
		{ID: "T-PASS-001", Level: Must, Profile: Core, Ref: "x", Run: func(ctx context.Context, t *T) {
			t.Cleanup(func(context.Context) { cleaned++ })
		}},
		{ID: "T-FAIL-001", Level: Must, Profile: Core, Ref: "x", Run: func(ctx context.Context, t *T) {
			t.Errorf("first")
			t.Fatalf("second")
			t.Errorf("never reached")
		}},
		{ID: "T-WARN-001", Level: Should, Profile: Core, Ref: "x", Run: func(ctx context.Context, t *T) { t.Errorf("meh") }},
		{ID: "T-SKIP-001", Level: Must, Profile: Core, Ref: "x", Run: func(ctx context.Context, t *T) { t.Skipf("no %s", "reason") }},
		{ID: "T-PANIC-001", Level: Must, Profile: Core, Ref: "x", Run: func(ctx context.Context, t *T) { panic("boom") }},
		{ID: "T-TIMEOUT-001", Level: Must, Profile: Core, Ref: "x", Timeout: 50 * time.Millisecond,
			Run: func(ctx context.Context, t *T) {
				t.Cleanup(func(context.Context) { cleaned++ })
				<-ctx.Done()
			}},
		{ID: "T-STREAM-001", Level: Must, Profile: Stream, Ref: "x", Run: func(ctx context.Context, t *T) { t.Fatalf("not selected") }},
		{ID: "T-NEEDB-001", Level: Must, Profile: Core, Ref: "x", Run: func(ctx context.Context, t *T) { t.NeedB() }},
	}
	var out bytes.Buffer
	s := newTestSuite(t, Config{Profiles: []Profile{Core}, Out: &out})
	rep := s.Run(context.Background(), checks)
	want := map[string]Outcome{"T-PASS-001": Pass, "T-FAIL-001": Fail, "T-WARN-001": Warn, "T-SKIP-001": Skip,
		"T-PANIC-001": Fail, "T-TIMEOUT-001": Fail, "T-NEEDB-001": Skip}
	if len(rep.Results) != len(want) {
		t.Fatalf("%d results, want %d (stream profile must be skipped entirely)", len(rep.Results), len(want))
	}
	for _, r := range rep.Results {
		if r.Outcome != want[r.ID] {
			t.Errorf("%s: outcome %s, want %s (%s)", r.ID, r.Outcome, want[r.ID], r.Reason)
		}
	}
	byID := map[string]Result{}
	for _, r := range rep.Results {
		byID[r.ID] = r
	}
	if r := byID["T-FAIL-001"].Reason; r != "first; second" {
		t.Errorf("fail reason %q", r)
	}
	if r := byID["T-SKIP-001"].Reason; r != "no reason" {
		t.Errorf("skip reason %q", r)
	}
	if !strings.Contains(byID["T-PANIC-001"].Reason, "boom") || !strings.Contains(byID["T-TIMEOUT-001"].Reason, "timed out") {
		t.Errorf("panic/timeout reasons: %q / %q", byID["T-PANIC-001"].Reason, byID["T-TIMEOUT-001"].Reason)
	}
	if cleaned != 2 {
		t.Errorf("%d cleanups ran, want 2 (including after a timeout)", cleaned)
	}
	if !rep.Failed() || rep.Counts[Fail] != 3 || rep.Counts[Warn] != 1 {
		t.Errorf("counts %v", rep.Counts)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(want) || !strings.HasPrefix(lines[1], "T-FAIL-001") || !strings.Contains(lines[1], "MUST") || !strings.Contains(lines[1], "FAIL") {
		t.Errorf("printed lines:\n%s", out.String())
	}
}

func TestRunnerWarnDoesNotFailRun(t *testing.T) {
	s := newTestSuite(t, Config{})
	rep := s.Run(context.Background(), []Check{
		{ID: "T-WARN-001", Level: Should, Profile: Core, Ref: "x", Run: func(ctx context.Context, t *T) { t.Fatalf("meh") }},
	})
	if rep.Failed() {
		t.Fatal("a failed SHOULD failed the run")
	}
}

func TestRunnerRunRegex(t *testing.T) {
	var ran []string
	mk := func(id string) Check {
		return Check{ID: id, Level: Must, Profile: Core, Ref: "x", Run: func(context.Context, *T) { ran = append(ran, id) }}
	}
	s := newTestSuite(t, Config{Run: regexp.MustCompile(`^MEM-`)})
	s.Run(context.Background(), []Check{mk("MEM-A-001"), mk("AUTH-B-001"), mk("MEM-C-001")})
	if strings.Join(ran, ",") != "MEM-A-001,MEM-C-001" {
		t.Fatalf("ran %v", ran)
	}
}

func TestFixtureBuiltOnceAndCleanedAtEnd(t *testing.T) {
	builds, cleaned := 0, 0
	use := func(ctx context.Context, t *T) {
		v, err := t.suite.fixture("f", func() (any, error) {
			builds++
			t.suite.suiteCleanup(func(context.Context) { cleaned++ })
			return 42, nil
		})
		if err != nil || v.(int) != 42 {
			t.Fatalf("fixture %v %v", v, err)
		}
		if cleaned != 0 {
			t.Fatalf("suite cleanup ran before the end")
		}
	}
	s := newTestSuite(t, Config{})
	rep := s.Run(context.Background(), []Check{
		{ID: "T-A-001", Level: Must, Profile: Core, Ref: "x", Run: use},
		{ID: "T-B-001", Level: Must, Profile: Core, Ref: "x", Run: use},
	})
	if rep.Failed() || builds != 1 || cleaned != 1 {
		t.Fatalf("failed %v builds %d cleaned %d: %+v", rep.Failed(), builds, cleaned, rep.Results)
	}
}

func sampleReport() *Report {
	return &Report{BaseURL: "http://x", RunID: "cf1", Started: time.Unix(0, 0).UTC(), Duration: time.Second,
		Profiles: []Profile{Core, Stream}, Counts: map[Outcome]int{Pass: 1, Fail: 1, Warn: 1, Skip: 1},
		Results: []Result{
			{ID: "A-001", Level: Must, Profile: Core, Ref: "getHealth 200", Title: "ok", Outcome: Pass, Duration: time.Millisecond},
			{ID: "A-002", Level: Must, Profile: Core, Ref: "createMemory 400", Title: "bad <&>", Outcome: Fail, Reason: "want 400, got 200 <&>"},
			{ID: "A-003", Level: Should, Profile: Stream, Ref: "heartbeat", Title: "w", Outcome: Warn, Reason: "slow"},
			{ID: "A-004", Level: Must, Profile: Stream, Ref: "restart", Title: "s", Outcome: Skip, Reason: "needs B"},
		}}
}

func TestWriteJUnit(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var got junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not XML: %v\n%s", err, buf.String())
	}
	if got.Tests != 4 || got.Failures != 1 || got.Skipped != 1 || len(got.Suites) != 2 {
		t.Fatalf("tests %d failures %d skipped %d suites %d", got.Tests, got.Failures, got.Skipped, len(got.Suites))
	}
	c := got.Suites[0].Cases[1]
	if c.Failure == nil || c.Failure.Message != "want 400, got 200 <&>" || c.Failure.Type != "MUST" {
		t.Fatalf("failure case %+v", c)
	}
	w := got.Suites[1].Cases[0]
	if w.Failure != nil || !strings.Contains(w.SystemOut, "WARN (SHOULD): slow") {
		t.Fatalf("warn case %+v", w)
	}
	if got.Suites[1].Cases[1].Skipped == nil {
		t.Fatalf("skip case not skipped")
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		RunID   string         `json:"run_id"`
		Counts  map[string]int `json:"counts"`
		Results []struct {
			ID, Level, Outcome, Reason, Ref string
		} `json:"results"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.RunID != "cf1" || got.Counts["fail"] != 1 || len(got.Results) != 4 ||
		got.Results[1].Outcome != "fail" || got.Results[1].Level != "MUST" || got.Results[0].Ref != "getHealth 200" {
		t.Fatalf("%+v", got)
	}
}
