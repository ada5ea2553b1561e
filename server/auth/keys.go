// Package auth owns API keys: generating them, storing only their hashes,
// and resolving a request's bearer key and workspace.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// KeyPrefix starts every secret so keys are recognisable in configs and
// secret scanners.
const KeyPrefix = "mk_"

// Hash returns the stored form of a secret.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// NewKey creates and stores a key for the given workspaces and returns its
// secret, which is never stored and cannot be shown again.
func NewKey(ctx context.Context, store memoryd.KeyStore, workspaces []string, tier memoryd.Tier, user string) (string, *memoryd.APIKey, error) {
	if len(workspaces) == 0 {
		return "", nil, fmt.Errorf("a key needs at least one workspace")
	}
	for _, ws := range workspaces {
		if !ValidWorkspace(ws) {
			return "", nil, fmt.Errorf("invalid workspace %q: use 1-128 of A-Z a-z 0-9 _ . -", ws)
		}
	}
	switch tier {
	case memoryd.TierUnlimited, memoryd.TierFree, memoryd.TierPro, memoryd.TierEnterprise:
	default:
		return "", nil, fmt.Errorf("unknown tier %q: use free, pro or enterprise", tier)
	}
	var raw [32]byte
	var idb [6]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	if _, err := rand.Read(idb[:]); err != nil {
		return "", nil, err
	}
	secret := KeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	if user == "" {
		user = "key_" + hex.EncodeToString(idb[:])
	}
	k := &memoryd.APIKey{ID: "key_" + hex.EncodeToString(idb[:]), Hash: Hash(secret),
		Workspaces: workspaces, Tier: tier, User: user, CreatedAt: time.Now().UTC()}
	if err := store.CreateKey(ctx, k); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// ValidWorkspace reports whether ws is an acceptable workspace name.
func ValidWorkspace(ws string) bool {
	if ws == "" || len(ws) > 128 {
		return false
	}
	return strings.IndexFunc(ws, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-')
	}) < 0
}
