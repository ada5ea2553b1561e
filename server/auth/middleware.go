package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	Key       *memoryd.APIKey
	Workspace string
}

type ctxKey struct{}

// FromContext returns the request's principal (nil before authentication).
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// Authenticator resolves bearer keys. Lookups are cached briefly so a hot
// key costs no database read per request; a revocation takes effect within
// CacheTTL.
type Authenticator struct {
	store memoryd.KeyLookup

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	key *memoryd.APIKey
	at  time.Time
}

// CacheTTL is how long a key lookup is reused: the time a revocation
// (made by any process on the database) may take to reach a request. Open
// streams re-check their key as often, so it is their bound too.
const CacheTTL = 2 * time.Second

// NewAuthenticator returns an Authenticator reading keys from store.
func NewAuthenticator(store memoryd.KeyLookup) *Authenticator {
	return &Authenticator{store: store, cache: map[string]cached{}}
}

var (
	errNoKey     = &memoryd.Error{Code: memoryd.EUNAUTHORIZED, Message: "Missing API key: send Authorization: Bearer <key>"}
	errBadKey    = &memoryd.Error{Code: memoryd.EUNAUTHORIZED, Message: "Invalid or expired API key"}
	errForbidden = &memoryd.Error{Code: memoryd.EFORBIDDEN, Message: "This API key may not use this workspace"}
)

// Authenticate resolves the Authorization header and X-Workspace-ID.
// Errors are *memoryd.Error with UNAUTHORIZED or FORBIDDEN, or internal.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if h == "" {
		return nil, errNoKey
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return nil, errBadKey
	}
	k, err := a.Key(r.Context(), strings.TrimSpace(secret))
	if err != nil {
		return nil, err
	}
	return ForWorkspace(k, r.Header.Get("X-Workspace-ID"))
}

// ForWorkspace checks that k may act in ws ("" = the key's first workspace).
func ForWorkspace(k *memoryd.APIKey, ws string) (*Principal, error) {
	if ws == "" {
		ws = k.Workspaces[0]
	}
	if !slices.Contains(k.Workspaces, ws) {
		return nil, errForbidden
	}
	return &Principal{Key: k, Workspace: ws}, nil
}

// Key returns the live key whose secret this is; errBadKey when unknown or revoked.
func (a *Authenticator) Key(ctx context.Context, secret string) (*memoryd.APIKey, error) {
	hash := Hash(secret)
	a.mu.Lock()
	c, ok := a.cache[string(hash)]
	a.mu.Unlock()
	if !ok || time.Since(c.at) > CacheTTL {
		k, err := a.store.KeyByHash(ctx, hash)
		if errors.Is(err, memoryd.ErrNotFound) {
			return nil, errBadKey
		}
		if err != nil {
			return nil, err
		}
		c = cached{key: k, at: time.Now()}
		a.mu.Lock()
		if len(a.cache) > 10000 {
			clear(a.cache)
		}
		a.cache[string(hash)] = c
		a.mu.Unlock()
	}
	// The lookup was by hash; compare again in constant time so no code path
	// depends on how much of a secret matched.
	if subtle.ConstantTimeCompare(c.key.Hash, hash) != 1 || c.key.RevokedAt != nil {
		return nil, errBadKey
	}
	return c.key, nil
}

// Forget drops cached lookups (after a revocation in this process).
func (a *Authenticator) Forget() {
	a.mu.Lock()
	clear(a.cache)
	a.mu.Unlock()
}
