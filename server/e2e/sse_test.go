package e2e

import (
	"net/http"
	"testing"

	"github.com/memoryd/memoryd/internal/testenv"
)

// openStream opens GET /api/v1/stream of the node at base with key,
// resuming after lastID when it is not empty, and reads up to the welcome.
func openStream(t testing.TB, base, key, lastID string) *testenv.SSE {
	t.Helper()
	var hdr map[string]string
	if lastID != "" {
		hdr = map[string]string{"Last-Event-ID": lastID}
	}
	s, _ := testenv.OpenStream(t, http.DefaultClient, base, key, "", hdr)
	return s
}
