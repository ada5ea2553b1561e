package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

type keyRow struct {
	ID         string `bun:"id"`
	Hash       []byte `bun:"hash"`
	Workspaces string `bun:"workspaces"`
	Tier       string `bun:"tier"`
	User       string `bun:"user_name"`
	CreatedAt  int64  `bun:"created_at"`
	RevokedAt  *int64 `bun:"revoked_at"`
}

func (r *keyRow) key() (*memoryd.APIKey, error) {
	k := &memoryd.APIKey{ID: r.ID, Hash: r.Hash, Tier: memoryd.Tier(r.Tier), User: r.User, CreatedAt: FromMicros(r.CreatedAt)}
	if err := json.Unmarshal([]byte(r.Workspaces), &k.Workspaces); err != nil {
		return nil, fmt.Errorf("store: decode key %s: %w", r.ID, err)
	}
	if r.RevokedAt != nil {
		t := FromMicros(*r.RevokedAt)
		k.RevokedAt = &t
	}
	return k, nil
}

const keyColumns = "id, hash, workspaces, tier, user_name, created_at, revoked_at"

// CreateKey stores a new key; ErrConflict if its id or hash exists.
func (b *Base) CreateKey(ctx context.Context, k *memoryd.APIKey) error {
	ws, _ := json.Marshal(k.Workspaces)
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now().UTC()
	}
	_, err := b.W.ExecContext(ctx, "INSERT INTO api_keys ("+keyColumns+") VALUES (?, ?, ?, ?, ?, ?, NULL)",
		k.ID, k.Hash, string(ws), string(k.Tier), k.User, Micros(k.CreatedAt))
	if err != nil {
		if b.D.IsUniqueViolation(err) {
			return memoryd.ErrConflict
		}
		return b.Fail(fmt.Errorf("store: create key: %w", err))
	}
	b.Wrote()
	return nil
}

// KeyByHash finds a key, revoked or not, by the hash of its secret.
func (b *Base) KeyByHash(ctx context.Context, hash []byte) (*memoryd.APIKey, error) {
	var rows []keyRow
	if err := b.R.NewRaw("SELECT "+keyColumns+" FROM api_keys WHERE hash = ?", hash).Scan(ctx, &rows); err != nil {
		return nil, b.Fail(fmt.Errorf("store: find key: %w", err))
	}
	if len(rows) == 0 {
		return nil, &memoryd.Error{Code: memoryd.ENOTFOUND, Message: "API key not found"}
	}
	return rows[0].key()
}

// ListKeys returns every key, oldest first.
func (b *Base) ListKeys(ctx context.Context) ([]*memoryd.APIKey, error) {
	var rows []keyRow
	if err := b.R.NewRaw("SELECT "+keyColumns+" FROM api_keys ORDER BY created_at, id").Scan(ctx, &rows); err != nil {
		return nil, b.Fail(fmt.Errorf("store: list keys: %w", err))
	}
	out := make([]*memoryd.APIKey, 0, len(rows))
	for i := range rows {
		k, err := rows[i].key()
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// RevokeKey marks a key revoked; ErrNotFound-coded if there is none.
func (b *Base) RevokeKey(ctx context.Context, id string) error {
	res, err := b.W.ExecContext(ctx, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Micros(time.Now()), id)
	if err != nil {
		return b.Fail(fmt.Errorf("store: revoke key: %w", err))
	}
	b.Wrote()
	if n, _ := res.RowsAffected(); n == 0 {
		return &memoryd.Error{Code: memoryd.ENOTFOUND, Message: fmt.Sprintf("no active key %q", id)}
	}
	return nil
}
