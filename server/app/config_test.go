package app

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/server/httpapi"
)

// The body limit and the deadlines default to httpapi's defaults: one
// place for them.
func TestServeDefaultsAreHTTPAPIs(t *testing.T) {
	cfg, err := ParseServe(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := httpapi.Config{MaxBodyBytes: httpapi.DefaultMaxBodyBytes, ReadHeaderTimeout: httpapi.DefaultReadHeaderTimeout,
		ReadTimeout: httpapi.DefaultReadTimeout, IdleTimeout: httpapi.DefaultIdleTimeout}
	if cfg.HTTP != want {
		t.Fatalf("HTTP config %+v, want %+v", cfg.HTTP, want)
	}
}

// A MEMORYD_* value that does not parse stops the start with an error
// naming the variable, unless its flag is given; one that parses is used.
func TestEnvironmentErrorsAreReported(t *testing.T) {
	for _, tc := range []struct{ name, value, flag string }{
		{"MEMORYD_RATE_FREE", "abc", "--rate-free=5"},
		{"MEMORYD_MAX_BODY_BYTES", "1MB", "--max-body-bytes=1000"},
		{"MEMORYD_READ_TIMEOUT", "forever", "--read-timeout=5s"},
		{"MEMORYD_EVENT_RETENTION_COUNT", "many", "--event-retention-count=5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			_, err := ParseServe(nil)
			if err == nil || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), tc.value) {
				t.Fatalf("%s=%s: %v, want an error naming the variable and its value", tc.name, tc.value, err)
			}
			if _, err := ParseServe([]string{tc.flag}); err != nil {
				t.Fatalf("%s given: %v (the flag wins over the variable)", tc.flag, err)
			}
		})
	}
	t.Setenv("MEMORYD_READ_TIMEOUT", "90s")
	if cfg, err := ParseServe(nil); err != nil || cfg.HTTP.ReadTimeout != 90*time.Second {
		t.Fatalf("MEMORYD_READ_TIMEOUT=90s: %v %v", cfg.HTTP.ReadTimeout, err)
	}
}

// Values the flag types accept but memoryd cannot use are refused at start.
func TestServeRefusesUnusableValues(t *testing.T) {
	for _, args := range [][]string{
		{"--log-level", "loud"}, {"--log-format", "xml"}, {"--read-timeout", "0s"}, {"--idle-timeout", "-1s"},
		{"--read-header-timeout", "0"}, {"--max-body-bytes", "0"}, {"--max-text-bytes", "-5"}, {"--rate-free", "-1"},
		{"--shutdown-timeout", "0s"}, {"extra-argument"},
	} {
		if _, err := ParseServe(args); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// -h asks for help: the usage lists every flag with its variable and
// default, the deadlines among them.
func TestServeHelp(t *testing.T) {
	if _, err := ParseServe([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v, want flag.ErrHelp", err)
	}
	t.Setenv("MEMORYD_OPENAI_API_KEY", "sk-not-to-be-shown")
	var out bytes.Buffer
	PrintServeUsage(&out)
	if strings.Contains(out.String(), "sk-not-to-be-shown") {
		t.Errorf("the usage shows the environment's secret:\n%s", out.String())
	}
	for _, want := range []string{"usage: memoryd serve", "-read-timeout", "$MEMORYD_READ_TIMEOUT", "(default 1m0s)",
		"-idle-timeout", "-read-header-timeout", "-max-body-bytes", "(default 4194304)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve usage lacks %q:\n%s", want, out.String())
		}
	}
}

// keys answers -h on stdout and refuses a bad command line as a usage
// error, before opening any database.
func TestKeysHelpAndUsage(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}, {"create", "-h"}, {"list", "--help"}} {
		var out, errOut bytes.Buffer
		if err := RunKeys(ctx, args, &out, &errOut); err != nil || !strings.Contains(out.String(), "memoryd keys create") {
			t.Errorf("keys %v: %v, stdout %q", args, err, out.String())
		}
		if args[0] == "create" && !strings.Contains(out.String(), "-workspace") {
			t.Errorf("keys create -h does not list its flags: %q", out.String())
		}
	}
	for _, args := range [][]string{nil, {"rotate"}, {"list", "--nope"}, {"revoke"}, {"list", "extra"}} {
		var ue *UsageError
		if err := RunKeys(ctx, args, &bytes.Buffer{}, &bytes.Buffer{}); !errors.As(err, &ue) {
			t.Errorf("keys %v: %v, want a usage error", args, err)
		}
	}
}
