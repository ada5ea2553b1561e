package events

import (
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
	p := &auth.Principal{Key: &memoryd.APIKey{ID: "key_1", Hash: []byte("0123456789abcdef0123456789abcdef")}, Workspace: "ws"}
	ticket, exp, err := tk.issue(p)
	if err != nil || !exp.Equal(now.Add(5*time.Minute)) {
		t.Fatalf("issue: %v %v", exp, err)
	}
	if strings.Contains(ticket, "key_1") || strings.Contains(ticket, "ws") {
		t.Fatalf("ticket %q shows its claims", ticket)
	}
	c, err := tk.open(ticket)
	if err != nil || c.KeyID != "key_1" || c.Workspace != "ws" || string(c.KeyHash) != string(p.Key.Hash) {
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
