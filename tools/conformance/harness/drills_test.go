package main

import "testing"

// The drills run against the stack only, and not with --up.
func TestDrillsFlags(t *testing.T) {
	for _, args := range [][]string{{"--drills"}, {"--stack", "scale", "--up", "--drills"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	o, err := parseFlags([]string{"--stack", "scale", "--drills", "--run", "kill"})
	if err != nil || !o.Drills || o.Run == nil || !o.Run.MatchString("kill-node-a") {
		t.Fatalf("--stack scale --drills --run kill: %+v, %v", o, err)
	}
}
