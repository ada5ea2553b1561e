package events

import "testing"

func TestSubscriptionMatches(t *testing.T) {
	created := &entry{ws: "a", typ: "memory.created",
		payload: []byte(`{"id":"m1","content":"x","metadata":{"user_id":"u1","n":3,"ok":true,"tags":["work","home"]},"created_by":"alice"}`)}
	search := &entry{ws: "a", typ: "search.performed", payload: []byte(`{"query":"q","user_id":"u1","filters":{}}`)}
	other := &entry{ws: "b", typ: "memory.created", payload: created.payload}
	cases := []struct {
		name    string
		sub     subscription
		e       *entry
		matches bool
	}{
		{"all", subscription{workspace: "a"}, created, true},
		{"other workspace", subscription{workspace: "a"}, other, false},
		{"type selected", subscription{workspace: "a", types: map[string]bool{"memory.created": true}}, created, true},
		{"type not selected", subscription{workspace: "a", types: map[string]bool{"memory.deleted": true}}, created, false},
		{"metadata string", subscription{workspace: "a", filters: map[string]string{"user_id": "u1"}}, created, true},
		{"metadata mismatch", subscription{workspace: "a", filters: map[string]string{"user_id": "u2"}}, created, false},
		{"number", subscription{workspace: "a", filters: map[string]string{"n": "3.0"}}, created, true},
		{"bool", subscription{workspace: "a", filters: map[string]string{"ok": "true"}}, created, true},
		{"array element", subscription{workspace: "a", filters: map[string]string{"tags": "home"}}, created, true},
		{"array miss", subscription{workspace: "a", filters: map[string]string{"tags": "x"}}, created, false},
		{"top-level fallback", subscription{workspace: "a", filters: map[string]string{"created_by": "alice"}}, created, true},
		{"all filters hold", subscription{workspace: "a", filters: map[string]string{"user_id": "u1", "n": "4"}}, created, false},
		{"missing field", subscription{workspace: "a", filters: map[string]string{"nope": "1"}}, created, false},
		{"search user_id", subscription{workspace: "a", filters: map[string]string{"user_id": "u1"}}, search, true},
		{"object never matches", subscription{workspace: "a", filters: map[string]string{"filters": "{}"}}, search, false},
	}
	for _, c := range cases {
		if got := c.sub.matches(c.e); got != c.matches {
			t.Errorf("%s: matches = %v, want %v", c.name, got, c.matches)
		}
	}
}
