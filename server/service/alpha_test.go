package service_test

import (
	"context"
	"math"
	"slices"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/service"
)

func ptr(f float32) *float32 { return &f }

// Alpha is checked before anything runs: outside 0..1, or with a mode
// that has nothing to weigh, the search is refused and records nothing.
func TestSearchRefusesABadAlpha(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, "")
	svc, _ := newService(st)
	before := eventCount(t, st)
	cases := []service.SearchQuery{
		{Query: "x", Mode: service.ModeHybrid, Limit: 5, Alpha: ptr(-0.1)},
		{Query: "x", Mode: service.ModeHybrid, Limit: 5, Alpha: ptr(1.01)},
		{Query: "x", Mode: service.ModeHybrid, Limit: 5, Alpha: ptr(float32(math.NaN()))},
		{Query: "x", Mode: service.ModeSemantic, Limit: 5, Alpha: ptr(0.5)},
		{Query: "x", Mode: service.ModeKeyword, Limit: 5, Alpha: ptr(0.5)},
	}
	for _, q := range cases {
		_, err := svc.Search(ctx, actor, q)
		if memoryd.ErrorCode(err) != memoryd.EINVALID {
			t.Errorf("mode %s alpha %v: err %v, want %s", q.Mode, *q.Alpha, err, memoryd.EINVALID)
		}
	}
	if n := eventCount(t, st); n != before {
		t.Fatalf("refused searches appended %d events", n-before)
	}
}

// Alpha 0 ranks as a keyword search and 1 as a semantic one.
func TestAlphaEndsAreThePartsAlone(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(openStore(t, ""))
	for i, text := range []string{"apple pie with cinnamon", "apple cider vinegar", "pear tart", "baked apple crumble"} {
		if _, err := svc.Put(ctx, actor, service.PutInput{ID: string(rune('a' + i)), Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(q service.SearchQuery) []string {
		t.Helper()
		q.Query, q.Limit = "apple pie", 10
		res, err := svc.Search(ctx, actor, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range res.Hits {
			out = append(out, h.Memory.ID)
		}
		return out
	}
	if kw, h := ids(service.SearchQuery{Mode: service.ModeKeyword}), ids(service.SearchQuery{Mode: service.ModeHybrid, Alpha: ptr(0)}); !slices.Equal(kw, h) {
		t.Errorf("alpha 0 ranked %v, keyword search %v", h, kw)
	}
	if sem, h := ids(service.SearchQuery{Mode: service.ModeSemantic}), ids(service.SearchQuery{Mode: service.ModeHybrid, Alpha: ptr(1)}); !slices.Equal(sem, h) {
		t.Errorf("alpha 1 ranked %v, semantic search %v", h, sem)
	}
}

// eventCount is the number of events of actor's workspace.
func eventCount(t *testing.T, st memoryd.EventLog) int {
	t.Helper()
	evs, err := st.ReadEvents(context.Background(), actor.Workspace, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}
