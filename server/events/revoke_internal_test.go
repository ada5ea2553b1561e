package events

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/store"
)

// countingStore is a real store that counts key lookups.
type countingStore struct {
	*store.Store
	lookups atomic.Int64
}

func (c *countingStore) KeyByHash(ctx context.Context, hash []byte) (*memoryd.APIKey, error) {
	c.lookups.Add(1)
	return c.Store.KeyByHash(ctx, hash)
}

// A round of the key check looks each key up once, however many streams
// it has, and ends exactly the streams of the revoked key.
func TestKeyCheckLooksEachKeyUpOnce(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+t.TempDir()+"/memoryd.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs := &countingStore{Store: st}
	s, err := New(ctx, cs, Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, revoked, err := auth.NewKey(ctx, st, []string{"a"}, memoryd.TierUnlimited, "u1")
	if err != nil {
		t.Fatal(err)
	}
	_, kept, err := auth.NewKey(ctx, st, []string{"a"}, memoryd.TierUnlimited, "u2")
	if err != nil {
		t.Fatal(err)
	}
	watch := func(k *memoryd.APIKey) context.Context {
		c, stop := context.WithCancelCause(ctx)
		t.Cleanup(func() { stop(nil) })
		s.keys.add(&auth.Principal{Key: k, Workspace: "a"}, stop)
		return c
	}
	var ofRevoked []context.Context
	for range 3 {
		ofRevoked = append(ofRevoked, watch(revoked))
	}
	ofKept := watch(kept)

	s.checkKeys(ctx)
	if n := cs.lookups.Load(); n != 2 {
		t.Fatalf("%d lookups for 2 keys with 4 streams, want 2", n)
	}
	if err := st.RevokeKey(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	s.checkKeys(ctx)
	for i, c := range ofRevoked {
		if !errors.Is(context.Cause(c), errKeyRevoked) {
			t.Fatalf("stream %d of the revoked key: cause %v, want errKeyRevoked", i, context.Cause(c))
		}
	}
	if ofKept.Err() != nil {
		t.Fatalf("the other key's stream was ended: %v", context.Cause(ofKept))
	}
}
