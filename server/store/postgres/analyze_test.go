package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/pgtest"
	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/postgres"
)

// Batches keep the planner's statistics current: after 3,000 memories put
// in batches the table has been analyzed by the store (autovacuum would
// set last_autoanalyze, not last_analyze), and a search's read of its hits
// goes by the (workspace, id) key instead of walking the workspace.
func TestBatchesAnalyzeMemories(t *testing.T) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Now().UTC()
	for b := range 6 {
		ms := make([]*memoryd.Memory, 500)
		for i := range ms {
			ms[i] = &memoryd.Memory{ID: fmt.Sprintf("m%05d", b*500+i), Workspace: "ws", Text: "t",
				Embedding: []float32{1, 0}, EmbeddingModel: "test", CreatedAt: at, UpdatedAt: at}
		}
		_, _, err := st.PutMemories(ctx, ms, func(i int, _ *memoryd.Memory) (*memoryd.Event, error) {
			return &memoryd.Event{Workspace: "ws", Type: memoryd.EventMemoryCreated, Payload: []byte(`{}`)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(testenv.WaitLimit)
	for {
		var analyzed bool
		err := st.R.QueryRowContext(ctx, "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'memories'").Scan(&analyzed)
		if err != nil {
			t.Fatal(err)
		}
		if analyzed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("memories not analyzed within %s (testenv.WaitLimit) of 3,000 batch rows", testenv.WaitLimit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rows, err := st.R.QueryContext(ctx, "EXPLAIN SELECT m.id FROM memories m WHERE m.workspace = 'ws' AND m.id IN ('m00001', 'm01000', 'm02000')")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "memories_workspace_id_key") {
		t.Errorf("the hits' read does not use the (workspace, id) key:\n%s", p)
	}
}
