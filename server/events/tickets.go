package events

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
)

// Browser stream tickets are stateless: the ticket itself carries the key
// id, the key's hash, the workspace and the expiry, sealed with AES-GCM
// (authenticated, so it cannot be forged or altered; encrypted, so the key
// hash never shows in a URL or a log). Any node holding the same secret
// accepts it; a ticket is reusable until it expires, which EventSource's
// automatic reconnections need. Every use looks the key up again, so a
// revoked key's tickets stop working at once.

const ticketPrefix = "st_"

type tickets struct {
	aead cipher.AEAD
	ttl  time.Duration
	now  func() time.Time
}

type ticketClaims struct {
	KeyID     string `json:"k"`
	KeyHash   []byte `json:"h"`
	Workspace string `json:"w"`
	Expires   int64  `json:"e"` // unix seconds
}

func newTickets(secret string, ttl time.Duration) (*tickets, error) {
	raw := []byte(secret)
	if secret == "" {
		raw = make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
	}
	k := sha256.Sum256(append([]byte("memoryd stream ticket v1\x00"), raw...))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &tickets{aead: aead, ttl: ttl, now: time.Now}, nil
}

func (t *tickets) issue(p *auth.Principal) (string, time.Time, error) {
	exp := t.now().Add(t.ttl).Truncate(time.Second).UTC()
	plain, err := json.Marshal(ticketClaims{KeyID: p.Key.ID, KeyHash: p.Key.Hash, Workspace: p.Workspace, Expires: exp.Unix()})
	if err != nil {
		return "", time.Time{}, err
	}
	nonce := make([]byte, t.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", time.Time{}, err
	}
	sealed := t.aead.Seal(nonce, nonce, plain, []byte(ticketPrefix))
	return ticketPrefix + base64.RawURLEncoding.EncodeToString(sealed), exp, nil
}

var errBadTicket = &memoryd.Error{Code: memoryd.EUNAUTHORIZED,
	Message: "Invalid or expired stream ticket: get a new one from POST /api/v1/stream/tickets"}

// open returns the claims of a ticket this server (or one sharing its
// secret) issued and that has not expired.
func (t *tickets) open(ticket string) (*ticketClaims, error) {
	body, ok := strings.CutPrefix(ticket, ticketPrefix)
	if !ok {
		return nil, errBadTicket
	}
	sealed, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil || len(sealed) < t.aead.NonceSize() {
		return nil, errBadTicket
	}
	n := t.aead.NonceSize()
	plain, err := t.aead.Open(nil, sealed[:n], sealed[n:], []byte(ticketPrefix))
	if err != nil {
		return nil, errBadTicket
	}
	var c ticketClaims
	if json.Unmarshal(plain, &c) != nil || t.now().Unix() >= c.Expires {
		return nil, errBadTicket
	}
	return &c, nil
}

// IssueTicket returns a ticket for p's key and workspace, valid until
// expires (Config.TicketTTL).
func (s *Stream) IssueTicket(p *auth.Principal) (string, time.Time, error) {
	return s.tickets.issue(p)
}

// AuthenticateTicket resolves ?ticket= of r: UNAUTHORIZED when it is
// forged, expired or its key is gone or revoked; FORBIDDEN when
// X-Workspace-ID names another workspace than the ticket's.
func (s *Stream) AuthenticateTicket(r *http.Request) (*auth.Principal, error) {
	c, err := s.tickets.open(r.URL.Query().Get("ticket"))
	if err != nil {
		return nil, err
	}
	k, err := s.store.KeyByHash(r.Context(), c.KeyHash)
	if errors.Is(err, memoryd.ErrNotFound) {
		return nil, errBadTicket
	}
	if err != nil {
		return nil, err
	}
	if k.ID != c.KeyID || subtle.ConstantTimeCompare(k.Hash, c.KeyHash) != 1 || k.RevokedAt != nil {
		return nil, errBadTicket
	}
	if ws := r.Header.Get("X-Workspace-ID"); ws != "" && ws != c.Workspace {
		return nil, &memoryd.Error{Code: memoryd.EFORBIDDEN, Message: "The stream ticket is for another workspace"}
	}
	// The key may have lost the workspace since the ticket was issued.
	return auth.ForWorkspace(k, c.Workspace)
}
