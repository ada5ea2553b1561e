package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	cndjson "github.com/memoryd/memoryd/conformance/ndjson"
	"github.com/memoryd/memoryd/internal/testenv"
	"github.com/memoryd/memoryd/server/httpapi"
)

const ndjson = "application/x-ndjson"

// The responses' check (testenv) reads NDJSON line by line.
func init() { cndjson.Register() }

// exportLines exports workspace a of e from cursor and decodes each line.
func exportLines(t *testing.T, e *testenv.Env, key, cursor string) []map[string]any {
	t.Helper()
	path := "/api/v1/memory/export"
	if cursor != "" {
		path += "?cursor=" + cursor
	}
	r := e.Do("GET", path, key, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != ndjson {
		t.Fatalf("export: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(r.Raw)), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestExportImportRoundTripOverHTTP(t *testing.T) {
	src := testenv.New(t)
	for i := range 7 {
		src.Do("POST", "/api/v1/memory", src.KeyA, map[string]any{"id": fmt.Sprintf("m%d", i), "text": fmt.Sprintf("memory %d", i)})
	}
	lines := exportLines(t, src, src.KeyA, "")
	if len(lines) != 7 || len(lines[0]["embedding"].([]any)) != 512 || lines[0]["embedding_model"] != "hash-512" {
		t.Fatalf("export: %d lines, first %v", len(lines), lines[0]["embedding_model"])
	}
	// Resumable: from the third line's cursor come the last four.
	if rest := exportLines(t, src, src.KeyA, lines[2]["cursor"].(string)); len(rest) != 4 || rest[0]["id"] != "m3" {
		t.Fatalf("resumed export: %d lines", len(rest))
	}
	// Other workspaces see nothing of it.
	if other := exportLines(t, src, src.KeyB, ""); len(other) != 0 {
		t.Fatalf("workspace b exports %d memories of a", len(other))
	}
	testenv.WantError(t, src.Do("GET", "/api/v1/memory/export?cursor=nope!", src.KeyA, nil), 400, "INVALID_REQUEST")

	var body strings.Builder
	for i, l := range lines {
		b, _ := json.Marshal(l)
		body.Write(b)
		body.WriteString("\n")
		if i == 3 {
			body.WriteString("{not json}\n")
		}
	}
	dst := testenv.New(t)
	r := dst.Do("POST", "/api/v1/memory/import", dst.KeyA, body.String(), "Content-Type", ndjson)
	if r.Status != 200 || r.Body["imported"] != 7.0 || r.Body["failed"] != 1.0 || r.Body["reembedded"] != 0.0 ||
		r.Body["last_committed_line"] != 8.0 {
		t.Fatalf("import: %d %s", r.Status, r.Raw)
	}
	if e := r.Body["errors"].([]any)[0].(map[string]any); e["line"] != 5.0 || e["error"] != "INVALID_REQUEST" {
		t.Fatalf("line error: %v", e)
	}
	got := dst.Do("GET", "/api/v1/memory/m4", dst.KeyA, nil)
	if fmt.Sprint(got.Body["embedding"]) != fmt.Sprint(lines[4]["embedding"]) || got.Body["embedding_model"] != "hash-512" {
		t.Fatal("imported vector differs from the exported one")
	}
	// Resuming with skip imports only what follows.
	r = dst.Do("POST", "/api/v1/memory/import?skip=7", dst.KeyA, body.String(), "Content-Type", ndjson)
	if r.Status != 200 || r.Body["imported"] != 1.0 || r.Body["updated"] != 1.0 {
		t.Fatalf("resumed import: %d %s", r.Status, r.Raw)
	}
}

func TestImportRefusals(t *testing.T) {
	e := testenv.New(t)
	testenv.WantError(t, e.Do("POST", "/api/v1/memory/import", e.KeyA, `{"text":"x"}`), 400, "INVALID_REQUEST")
	testenv.WantError(t, e.Do("POST", "/api/v1/memory/import?skip=-1", e.KeyA, `{"text":"x"}`, "Content-Type", ndjson), 400, "INVALID_REQUEST")
	testenv.WantError(t, e.Do("POST", "/api/v1/memory/import", "", `{"text":"x"}`, "Content-Type", ndjson), 401, "UNAUTHORIZED")
	r := e.Do("POST", "/api/v1/memory/import?stop_on_error=true", e.KeyA, "{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\"}\n{\"id\":\"c\",\"text\":\"y\"}\n", "Content-Type", ndjson)
	if r.Status != 200 || r.Body["imported"] != 1.0 || r.Body["last_committed_line"] != 1.0 {
		t.Fatalf("stop_on_error: %s", r.Raw)
	}
}

// An import body is not bound by the JSON body limit, but by its own.
func TestImportBodyHasItsOwnLimit(t *testing.T) {
	e := testenv.New(t, testenv.WithMaxBodyBytes(64<<10))
	var body strings.Builder
	for i := range 300 {
		fmt.Fprintf(&body, "{\"id\":\"m%d\",\"text\":\"%s\"}\n", i, strings.Repeat("x", 500))
	}
	if body.Len() <= 64<<10 {
		t.Fatal("body not over the JSON limit")
	}
	r := e.Do("POST", "/api/v1/memory/import", e.KeyA, body.String(), "Content-Type", ndjson)
	if r.Status != 200 || r.Body["imported"] != 300.0 {
		t.Fatalf("import over the JSON limit: %d %s", r.Status, r.Raw)
	}
}

// An import body may take longer than the read timeout while it keeps
// coming; one that trickles is cut at the read timeout, naming it, with
// the lines before it committed.
func TestImportBodyDeadlineFollowsProgress(t *testing.T) {
	const readTimeout = time.Second
	e := limitsEnv(t, httpapi.Config{ReadTimeout: readTimeout})
	line := func(i int) string {
		return fmt.Sprintf("{\"id\":\"m%d\",\"text\":\"%s\"}\n", i, strings.Repeat("x", 1000))
	}
	// 3 s of body, 80 KiB every 300 ms.
	pr, pw := io.Pipe()
	go func() {
		n := 0
		for range 10 {
			var b strings.Builder
			for b.Len() < 80<<10 {
				b.WriteString(line(n))
				n++
			}
			if _, err := io.WriteString(pw, b.String()); err != nil {
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
		pw.Close()
	}()
	status, body := postImport(t, e, pr)
	if status != 200 || body["failed"] != 0.0 || body["imported"].(float64) < 700 {
		t.Fatalf("steady import past the read timeout: %d %v", status, body)
	}

	// Then a body that sends one line and trickles.
	pr, pw = io.Pipe()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		_, _ = io.WriteString(pw, "{\"id\":\"first\",\"text\":\"stored\"}\n")
		for {
			select {
			case <-stop:
				pw.Close()
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := io.WriteString(pw, " "); err != nil {
				return
			}
		}
	}()
	status, body = postImport(t, e, pr)
	msg, _ := body["message"].(string)
	if status != 400 || !strings.Contains(msg, "read timeout (1s)") {
		t.Fatalf("trickling import: %d %v, want 400 naming the read timeout", status, body)
	}
}

func postImport(t *testing.T, e *testenv.Env, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.URL+"/api/v1/memory/import", body)
	req.Header.Set("Content-Type", ndjson)
	req.Header.Set("Authorization", "Bearer "+e.KeyA)
	res, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}
