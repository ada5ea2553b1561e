package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	ev "github.com/memoryd/memoryd/gen/events"
	"github.com/memoryd/memoryd/internal/testenv"
	"github.com/memoryd/memoryd/server/auth"
)

// revokeSlack is the room, beyond the key cache's lifetime, that a cold
// and busy machine gets to end a revoked key's stream. The lifetime is the
// bound by design; the slack keeps the test from depending on the machine
// and is still far from "never", which is what it catches.
const revokeSlack = 8 * time.Second

// TestRevokeEndsOpenStreams runs `memoryd keys revoke` as its own process
// on the database of a running memoryd, as an operator would: the key's
// open streams, by header and by browser ticket, end with an `error` event
// UNAUTHORIZED within the key cache's lifetime, and another key's stream
// on the same workspace goes on.
func TestRevokeEndsOpenStreams(t *testing.T) {
	t.Parallel()
	db := "sqlite://" + t.TempDir() + "/memoryd.db"
	victim, victimID := createKeyID(t, db, "shared")
	keep := createKey(t, db, "shared")
	n := startNode(t, "revoke", db)
	byHeader := openStream(t, n.base, victim, "")
	ticket := testenv.NewClient(n.base, victim).Ticket(t)
	byTicket, _ := testenv.OpenStream(t, http.DefaultClient, n.base, "", "ticket="+url.QueryEscape(ticket), nil)
	other := openStream(t, n.base, keep, "")

	runKeys(t, "revoke", "--db", db, victimID)
	revoked := time.Now()
	for name, s := range map[string]*testenv.SSE{"header": byHeader, "ticket": byTicket} {
		rest := s.ExpectEnd(t)
		took := time.Since(revoked)
		if len(rest) == 0 || rest[len(rest)-1].Event != "error" {
			t.Fatalf("the stream by %s ended with %+v, want an error event", name, rest)
		}
		var se ev.StreamError
		rest[len(rest)-1].Decode(t, &se)
		if se.Code != "UNAUTHORIZED" || se.RetryAfter != 0 {
			t.Fatalf("the stream by %s ended with %+v, want UNAUTHORIZED, retry_after 0", name, se)
		}
		if bound := auth.CacheTTL + revokeSlack; took > bound {
			t.Fatalf("the stream by %s ended %s after the revocation, want within %s", name, took, bound)
		}
		t.Logf("the stream by %s ended %s after the revocation", name, took.Round(time.Millisecond))
	}
	testenv.NewClient(n.base, keep).Create(t, "after", "written after the revocation")
	untilMemory(t, other, "after")
}
