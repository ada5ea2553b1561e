package service_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

// exported fills a service with n memories (the last with a client
// vector) and returns its export.
func exported(t *testing.T, n int) (*service.Service, memoryd.MemoryStore, string) {
	t.Helper()
	st := openStore(t, "")
	svc, _ := newService(st)
	ctx := context.Background()
	for i := range n - 1 {
		if _, err := svc.Put(ctx, actor, service.PutInput{ID: fmt.Sprintf("m%d", i), Text: fmt.Sprintf("memory number %d", i),
			Metadata: map[string]any{"tags": []any{"t"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Put(ctx, actor, service.PutInput{ID: "client", Text: "mine", Embedding: unit(7)}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if got, err := svc.Export(ctx, actor, "", &buf, nil); err != nil || got != n {
		t.Fatalf("Export = %d, %v; want %d", got, err, n)
	}
	return svc, st, buf.String()
}

func TestExportImportRoundTrip(t *testing.T) {
	_, src, dump := exported(t, 1203)
	st := openStore(t, "")
	svc, _ := newService(st)
	ctx := context.Background()
	var progress []int
	rep, err := svc.Import(ctx, actor, strings.NewReader(dump), service.ImportOptions{
		Progress: func(r service.ImportReport) { progress = append(progress, r.LastCommittedLine) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 1203 || rep.Created != 1203 || rep.Failed != 0 || rep.Reembedded != 0 || rep.LastCommittedLine != 1203 {
		t.Fatalf("report %+v", rep)
	}
	if !slices.Equal(progress, []int{500, 1000, 1203}) {
		t.Fatalf("progress %v, want one call per batch", progress)
	}
	for _, id := range []string{"m0", "m700", "client"} {
		a, _ := src.GetMemory(ctx, "w", id)
		b, err := st.GetMemory(ctx, "w", id)
		if err != nil || !slices.Equal(a.Embedding, b.Embedding) || a.EmbeddingModel != b.EmbeddingModel || a.Text != b.Text {
			t.Fatalf("%s: imported %+v, %v; exported %+v", id, b, err, a)
		}
	}
	// Imported vectors are searchable: the client vector ranks first.
	hits, err := svc.Search(ctx, actor, service.SearchQuery{Embedding: unit(7), Mode: service.ModeSemantic, Limit: 1})
	if err != nil || len(hits.Hits) != 1 || hits.Hits[0].Memory.ID != "client" {
		t.Fatalf("search after import: %+v %v", hits, err)
	}
}

func TestImportWithAnotherModelReembeds(t *testing.T) {
	_, _, dump := exported(t, 5)
	st := openStore(t, "")
	svc, err := service.New(st, memindex.New(), hash.New(256))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := svc.Import(context.Background(), actor, strings.NewReader(dump), service.ImportOptions{})
	if err != nil || rep.Imported != 5 || rep.Reembedded != 5 {
		t.Fatalf("report %+v, %v; want 5 imported, all re-embedded", rep, err)
	}
	m, _ := st.GetMemory(context.Background(), "w", "m1")
	if len(m.Embedding) != 256 || m.EmbeddingModel != hash.New(256).Model() {
		t.Fatalf("m1 has %d dims of %q, want the server's model", len(m.Embedding), m.EmbeddingModel)
	}
}

func TestImportReportsBadLinesAndGoesOn(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a","text":"one"}`,
		`{"id":"b","text":`, // cut short
		``,
		`{"id":"c","text":"three","embedding":[0,0,0]}`, // wrong dimension: re-embedded
		`{"id":"d","text":""}`,
		`{"id":"e","text":"five","metadata":{"tags":"not a list"}}`,
		`{"id":"a","text":"one again"}`,
	}, "\n")
	st := openStore(t, "")
	svc, _ := newService(st)
	ctx := context.Background()
	rep, err := svc.Import(ctx, actor, strings.NewReader(in), service.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, e := range rep.Errors {
		lines = append(lines, e.Line)
	}
	if rep.Lines != 6 || rep.Imported != 3 || rep.Created != 2 || rep.Updated != 1 || !slices.Equal(lines, []int{2, 4, 5}) || rep.LastCommittedLine != 6 {
		t.Fatalf("report %+v", rep)
	}
	if m, _ := st.GetMemory(ctx, "w", "a"); m.Text != "one again" {
		t.Fatalf("a = %q, want the later line's text", m.Text)
	}
}

func TestImportStopsAtTheFirstBadLineWhenAsked(t *testing.T) {
	in := "{\"id\":\"a\",\"text\":\"one\"}\n{\"id\":\"b\"}\n{\"id\":\"c\",\"text\":\"three\"}\n"
	st := openStore(t, "")
	svc, _ := newService(st)
	ctx := context.Background()
	rep, err := svc.Import(ctx, actor, strings.NewReader(in), service.ImportOptions{StopOnError: true})
	if err != nil || rep.Imported != 1 || rep.Failed != 1 || rep.LastCommittedLine != 1 {
		t.Fatalf("report %+v, %v; want line 1 committed, stopped at 2", rep, err)
	}
	if count(t, st, "w") != 1 {
		t.Fatal("lines after the bad one were imported")
	}
	// Resuming past the bad line imports the rest.
	rep, err = svc.Import(ctx, actor, strings.NewReader(in), service.ImportOptions{Skip: 2})
	if err != nil || rep.Imported != 1 || rep.LastCommittedLine != 3 || count(t, st, "w") != 2 {
		t.Fatalf("resumed: %+v, %v", rep, err)
	}
}

func TestExportResumesFromACursor(t *testing.T) {
	svc, _, dump := exported(t, 4)
	lines := strings.Split(strings.TrimSpace(dump), "\n")
	cursor := lines[1][strings.Index(lines[1], `"cursor":"`)+10:]
	cursor = cursor[:strings.Index(cursor, `"`)]
	var buf bytes.Buffer
	n, err := svc.Export(context.Background(), actor, cursor, &buf, nil)
	if err != nil || n != 2 || buf.String() != lines[2]+"\n"+lines[3]+"\n" {
		t.Fatalf("resumed export: %d, %v\n%s", n, err, buf.String())
	}
}
