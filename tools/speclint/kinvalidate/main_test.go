package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runOn(t *testing.T, files ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), files, &out, &errOut)
	return code, out.String(), errOut.String()
}

// The valid sample references a schema in a sibling file, as spec/openapi.yaml
// may reference spec/schemas/*.yaml.
func TestValid(t *testing.T) {
	code, out, errOut := runOn(t, "testdata/valid/openapi.yaml")
	if code != 0 || !strings.Contains(out, "valid") {
		t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

// Each invalid sample breaks one rule; the message must name the problem.
func TestInvalid(t *testing.T) {
	cases := map[string]string{
		"invalid/format.yaml":     `unsupported 'format' value "colour-name"`,
		"invalid/default.yaml":    "invalid default: value must be an integer",
		"invalid/example.yaml":    "value must be an integer",
		"invalid/pattern.yaml":    "error parsing regexp",
		"invalid/pathparam.yaml":  "must define exactly all path parameters (missing: [id])",
		"invalid/refsibling.yaml": "extra sibling fields: [x-note]",
		"invalid/notopenapi.yaml": `no "openapi" field`,
		"badref/openapi.yaml":     "missing.yaml: no such file or directory",
		"remote/openapi.yaml":     "must reference local files only",
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			code, _, errOut := runOn(t, filepath.Join("testdata", file))
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		})
	}
}

// One invalid file among valid ones fails the run, and every file is still
// reported.
func TestMixed(t *testing.T) {
	code, out, errOut := runOn(t, "testdata/invalid/format.yaml", "testdata/valid/openapi.yaml")
	if code != 1 || !strings.Contains(out, "valid/openapi.yaml: valid") || !strings.Contains(errOut, "format.yaml: invalid") {
		t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func TestUsage(t *testing.T) {
	if code, _, _ := runOn(t); code != 2 {
		t.Fatalf("no arguments: code %d, want 2", code)
	}
}

// The project's own spec must pass, so `go test ./...` catches a broken
// spec even without the npm linters.
func TestProjectSpec(t *testing.T) {
	const spec = "../../../spec/openapi.yaml"
	if _, err := os.Stat(spec); err != nil {
		t.Skipf("no project spec: %v", err)
	}
	if code, _, errOut := runOn(t, spec); code != 0 {
		t.Fatalf("spec/openapi.yaml is invalid:\n%s", errOut)
	}
}
