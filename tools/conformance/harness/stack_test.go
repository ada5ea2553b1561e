package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/memoryd/memoryd/tools/conformance/stack"
)

// TestStackLogsAndCleanup starts the production stack, checks that a key
// made on node A works on node B, asks for the logs as a failing run does,
// and checks that every container and the network are gone afterwards.
func TestStackLogsAndCleanup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images and starts four containers")
	}
	loopbackOnly()
	ctx := t.Context()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if err := ensureDockerd(ctx, root); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	o := Options{Image: "memoryd:conformance-test", Build: true, Reports: dir, Out: io.Discard}
	var ids []string
	var network string
	err = withStack(ctx, root, o, func(st *Stack) (bool, error) {
		for _, c := range st.containers {
			ids = append(ids, c.GetContainerID())
		}
		network = st.net.ID
		key, err := st.A.CreateKey(ctx, "stack-test")
		if err != nil {
			return true, err
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", st.B.BaseURL+"/api/v1/memory", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return true, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("node A's key on node B: %d", resp.StatusCode)
		}
		return true, nil // keep the logs, as after a failing check
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(stack.Services()) {
		t.Fatalf("%d containers started, want %d", len(ids), len(stack.Services()))
	}
	for _, s := range stack.Services() {
		st, err := os.Stat(filepath.Join(dir, "stack-"+s.Name+".log"))
		if err != nil || st.Size() == 0 {
			t.Errorf("log of %s: %v", s.Name, err)
		}
	}
	out, _ := exec.Command("docker", "ps", "-aq", "--no-trunc").Output()
	for _, id := range ids {
		if strings.Contains(string(out), id) {
			t.Errorf("container %s is left", id)
		}
	}
	if err := exec.Command("docker", "network", "inspect", network).Run(); err == nil {
		t.Errorf("network %s is left", network)
	}
}
