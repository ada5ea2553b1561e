package mcp

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/memoryd/memoryd/gen/api"
)

// The text content of each result: what a model reads, with every id it
// may need for a next call.

func storeText(r api.StoreResult) string {
	if r.Status == api.StoreResultStatusUpdated {
		return fmt.Sprintf("Updated memory %s (it existed; its text and metadata were replaced).", r.Id)
	}
	return fmt.Sprintf("Stored memory %s.", r.Id)
}

func updateText(r api.UpdateResult) string {
	if r.EmbeddingRegenerated {
		return fmt.Sprintf("Updated memory %s (text re-embedded).", r.Id)
	}
	return fmt.Sprintf("Updated memory %s.", r.Id)
}

func searchText(r api.SearchResponse) string {
	if len(r.Results) == 0 {
		return fmt.Sprintf("No memories matched %q (%s search).", r.Query, r.Mode)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s matched %q (%s search), best first:\n", count(len(r.Results), "memory", "memories"), r.Query, r.Mode)
	for i, h := range r.Results {
		fmt.Fprintf(&b, "\n%d. score %.3f\n", i+1, h.Score)
		writeMemory(&b, h.Memory)
	}
	return b.String()
}

func listText(r api.MemoryList) string {
	var b strings.Builder
	switch {
	case r.Total == 0:
		b.WriteString("No memories match.")
	case len(r.Memories) == 0:
		fmt.Fprintf(&b, "No memories on this page (%s in all).", count(r.Total, "match", "matches"))
	default:
		fmt.Fprintf(&b, "%d of %s, newest first:\n", len(r.Memories), count(r.Total, "memory", "memories"))
	}
	for i, m := range r.Memories {
		fmt.Fprintf(&b, "\n%d.\n", i+1)
		writeMemory(&b, m)
	}
	if r.NextCursor != nil {
		fmt.Fprintf(&b, "\nMore remain: call list with cursor %q for the next page.", *r.NextCursor)
	}
	return b.String()
}

func memoryText(m api.Memory) string {
	var b strings.Builder
	writeMemory(&b, m)
	return b.String()
}

func writeMemory(b *strings.Builder, m api.Memory) {
	fmt.Fprintf(b, "id: %s\ntext: %s\n", m.Id, m.Text)
	if len(m.Metadata) > 0 {
		md, _ := json.Marshal(m.Metadata)
		fmt.Fprintf(b, "metadata: %s\n", md)
	}
	fmt.Fprintf(b, "created: %s  updated: %s\n", m.CreatedAt.Format(time.RFC3339), m.UpdatedAt.Format(time.RFC3339))
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
