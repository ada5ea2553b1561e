package app_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/memoryd/memoryd/internal/testenv"
	"github.com/memoryd/memoryd/server/app"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

// filled returns the DSN of a new database holding n memories of
// workspace ws, embedded by hash-512.
func filled(t *testing.T, ws string, n int) string {
	t.Helper()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "m.db")
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, _ := service.New(st, memindex.New(), hash.New(512))
	items := make([]service.PutInput, n)
	for i := range items {
		items[i] = service.PutInput{ID: fmt.Sprintf("m%d", i), Text: fmt.Sprintf("memory %d", i)}
	}
	if _, err := svc.PutBatch(context.Background(), service.Actor{Workspace: ws, User: "u"}, items); err != nil {
		t.Fatal(err)
	}
	return dsn
}

func TestExportImportCommandsOnDatabases(t *testing.T) {
	ctx := context.Background()
	src := filled(t, "w", 600)
	var dump, errs bytes.Buffer
	if err := app.RunExport(ctx, []string{"--db", src, "--workspace", "w"}, &dump, &errs); err != nil {
		t.Fatalf("export: %v\n%s", err, errs.String())
	}
	if n := strings.Count(dump.String(), "\n"); n != 600 {
		t.Fatalf("export wrote %d lines, want 600", n)
	}
	if !strings.Contains(errs.String(), "export done") {
		t.Fatalf("no log line on a non-terminal stderr: %s", errs.String())
	}
	dst := "sqlite://" + filepath.Join(t.TempDir(), "d.db")
	var out bytes.Buffer
	err := app.RunImport(ctx, []string{"--db", dst, "--workspace", "x", "--embedder", "hash"}, strings.NewReader(dump.String()), &out, &errs)
	if err != nil || !strings.Contains(out.String(), "600 imported (600 created, 0 updated, 0 re-embedded), 0 failed, last committed line 600") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	// Another model re-embeds.
	out.Reset()
	err = app.RunImport(ctx, []string{"--db", dst, "--workspace", "y", "--embedder", "hash", "--hash-dims", "64"}, strings.NewReader(dump.String()), &out, &errs)
	if err != nil || !strings.Contains(out.String(), "600 re-embedded") {
		t.Fatalf("import with another model: %v\n%s", err, out.String())
	}
}

func TestExportImportCommandsThroughAServer(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t)
	for i := range 5 {
		e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"id": fmt.Sprintf("m%d", i), "text": "text"})
	}
	var dump, errs bytes.Buffer
	if err := app.RunExport(ctx, []string{"--url", e.URL, "--key", e.KeyA, "--workspace", "a"}, &dump, &errs); err != nil {
		t.Fatalf("export: %v\n%s", err, errs.String())
	}
	if n := strings.Count(dump.String(), "\n"); n != 5 {
		t.Fatalf("export wrote %d lines, want 5", n)
	}
	var out bytes.Buffer
	err := app.RunImport(ctx, []string{"--url", e.URL, "--key", e.KeyA, "--workspace", "a2"}, strings.NewReader(dump.String()), &out, &errs)
	if err != nil || !strings.Contains(out.String(), "5 imported") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	err = app.RunImport(ctx, []string{"--url", e.URL, "--key", e.KeyA, "--workspace", "b"}, strings.NewReader(dump.String()), &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("import into a workspace the key may not use: %v", err)
	}
}
