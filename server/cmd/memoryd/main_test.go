package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/memoryd/memoryd/server/app"
)

// memoryd answers help and version as Go commands do: on stdout, exit 0;
// a command line that does not parse is exit 2 with the usage on stderr.
func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		code       int
		out, err   string // substrings of stdout and stderr
		emptyOther bool
	}{
		{args: []string{"--help"}, out: "usage: memoryd <command>"},
		{args: []string{"-h"}, out: "usage: memoryd <command>"},
		{args: []string{"help"}, out: "usage: memoryd <command>"},
		{args: []string{"help", "serve"}, out: "-read-timeout"},
		{args: []string{"help", "keys"}, out: "memoryd keys create"},
		{args: []string{"--version"}, out: app.Version + "\n"},
		{args: []string{"-version"}, out: app.Version + "\n"},
		{args: []string{"version"}, out: app.Version + "\n"},
		{args: []string{"serve", "--help"}, out: "-read-timeout"},
		{args: []string{"serve", "-h"}, out: "$MEMORYD_ADDR"},
		{args: []string{"keys", "--help"}, out: "memoryd keys revoke"},
		{args: []string{"help", "mcp"}, out: "$MEMORYD_WORKSPACE"},
		{args: []string{"mcp", "-h"}, out: "usage: memoryd mcp"},
		{args: []string{"mcp", "--addr", ":1"}, code: 2, err: "flag provided but not defined: -addr"},
		{args: nil, code: 2, err: "missing command"},
		{args: []string{"frobnicate"}, code: 2, err: `unknown command "frobnicate"`},
		{args: []string{"help", "frobnicate"}, code: 2, err: "unknown help topic"},
		{args: []string{"serve", "--bogus"}, code: 2, err: "flag provided but not defined: -bogus"},
		{args: []string{"serve", "--log-level", "loud"}, code: 2, err: "--log-level"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errOut)
		if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errOut.String(), tc.err) {
			t.Errorf("memoryd %v: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, out.String(), errOut.String(), tc.code, tc.out, tc.err)
		}
		if tc.code == 0 && errOut.Len() > 0 {
			t.Errorf("memoryd %v wrote to stderr: %q", tc.args, errOut.String())
		}
	}
}

// A MEMORYD_* value that does not parse stops memoryd serve before it
// opens anything, naming the variable.
func TestServeReportsBadEnvironment(t *testing.T) {
	t.Setenv("MEMORYD_RATE_FREE", "abc")
	t.Setenv("MEMORYD_DB", "sqlite://"+t.TempDir()+"/never.db")
	// Cancelled: were the variable ignored, serve would stop at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"serve"}, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), `MEMORYD_RATE_FREE="abc"`) {
		t.Fatalf("exit %d, stderr %q: want 2 naming MEMORYD_RATE_FREE", code, errOut.String())
	}
}
