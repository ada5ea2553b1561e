package app

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

// memoryd mcp reads serve's variables, so one environment configures both
// on the same database and embedder.
func TestMCPSharesServesEnvironment(t *testing.T) {
	t.Setenv("MEMORYD_DB", "sqlite:///srv/memoryd.db")
	t.Setenv("MEMORYD_EMBEDDER", "hash")
	t.Setenv("MEMORYD_HASH_DIMS", "64")
	t.Setenv("MEMORYD_WORKSPACE", "notes")
	serve, err := ParseServe(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseMCP(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DB != serve.DB || cfg.Embed != serve.Embed || cfg.Workspace != "notes" || cfg.MaxTextBytes != serve.MaxTextBytes {
		t.Fatalf("mcp config %+v, serve's %+v", cfg, serve)
	}
	if cfg, err := ParseMCP([]string{"--workspace", "w2", "--db", "sqlite://x.db"}); err != nil ||
		cfg.Workspace != "w2" || cfg.DB != "sqlite://x.db" {
		t.Fatalf("flags: %+v %v (a flag wins over its variable)", cfg, err)
	}
}

func TestMCPRefusesUnusableValues(t *testing.T) {
	for _, args := range [][]string{
		{"--log-level", "loud"}, {"--log-format", "xml"}, {"--max-text-bytes", "0"}, {"--workspace", ""},
		{"--workspace", strings.Repeat("w", 129)}, {"--hash-dims", "-1"}, {"extra-argument"}, {"--addr", ":80"},
	} {
		if _, err := ParseMCP(args); err == nil {
			t.Errorf("memoryd mcp %v: accepted", args)
		}
	}
	if _, err := ParseMCP([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	var b bytes.Buffer
	PrintMCPUsage(&b)
	for _, want := range []string{"usage: memoryd mcp", "-workspace", "$MEMORYD_WORKSPACE", "-db", "-embedder"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, b.String())
		}
	}
}
