package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
	k := &memoryd.APIKey{ID: r.ID, Hash: r.Hash, Tier: memoryd.Tier(r.Tier), User: r.User, CreatedAt: fromMicros(r.CreatedAt)}
	if err := json.Unmarshal([]byte(r.Workspaces), &k.Workspaces); err != nil {
		return nil, fmt.Errorf("store: decode key %s: %w", r.ID, err)
	}
	if r.RevokedAt != nil {
		t := fromMicros(*r.RevokedAt)
		k.RevokedAt = &t
	}
	return k, nil
}

const keyColumns = "id, hash, workspaces, tier, user_name, created_at, revoked_at"

// CreateKey stores a new key; ErrConflict if its id or hash exists.
func (s *Store) CreateKey(ctx context.Context, k *memoryd.APIKey) error {
	ws, _ := json.Marshal(k.Workspaces)
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now().UTC()
	}
	_, err := s.wdb.ExecContext(ctx, "INSERT INTO api_keys ("+keyColumns+") VALUES (?, ?, ?, ?, ?, ?, NULL)",
		k.ID, k.Hash, string(ws), string(k.Tier), k.User, micros(k.CreatedAt))
	if err != nil {
		if isUniqueViolation(err) {
			return memoryd.ErrConflict
		}
		return fmt.Errorf("store: create key: %w", err)
	}
	return nil
}

// KeyByHash finds a key, revoked or not, by the hash of its secret.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (*memoryd.APIKey, error) {
	var rows []keyRow
	if err := s.db.NewRaw("SELECT "+keyColumns+" FROM api_keys WHERE hash = ?", hash).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: find key: %w", err)
	}
	if len(rows) == 0 {
		return nil, &memoryd.Error{Code: memoryd.ENOTFOUND, Message: "API key not found"}
	}
	return rows[0].key()
}

// ListKeys returns every key, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]*memoryd.APIKey, error) {
	var rows []keyRow
	if err := s.db.NewRaw("SELECT "+keyColumns+" FROM api_keys ORDER BY created_at, id").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: list keys: %w", err)
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
func (s *Store) RevokeKey(ctx context.Context, id string) error {
	res, err := s.wdb.ExecContext(ctx, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", micros(time.Now()), id)
	if err != nil {
		return fmt.Errorf("store: revoke key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &memoryd.Error{Code: memoryd.ENOTFOUND, Message: fmt.Sprintf("no active key %q", id)}
	}
	return nil
}

func isUniqueViolation(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "23505")
}
