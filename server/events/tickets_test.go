package events

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
)

func TestTicketSealing(t *testing.T) {
	tk, err := newTickets("shared secret", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	tk.now = func() time.Time { return now }
	// Claims long enough that random ciphertext never contains them by
	// chance: a short one would, now and then, and fail the test.
	const keyID, ws = "key_sealing_test_0001", "workspace_sealing_test"
	p := &auth.Principal{Key: &memoryd.APIKey{ID: keyID, Hash: []byte("0123456789abcdef0123456789abcdef")}, Workspace: ws}
	ticket, exp, err := tk.issue(p)
	if err != nil || !exp.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("issue: %v %v", exp, err)
	}
	expectSealed(t, ticket, keyID, ws, string(p.Key.Hash))
	c, err := tk.open(ticket)
	if err != nil || c.KeyID != keyID || c.Workspace != ws || string(c.KeyHash) != string(p.Key.Hash) {
		t.Fatalf("open: %+v %v", c, err)
	}
	// Another node with the same secret accepts it; one with another does not.
	same, _ := newTickets("shared secret", time.Minute)
	same.now = tk.now
	if _, err := same.open(ticket); err != nil {
		t.Fatalf("same secret: %v", err)
	}
	other, _ := newTickets("", time.Minute)
	if _, err := other.open(ticket); err == nil {
		t.Fatal("a random secret accepted a foreign ticket")
	}
	// Expired at exp.
	now = exp
	if _, err := tk.open(ticket); err == nil {
		t.Fatal("expired ticket accepted")
	}
	now = exp.Add(-time.Second)
	if _, err := tk.open(ticket); err != nil {
		t.Fatalf("ticket rejected before expiry: %v", err)
	}
	// Any altered byte is rejected.
	for i := len(ticketPrefix); i < len(ticket); i += 7 {
		b := []byte(ticket)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := tk.open(string(b)); err == nil {
			t.Fatalf("altered ticket (byte %d) accepted", i)
		}
	}
}

// expectSealed fails when any claim shows in ticket, either as text or
// once its body is base64-decoded (the claims are JSON, so the key hash
// would appear base64-encoded there).
func expectSealed(t *testing.T, ticket string, claims ...string) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(ticket, ticketPrefix))
	if err != nil {
		t.Fatalf("ticket %q: %v", ticket, err)
	}
	for _, c := range claims {
		for _, form := range []string{c, base64.StdEncoding.EncodeToString([]byte(c))} {
			if strings.Contains(ticket, form) || strings.Contains(string(raw), form) {
				t.Fatalf("ticket %q shows the claim %q", ticket, c)
			}
		}
	}
}
