package weaviate

import (
	"regexp"
	"strings"
	"testing"
)

// Weaviate's rule for tenant names.
var validTenant = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func TestTenantName(t *testing.T) {
	long := strings.Repeat("w", 64)
	cases := map[string]string{
		"ws-a":   "ws-a",
		"Team_1": "Team__1",
		"a.b":    "a_db",
		"a_db":   "a__db",
		"a__b":   "a____b",
		long:     long,
	}
	for ws, want := range cases {
		if got := tenantName(ws); got != want {
			t.Errorf("tenantName(%q) = %q, want %q", ws, got, want)
		}
	}
	// Workspaces that escape past 64 characters, or are too long already,
	// are hashed; every name is valid and no two workspaces share one.
	names := map[string]string{}
	for _, ws := range []string{
		"ws-a", "ws_a", "ws.a", "ws__a", "ws_da", "ws_d", "a.b", "a_db", "a__db", "A", "a", "_", ".", "__", "_d",
		long, long + "x", strings.Repeat("_", 32), strings.Repeat("_", 33), strings.Repeat(".", 40),
		strings.Repeat("x", 128), strings.Repeat("x", 127) + "y", "",
	} {
		n := tenantName(ws)
		if !validTenant.MatchString(n) {
			t.Errorf("tenantName(%q) = %q, not a valid tenant name", ws, n)
		}
		if other, dup := names[n]; dup {
			t.Errorf("workspaces %q and %q both map to %q", other, ws, n)
		}
		names[n] = ws
	}
	if n := tenantName(strings.Repeat("_", 33)); !strings.HasPrefix(n, "_h") || len(n) != 42 {
		t.Errorf("66-character escape not hashed: %q", n)
	}
}

func TestObjectID(t *testing.T) {
	a := objectID("ws-a", "mem_1")
	if a != objectID("ws-a", "mem_1") {
		t.Fatal("objectID is not deterministic")
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(string(a)) {
		t.Fatalf("objectID %q is not a version-5 UUID", a)
	}
	// The separator keeps ("ab", "c") and ("a", "bc") apart.
	for _, o := range []string{string(objectID("ws-b", "mem_1")), string(objectID("ws-a", "mem_2")),
		string(objectID("ws-", "amem_1"))} {
		if o == string(a) {
			t.Fatalf("distinct (workspace, id) pairs share object id %s", a)
		}
	}
}
