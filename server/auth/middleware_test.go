package auth_test

import (
	"context"
	"net/http"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/store"
)

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+t.TempDir()+"/memoryd.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secret, k, err := auth.NewKey(ctx, st, []string{"a", "b"}, memoryd.TierFree, "u")
	if err != nil {
		t.Fatal(err)
	}
	a := auth.NewAuthenticator(st)
	req := func(authz, ws string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "http://memoryd.test/", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		if ws != "" {
			r.Header.Set("X-Workspace-ID", ws)
		}
		return r
	}
	for _, c := range []struct {
		name, authz, ws, code, workspace string
	}{
		{"no key", "", "", memoryd.EUNAUTHORIZED, ""},
		{"not bearer", "Basic " + secret, "", memoryd.EUNAUTHORIZED, ""},
		{"empty bearer", "Bearer  ", "", memoryd.EUNAUTHORIZED, ""},
		{"unknown key", "Bearer mk_unknown", "", memoryd.EUNAUTHORIZED, ""},
		{"first workspace", "Bearer " + secret, "", "", "a"},
		{"scheme in any case", "bearer " + secret, "b", "", "b"},
		{"other workspace", "Bearer " + secret, "c", memoryd.EFORBIDDEN, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := a.Authenticate(req(c.authz, c.ws))
			if c.code != "" {
				if memoryd.ErrorCode(err) != c.code {
					t.Fatalf("got %+v %v, want %s", p, err, c.code)
				}
				return
			}
			if err != nil || p.Workspace != c.workspace || p.Key.ID != k.ID {
				t.Fatalf("got %+v %v, want key %s in %s", p, err, k.ID, c.workspace)
			}
		})
	}
	// A revocation made in this process is seen at once after Forget (and
	// by any process within CacheTTL, when the cached lookup expires).
	if err := st.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	a.Forget()
	if _, err := a.Authenticate(req("Bearer "+secret, "")); memoryd.ErrorCode(err) != memoryd.EUNAUTHORIZED {
		t.Fatalf("revoked key: %v, want UNAUTHORIZED", err)
	}
}

func TestNewKeyValidates(t *testing.T) {
	st, err := store.Open(context.Background(), "sqlite://"+t.TempDir()+"/memoryd.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for name, c := range map[string]struct {
		ws   []string
		tier memoryd.Tier
	}{
		"no workspace": {nil, ""}, "bad workspace": {[]string{"a b"}, ""}, "bad tier": {[]string{"a"}, "gold"},
	} {
		if _, _, err := auth.NewKey(context.Background(), st, c.ws, c.tier, "u"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	keys, err := st.ListKeys(context.Background())
	if err != nil || len(keys) != 0 {
		t.Fatalf("refused keys were stored: %v %v", keys, err)
	}
}
