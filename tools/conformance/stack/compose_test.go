package stack

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/memoryd/memoryd/internal/weaviatetest"
)

// root is the repository root, three levels above this package.
var root = filepath.Join("..", "..", "..")

func readCompose(t *testing.T) (map[string]composeService, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	services, err := ParseCompose(data)
	if err != nil {
		t.Fatal(err)
	}
	return services, data
}

// compose.yaml runs what the tested stack runs: the same services, the
// same environment (with the operator's ${...} left at their defaults) and
// the same commands.
func TestComposeEqualsStack(t *testing.T) {
	services, _ := readCompose(t)
	for _, d := range Diff(services) {
		t.Error(d)
	}
}

// The official images are the versions the local images are built from.
func TestComposeImages(t *testing.T) {
	services, _ := readCompose(t)
	if got, want := services[Weaviate].Image, "semitechnologies/weaviate:"+strings.TrimPrefix(weaviatetest.Version, "v"); got != want {
		t.Errorf("weaviate image %q, the tests run %s", got, want)
	}
	if got := services[Postgres].Image; got != "postgres:15" {
		t.Errorf("postgres image %q, the stack runs PostgreSQL 15 (tools/docker/postgres)", got)
	}
	if services[NodeA].Image != services[NodeB].Image {
		t.Errorf("the nodes run different images: %q and %q", services[NodeA].Image, services[NodeB].Image)
	}
}

// The image compose builds from source ends as the image the stack runs:
// the final stages have the same instructions, but for where the files
// are copied from.
func TestComposeDockerfileEqualsImage(t *testing.T) {
	final := func(name string) []string {
		data, err := os.ReadFile(filepath.Join(root, "tools", "docker", name))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "FROM "):
				out = nil // only the last stage counts
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "COPY "):
				f := strings.Fields(line)
				out = append(out, "COPY "+f[len(f)-1])
			default:
				out = append(out, line)
			}
		}
		return out
	}
	if a, b := final("Dockerfile"), final("compose.Dockerfile"); !slices.Equal(a, b) {
		t.Errorf("final stages differ:\nDockerfile         %q\ncompose.Dockerfile %q", a, b)
	}
}

// The comparison sees a changed, a missing and an extra setting, and an
// interpolation it does not understand.
func TestDiffDetectsDrift(t *testing.T) {
	_, data := readCompose(t)
	for _, tc := range []struct{ old, new, want string }{
		{"MEMORYD_STREAM_MIN_HEARTBEAT: 1s", "MEMORYD_STREAM_MIN_HEARTBEAT: 2s", "MEMORYD_STREAM_MIN_HEARTBEAT=\"2s\""},
		{"      GRPC_PORT: \"50051\"\n", "", "GRPC_PORT is missing"},
		{"      LOG_LEVEL: info\n", "      LOG_LEVEL: info\n      QUERY_DEFAULTS_LIMIT: \"25\"\n", "QUERY_DEFAULTS_LIMIT is not set by the stack"},
		{"${POSTGRES_PASSWORD:-memoryd}@", "${POSTGRES_PASSWORD}@", "only ${NAME:-default}"},
		{`command: ["--host", "0.0.0.0",`, `command: ["--host", "127.0.0.1",`, "weaviate: command"},
	} {
		changed := strings.Replace(string(data), tc.old, tc.new, 1)
		if changed == string(data) {
			t.Fatalf("compose.yaml has no %q", tc.old)
		}
		services, err := ParseCompose([]byte(changed))
		if err != nil {
			t.Fatal(err)
		}
		diffs := strings.Join(Diff(services), "\n")
		if !strings.Contains(diffs, tc.want) {
			t.Errorf("after %q -> %q, diff %q does not say %q", tc.old, tc.new, diffs, tc.want)
		}
	}
}
