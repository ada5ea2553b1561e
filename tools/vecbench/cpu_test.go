package main

import (
	"os"
	"testing"
	"time"
)

// cpuTime of this process grows while it spins.
func TestCPUTimeCountsThisProcess(t *testing.T) {
	p := proc{name: "self", pid: os.Getpid()}
	// A fresh test binary may not have used a clock tick (10 ms) yet, so
	// the first reading can be 0; what counts is that spinning adds up.
	before := cpuTime(p)
	// Spin until 200 ms are counted; a busy machine only makes it longer.
	deadline := time.Now().Add(time.Minute)
	for cpuTime(p)-before < 200*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("a minute of spinning counted %v of CPU time", cpuTime(p)-before)
		}
		for spin := time.Now(); time.Since(spin) < 10*time.Millisecond; {
		}
	}
}

// A process with spaces and parentheses in its name is read by the
// fields after the last ')'.
func TestReadStatName(t *testing.T) {
	f := t.TempDir() + "/stat"
	line := "42 (a (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 150 50 3 2 20 0 1 0 100 0 0\n"
	if err := os.WriteFile(f, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cpu, ppid, ok := readStat(f)
	if !ok || ppid != 7 || cpu != 205*clockTick {
		t.Fatalf("readStat = %v, %d, %v; want %v, 7, true", cpu, ppid, ok, 205*clockTick)
	}
}
