package app

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/store"
)

func TestKeysCommand(t *testing.T) {
	ctx := context.Background()
	db := "sqlite://" + filepath.Join(t.TempDir(), "m.db")
	var out, errOut bytes.Buffer
	if err := RunKeys(ctx, []string{"create", "--db", db, "--workspace", "w1", "--workspace", "w2", "--tier", "free", "--user", "ann"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	// Scripts read stdout: exactly the key and a newline.
	secret := strings.TrimSuffix(out.String(), "\n")
	if !strings.HasPrefix(secret, "mk_") || strings.ContainsAny(secret, " \n") {
		t.Fatalf("stdout = %q, want only the key", out.String())
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, err := st.KeyByHash(ctx, auth.Hash(secret))
	if err != nil || k.Tier != memoryd.TierFree || k.User != "ann" || strings.Join(k.Workspaces, ",") != "w1,w2" {
		t.Fatalf("stored key = %+v, %v", k, err)
	}
	out.Reset()
	if err := RunKeys(ctx, []string{"list", "--db", db}, &out, &errOut); err != nil || !strings.Contains(out.String(), k.ID) || strings.Contains(out.String(), secret) {
		t.Fatalf("list = %q, %v (must name the key, never show its secret)", out.String(), err)
	}
	if err := RunKeys(ctx, []string{"revoke", "--db", db, k.ID}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if k, _ := st.KeyByHash(ctx, auth.Hash(secret)); k.RevokedAt == nil {
		t.Fatal("key not revoked")
	}
	if err := RunKeys(ctx, []string{"revoke", "--db", db, "key_nope"}, &out, &errOut); err == nil {
		t.Fatal("revoking an unknown key must fail")
	}
	// Each workspace's stream learns of the creation and the revocation.
	evs, _ := st.ReadEvents(ctx, "w2", 0, 10)
	if len(evs) != 2 || evs[0].Type != memoryd.EventUserActivity || !bytes.Contains(evs[0].Payload, []byte(`"key.created"`)) ||
		!bytes.Contains(evs[1].Payload, []byte(`"key.revoked"`)) {
		t.Fatalf("w2 events = %d", len(evs))
	}
	if err := RunKeys(ctx, []string{"create", "--db", db}, &out, &errOut); err == nil {
		t.Fatal("create without --workspace must fail")
	}
}
