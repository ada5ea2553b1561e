package service_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if memoryd.ErrorCode(err) != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func tags(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = "t" + strings.Repeat("x", i%3)
	}
	return out
}

func wideMetadata(keys int) map[string]any {
	md := map[string]any{}
	for i := range keys {
		md[fmt.Sprintf("k%03d", i)] = i
	}
	return md
}

// Every refused write is refused before the store is touched: nothing is
// stored, not even a row the index or a filter could trip on later.
func TestPutRefusesBeforeWriting(t *testing.T) {
	st := openStore(t, "")
	svc, _ := newService(st)
	zero := make([]float32, dims)
	tiny := make([]float32, dims) // each 1e-46 rounds to 0 in float32
	for i := range tiny {
		tiny[i] = float32(1e-46)
	}
	nan := unit(0)
	nan[7] = float32(math.NaN())
	inf := unit(0)
	inf[7] = float32(math.Inf(-1))
	deep := nest(service.MaxMetadataDepth + 1)
	deepList := map[string]any{"l": []any{}}
	for cur, i := deepList, 2; i <= service.MaxMetadataDepth; i++ {
		next := map[string]any{}
		cur["l"] = []any{next}
		cur = next
		if i == service.MaxMetadataDepth {
			next["l"] = []any{"too deep"}
		}
	}
	cases := []struct {
		name string
		in   service.PutInput
		code string
	}{
		{"zero vector", service.PutInput{Text: "x", Embedding: zero}, memoryd.EINVALID},
		{"vector zero in float32", service.PutInput{Text: "x", Embedding: tiny}, memoryd.EINVALID},
		{"NaN", service.PutInput{Text: "x", Embedding: nan}, memoryd.EINVALID},
		{"infinity", service.PutInput{Text: "x", Embedding: inf}, memoryd.EINVALID},
		{"wrong dimension", service.PutInput{Text: "x", Embedding: []float32{1, 2}}, memoryd.EINVALID},
		{"id .", service.PutInput{ID: ".", Text: "x"}, memoryd.EINVALID},
		{"id ..", service.PutInput{ID: "..", Text: "x"}, memoryd.EINVALID},
		{"id ...", service.PutInput{ID: "...", Text: "x"}, memoryd.EINVALID},
		{"id search", service.PutInput{ID: "search", Text: "x"}, memoryd.EINVALID},
		{"id with slash", service.PutInput{ID: "a/b", Text: "x"}, memoryd.EINVALID},
		{"id with space", service.PutInput{ID: "a b", Text: "x"}, memoryd.EINVALID},
		{"id too long", service.PutInput{ID: strings.Repeat("i", service.MaxIDLength+1), Text: "x"}, memoryd.EINVALID},
		{"empty text", service.PutInput{Text: ""}, memoryd.EINVALID},
		{"text too large", service.PutInput{Text: strings.Repeat("x", 1001)}, memoryd.ETOOLARGE},
		{"text not UTF-8", service.PutInput{Text: "bad \xff"}, memoryd.EINVALID},
		{"text with NUL", service.PutInput{Text: "a\x00b"}, memoryd.EINVALID},
		{"metadata too deep", service.PutInput{Text: "x", Metadata: deep}, memoryd.EINVALID},
		{"metadata lists too deep", service.PutInput{Text: "x", Metadata: deepList}, memoryd.EINVALID},
		{"metadata 1000 deep", service.PutInput{Text: "x", Metadata: nest(1000)}, memoryd.EINVALID},
		{"metadata too large", service.PutInput{Text: "x", Metadata: map[string]any{"pad": strings.Repeat("p", service.MaxMetadataBytes)}}, memoryd.EINVALID},
		{"metadata too many keys", service.PutInput{Text: "x", Metadata: wideMetadata(service.MaxMetadataKeys + 1)}, memoryd.EINVALID},
		{"metadata key not UTF-8", service.PutInput{Text: "x", Metadata: map[string]any{"k\xff": 1}}, memoryd.EINVALID},
		{"metadata value with NUL", service.PutInput{Text: "x", Metadata: map[string]any{"k": []any{"a\x00"}}}, memoryd.EINVALID},
		{"metadata NaN", service.PutInput{Text: "x", Metadata: map[string]any{"k": math.NaN()}}, memoryd.EINVALID},
		{"type not a string", service.PutInput{Text: "x", Metadata: map[string]any{"type": 1}}, memoryd.EINVALID},
		{"source too long", service.PutInput{Text: "x", Metadata: map[string]any{"source": strings.Repeat("s", 257)}}, memoryd.EINVALID},
		{"tags not strings", service.PutInput{Text: "x", Metadata: map[string]any{"tags": []any{"a", 1}}}, memoryd.EINVALID},
		{"too many tags", service.PutInput{Text: "x", Metadata: map[string]any{"tags": tags(service.MaxTags + 1)}}, memoryd.EINVALID},
		{"timestamp not a date", service.PutInput{Text: "x", Metadata: map[string]any{"timestamp": "yesterday"}}, memoryd.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := service.Actor{Workspace: c.name, User: "u"}
			_, err := svc.Put(context.Background(), a, c.in)
			wantCode(t, err, c.code)
			if n := count(t, st, a.Workspace); n != 0 {
				t.Fatalf("a refused put stored %d memories", n)
			}
		})
	}
}

// The limits are inclusive: input exactly at each one is stored.
func TestPutAcceptsInputAtTheLimits(t *testing.T) {
	st := openStore(t, "")
	svc, _ := newService(st)
	pad := strings.Repeat("p", service.MaxMetadataBytes-len(`{"pad":""}`))
	tiny := make([]float32, dims)
	tiny[5] = math.SmallestNonzeroFloat32
	for _, in := range []service.PutInput{
		{ID: "a.b", Text: "x"}, {ID: ".a", Text: "x"}, {ID: "a..", Text: "x"}, {ID: "x:y-z_0", Text: "x"}, {ID: "Search", Text: "x"}, {ID: "searches", Text: "x"},
		{ID: strings.Repeat("i", service.MaxIDLength), Text: "x"},
		{Text: "deep", Metadata: nest(service.MaxMetadataDepth)},
		{Text: "big", Metadata: map[string]any{"pad": pad}},
		{Text: "wide", Metadata: wideMetadata(service.MaxMetadataKeys)},
		{Text: "tagged", Metadata: map[string]any{"tags": tags(service.MaxTags), "type": strings.Repeat("é", 256),
			"timestamp": "2024-01-15T10:30:00Z"}},
		{Text: "smallest vector", Embedding: tiny},
		{Text: "U+FFFD as sent \uFFFD"},
	} {
		if _, err := svc.Put(context.Background(), actor, in); err != nil {
			t.Errorf("put %q (id %q): %v", in.Text, in.ID, err)
		}
	}
}

// An update that is refused leaves the memory as it was.
func TestUpdateRefusesBeforeWriting(t *testing.T) {
	st := openStore(t, "")
	svc, _ := newService(st)
	ctx := context.Background()
	if _, err := svc.Put(ctx, actor, service.PutInput{ID: "m", Text: "original", Embedding: unit(1)}); err != nil {
		t.Fatal(err)
	}
	text := "changed"
	for name, in := range map[string]service.UpdateInput{
		"zero vector":     {Embedding: make([]float32, dims)},
		"zero and text":   {Text: &text, Embedding: make([]float32, dims)},
		"deep metadata":   {Text: &text, Metadata: nest(1000)},
		"metadata NUL":    {Metadata: map[string]any{"k\x00": 1}},
		"text not UTF-8":  {Text: new("a\xc3")},
		"wrong dimension": {Embedding: unit(1)[:10]},
	} {
		_, err := svc.Update(ctx, actor, "m", in)
		wantCode(t, err, memoryd.EINVALID)
		m, err := st.GetMemory(ctx, actor.Workspace, "m")
		if err != nil || m.Text != "original" || !slices.Equal(m.Embedding, unit(1)) || len(m.Metadata) != 0 {
			t.Fatalf("%s: a refused update changed the memory: %v", name, err)
		}
	}
}

func TestSearchAndListRefuseFiltersTheStoresCannotRun(t *testing.T) {
	st := openStore(t, "")
	svc, _ := newService(st)
	ctx := context.Background()
	if _, err := svc.Put(ctx, actor, service.PutInput{Text: "a memory", Metadata: map[string]any{"tags": []any{"t"}, "k": "v"}}); err != nil {
		t.Fatal(err)
	}
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("tag%04d", i)
		}
		return out
	}
	manyMD := func(n int) map[string]any {
		out := map[string]any{}
		for _, k := range many(n) {
			out[k] = "v"
		}
		return out
	}
	bad := map[string]memoryd.Filter{
		"65 tags":             {Tags: many(service.MaxFilterTags + 1)},
		"1000 tags":           {Tags: many(1000)},
		"65 metadata keys":    {Metadata: manyMD(service.MaxFilterMetadata + 1)},
		"1000 metadata keys":  {Metadata: manyMD(1000)},
		"object value":        {Metadata: map[string]any{"k": map[string]any{"a": 1}}},
		"long tag":            {Tags: []string{strings.Repeat("t", service.MaxFilterChars+1)}},
		"long metadata value": {Metadata: map[string]any{"k": strings.Repeat("v", service.MaxFilterChars+1)}},
		"tag not UTF-8":       {Tags: []string{"\xff"}},
		"type with NUL":       {Type: "a\x00"},
	}
	for name, f := range bad {
		_, err := svc.List(ctx, actor, memoryd.ListQuery{Limit: 10, Filter: f})
		wantCode(t, err, memoryd.EINVALID)
		for _, mode := range []string{service.ModeSemantic, service.ModeKeyword, service.ModeHybrid} {
			_, err := svc.Search(ctx, actor, service.SearchQuery{Query: "memory", Mode: mode, Limit: 10, Filter: f})
			if memoryd.ErrorCode(err) != memoryd.EINVALID {
				t.Fatalf("%s, %s search: got %v, want INVALID_REQUEST", name, mode, err)
			}
		}
	}
	good := memoryd.Filter{Tags: append(many(service.MaxFilterTags-1), "t"), Metadata: manyMD(service.MaxFilterMetadata)}
	if p, err := svc.List(ctx, actor, memoryd.ListQuery{Limit: 10, Filter: good}); err != nil || p.Total != 0 {
		t.Fatalf("list at the limits: %v", err)
	}
	good = memoryd.Filter{Tags: []string{"t"}, Metadata: map[string]any{"k": "v"}}
	for _, mode := range []string{service.ModeSemantic, service.ModeKeyword, service.ModeHybrid} {
		res, err := svc.Search(ctx, actor, service.SearchQuery{Query: "memory", Mode: mode, Limit: 10, Filter: good})
		if err != nil || len(res.Hits) != 1 {
			t.Fatalf("%s search with filters: %v %+v", mode, err, res)
		}
	}
}

func TestSearchQueryIsBoundedAndCutInItsEvent(t *testing.T) {
	st := openStore(t, "")
	svc, _ := newService(st)
	ctx := context.Background()
	long := strings.Repeat("é", service.MaxQueryChars+1)
	_, err := svc.Search(ctx, actor, service.SearchQuery{Query: long, Mode: service.ModeSemantic, Limit: 10})
	wantCode(t, err, memoryd.EINVALID)
	// 4096 two-byte characters: 8192 bytes, cut to 1024 bytes in the event.
	q := long[:len(long)-2]
	if _, err := svc.Search(ctx, actor, service.SearchQuery{Query: q, Mode: service.ModeKeyword, Limit: 10}); err != nil {
		t.Fatal(err)
	}
	// An odd cut point: 'x' then two-byte characters; the cut falls
	// inside one and moves back to its start.
	if _, err := svc.Search(ctx, actor, service.SearchQuery{Query: "x" + q[:3000], Mode: service.ModeKeyword, Limit: 10}); err != nil {
		t.Fatal(err)
	}
	evs, err := st.ReadEvents(ctx, actor.Workspace, 0, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("events: %v %d", err, len(evs))
	}
	for i, want := range []string{q[:service.MaxEventQueryBytes], "x" + q[:service.MaxEventQueryBytes-2]} {
		got := eventField(t, evs[i].Payload, "query")
		if got != want {
			t.Fatalf("event %d query: %d bytes, want %d", i, len(got), len(want))
		}
	}
}

// zeroEmbedder answers every text with a zero vector: a broken or
// misconfigured remote embedder, which none of the real ones here is.
type zeroEmbedder struct{}

func (zeroEmbedder) Model() string { return "zero" }
func (zeroEmbedder) Dims() int     { return dims }
func (zeroEmbedder) Embed(_ context.Context, texts []string) ([]memoryd.Embedding, error) {
	out := make([]memoryd.Embedding, len(texts))
	for i := range out {
		out[i] = memoryd.Embedding{Vector: make([]float32, dims), Tokens: 1}
	}
	return out, nil
}

// An embedder's unusable vector is checked like a client's, before the
// write, but it is the server's fault: an internal error, not a 400.
func TestUnusableEmbedderVectorIsNotStored(t *testing.T) {
	st := openStore(t, "")
	svc, err := service.New(st, memindex.New(), zeroEmbedder{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = svc.Put(ctx, actor, service.PutInput{Text: "x"})
	wantCode(t, err, memoryd.EINTERNAL)
	if n := count(t, st, actor.Workspace); n != 0 {
		t.Fatalf("%d memories stored with the embedder's zero vector", n)
	}
	_, err = svc.Search(ctx, actor, service.SearchQuery{Query: "x", Mode: service.ModeSemantic, Limit: 1})
	wantCode(t, err, memoryd.EINTERNAL)
}

// Options refuse values the service cannot use.
func TestOptionsRefuseUnusableValues(t *testing.T) {
	st := openStore(t, "")
	for name, opt := range map[string]service.Option{
		"zero text limit":     service.WithMaxTextBytes(0),
		"negative text limit": service.WithMaxTextBytes(-1),
		"nil logger":          service.WithLogger(nil),
	} {
		if svc, err := service.New(st, memindex.New(), hash.New(dims), opt); err == nil || svc != nil {
			t.Errorf("%s: got %v, %v; want an error", name, svc, err)
		}
	}
}
