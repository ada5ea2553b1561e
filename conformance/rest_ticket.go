package conformance

import (
	"context"
	"net/http"
	"time"
)

func ticketChecks() []Check {
	return []Check{
		{ID: "STREAM-TICKET-001", Level: Must, Profile: Stream, Ref: "createStreamTicket 201",
			Title: "POST /stream/tickets returns a ticket for the key's workspace that expires in the future", Run: checkTicket},
	}
}

type streamTicket struct {
	Ticket    string    `json:"ticket"`
	Workspace string    `json:"workspace"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (t *T) ticket(ctx context.Context, c *Client) streamTicket {
	resp := t.Do(ctx, c, Request{Method: "POST", Path: "/stream/tickets"})
	t.Expect(resp, http.StatusCreated)
	var st streamTicket
	if err := resp.Decode(&st); err != nil {
		t.Fatalf("%v", err)
	}
	if st.Ticket == "" {
		t.Fatalf("empty ticket: %s", resp)
	}
	// Compare with the server's own clock (Date header) to ignore skew.
	now := time.Now()
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		now = d
	}
	if !st.ExpiresAt.After(now) {
		t.Errorf("ticket expires_at %s is not after the server's now %s", st.ExpiresAt, now)
	}
	return st
}

func checkTicket(ctx context.Context, t *T) {
	st := t.ticket(ctx, t.A)
	if t.A.Workspace != "" && st.Workspace != t.A.Workspace {
		t.Errorf("ticket workspace %q, want %q", st.Workspace, t.A.Workspace)
	}
	if st.Ticket == t.A.Key {
		t.Errorf("the ticket is the API key itself")
	}
}
