package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A step that runs out of time says which step and limit it was, not only
// what the killed command printed.
func TestWithinNamesTheLimit(t *testing.T) {
	err := within(context.Background(), 50*time.Millisecond, "image build (tools/docker/build-image.sh)",
		func(ctx context.Context) error {
			_, err := script(ctx, t.TempDir(), "-c", "sleep 30")
			return err
		})
	if err == nil {
		t.Fatal("a 30 s script finished within 50 ms")
	}
	for _, want := range []string{"image build (tools/docker/build-image.sh) exceeded its 50ms limit", "killed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	var le *limitExceeded
	if !errors.As(err, &le) {
		t.Errorf("error %q does not wrap *limitExceeded", err)
	}
}

// The script's children go with it: a killed build leaves no go build or
// docker build behind, and the harness does not wait for them.
func TestScriptKillsItsChildren(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	err := within(context.Background(), 2*time.Second, "step", func(ctx context.Context) error {
		// The child keeps the script's stdout open; without killing the
		// group, Output would wait for it.
		_, err := script(ctx, dir, "-c", "sleep 60 & echo $! > child.pid; wait")
		return err
	})
	if err == nil {
		t.Fatal("script finished")
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("script returned after %s: it waited for its child", d)
	}
	pid, err := os.ReadFile(filepath.Join(dir, "child.pid"))
	if err != nil {
		t.Fatalf("the script did not start its child in 2 s: %v", err)
	}
	p := strings.TrimSpace(string(pid))
	// A killed child may linger as a zombie until its new parent reaps it.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if stat, err := os.ReadFile("/proc/" + p + "/stat"); err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
	}
	exec.Command("kill", p).Run()
	t.Errorf("the script's child %s still runs", p)
}

// Errors that are not the limit's pass through unchanged.
func TestWithinPassesOtherErrors(t *testing.T) {
	want := errors.New("boom")
	if err := within(context.Background(), time.Minute, "step", func(context.Context) error { return want }); err != want {
		t.Fatalf("got %v, want %v", err, want)
	}
}
