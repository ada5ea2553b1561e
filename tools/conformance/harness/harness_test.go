package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/testcontainers/testcontainers-go"

	"github.com/memoryd/memoryd/conformance"
)

func TestKeyFrom(t *testing.T) {
	for _, tc := range []struct {
		out, key string
		ok       bool
	}{
		{"created key_1 for workspaces conf-a\nmk_abc\n", "mk_abc", true},
		{"mk_abc\ncreated key_1 for workspaces conf-a\n", "mk_abc", true},
		{"created key_1 for workspaces conf-a\n", "", false},
		{"mk_a\nmk_b\n", "", false},
	} {
		key, err := keyFrom([]byte(tc.out))
		if (err == nil) != tc.ok || key != tc.key {
			t.Errorf("keyFrom(%q) = %q, %v; want %q (ok %v)", tc.out, key, err, tc.key, tc.ok)
		}
	}
}

// TestConform builds the image, runs a few checks against a container and
// checks the reports and that the container is gone. Without a running
// Docker engine Conform starts one (tools/docker/ensure-dockerd.sh installs
// Debian's docker.io when missing), as the store tests start PostgreSQL.
// Each step has its own limit (limits.go); the checks have theirs.
func TestConform(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and starts a container")
	}
	const image = "memoryd:conformance-test"
	dir := t.TempDir()
	ctx := t.Context()
	// The heartbeat check passes only if the container honours the 1 s
	// minimum the harness sets; the create check needs the keys.
	ids := []string{"SYS-HEALTH-001", "MEM-CREATE-001", "STREAM-CONNECT-001", "STREAM-HEARTBEAT-001"}
	rep, err := Conform(ctx, Options{Image: image, Build: true, Reports: dir, Out: io.Discard,
		Profiles: []conformance.Profile{conformance.Core, conformance.Stream},
		Run:      regexp.MustCompile("^(" + strings.Join(ids, "|") + ")$")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[conformance.Pass] != len(ids) {
		for _, r := range rep.Results {
			t.Logf("%s", r.Line())
		}
		t.Fatalf("counts %v, want %d passes", rep.Counts, len(ids))
	}
	var js conformance.Report
	b, err := os.ReadFile(filepath.Join(dir, "conformance-docker.json"))
	if err != nil || json.Unmarshal(b, &js) != nil || len(js.Results) != len(ids) {
		t.Fatalf("JSON report: %v, %d results", err, len(js.Results))
	}
	for _, f := range []string{"conformance-docker.xml", "memoryd-docker.log"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// This process's containers only: another run on the same engine may
	// be under way. testcontainers labels each container with its session
	// under this key (its internal core.LabelSessionID; the exported
	// TestcontainerLabelSessionID is an older key it no longer sets).
	const sessionLabel = "org.testcontainers.sessionId"
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "ancestor="+image,
		"--filter", "label="+sessionLabel+"="+testcontainers.SessionID()).Output()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("containers of %s left: %q %v", image, out, err)
	}
}
