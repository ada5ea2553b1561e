package events_test

import (
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	ev "github.com/memoryd/memoryd/gen/events"
	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
)

// revokeSlack is the room, beyond the key check's period, that a cold and
// busy machine gets to end a revoked key's stream. The period is the bound
// by design; the slack keeps the test from depending on the machine, and
// is still far from "never", which is what it catches.
const revokeSlack = 8 * time.Second

// A key revoked in the store (as `memoryd keys revoke` does from another
// process: this one is told nothing) ends its open streams, opened by
// header or by browser ticket, with an `error` event UNAUTHORIZED, not to
// be retried, within the key check's period. Another key's stream on the
// same workspace goes on.
func TestRevokedKeyEndsItsStreams(t *testing.T) {
	for _, via := range []string{"header", "ticket"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, testenv.Quiet())
			victim := e.NewKey(memoryd.TierUnlimited, "a")
			c := openVia(e, via, victim)
			other, _ := e.OpenStream(e.KeyA, "", nil)
			e.RevokeKey(victim)
			checkEndsWithin(t, c, memoryd.EUNAUTHORIZED, time.Now())
			live := e.create("a", "after-revocation", nil)
			expectEvent(t, other.NextData(t), live, e.epoch())
		})
	}
}

// A key deleted from the database ends its streams as a revoked one does.
func TestDeletedKeyEndsItsStreams(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	victim := e.NewKey(memoryd.TierUnlimited, "a")
	c := openVia(e, "ticket", victim)
	execSQL(e, "DELETE FROM api_keys WHERE id = ?", e.KeyID(victim))
	checkEndsWithin(t, c, memoryd.EUNAUTHORIZED, time.Now())
}

// A key that may no longer use a workspace (changed in the database by
// hand: no command does it) ends its streams on that workspace with
// FORBIDDEN; its streams on the workspaces it kept go on.
func TestKeyLosingAWorkspaceEndsItsStreamsThere(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	lost := openVia(e, "ticket", e.KeyA)
	kept, _ := e.OpenStream(e.KeyA, "", map[string]string{"X-Workspace-ID": "a2"})
	execSQL(e, `UPDATE api_keys SET workspaces = '["a2"]' WHERE id = ?`, e.KeyID(e.KeyA))
	checkEndsWithin(t, lost, memoryd.EFORBIDDEN, time.Now())
	live := e.create("a2", "after", nil)
	expectEvent(t, kept.NextData(t), live, e.epoch())
}

// execSQL runs a statement on e's SQLite database, beside the store.
func execSQL(e *env, query string, args ...any) {
	e.T.Helper()
	db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(e.DSN, "sqlite://")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		e.T.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		e.T.Fatal(err)
	}
}

// The streams of a key are checked with one lookup per round, however
// many there are: all of them end, and the key's other workspace too.
func TestRevokedKeyEndsAllItsStreams(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	var open []*testenv.SSE
	for _, ws := range []string{"a", "a", "a2"} {
		c, _ := e.OpenStream(e.KeyA, "", map[string]string{"X-Workspace-ID": ws})
		open = append(open, c)
	}
	open = append(open, openVia(e, "ticket", e.KeyA))
	b, _ := e.OpenStream(e.KeyB, "", nil)
	e.RevokeKey(e.KeyA)
	revoked := time.Now()
	for _, c := range open {
		checkEndsWithin(t, c, memoryd.EUNAUTHORIZED, revoked)
	}
	live := e.create("b", "after-revocation", nil)
	expectEvent(t, b.NextData(t), live, e.epoch())
}

// openVia opens a stream of key on its first workspace, with the key in
// the Authorization header or with a browser ticket.
func openVia(e *env, via, key string) *testenv.SSE {
	e.T.Helper()
	if via == "header" {
		c, _ := e.OpenStream(key, "", nil)
		return c
	}
	r := e.Do(http.MethodPost, "/api/v1/stream/tickets", key, nil)
	if r.Status != http.StatusCreated {
		e.T.Fatalf("POST /stream/tickets: %d %s", r.Status, r.Raw)
	}
	tk, _ := r.Body["ticket"].(string)
	c, _ := e.OpenStream("", q("ticket", tk), nil)
	return c
}

// checkEndsWithin fails unless the stream ends, within the key check's
// period (plus slack) from since, with an `error` event of code that
// advises no retry.
func checkEndsWithin(t *testing.T, c *testenv.SSE, code string, since time.Time) {
	t.Helper()
	rest := c.ExpectEnd(t)
	took := time.Since(since)
	if len(rest) == 0 || rest[len(rest)-1].Event != "error" {
		t.Fatalf("the stream ended with %+v, want an error event", rest)
	}
	last := rest[len(rest)-1]
	var se ev.StreamError
	last.Decode(t, &se)
	if se.Code != code || se.RetryAfter != 0 || se.Message == "" || last.HasID {
		t.Fatalf("error event %+v (has id: %v), want %s with retry_after 0", se, last.HasID, code)
	}
	for _, m := range rest[:len(rest)-1] {
		if m.IsLogEvent() {
			t.Fatalf("the revoked key's stream delivered %s %s", m.Event, m.Data)
		}
	}
	if bound := auth.CacheTTL + revokeSlack; took > bound {
		t.Fatalf("the stream ended %s after the key was lost, want within the key check's period (%s) + slack = %s",
			took.Round(time.Millisecond), auth.CacheTTL, bound)
	}
	t.Logf("the stream ended %s after its key was lost", took.Round(time.Millisecond))
}
