package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// secretPrefix marks a Standard Webhooks secret; the rest is base64.
const secretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: "whsec_" + base64 of 24
// random bytes (192 bits, inside the 24..64 bytes the specification
// recommends).
func NewSecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

func secretKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, errors.New("webhooks: secret without the whsec_ prefix")
	}
	return base64.StdEncoding.DecodeString(raw)
}

// Sign returns "v1,<base64 HMAC-SHA256 of id.timestamp.body>" with secret.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// signingSecrets returns the secrets that sign at now: the current one,
// and the previous one until its grace period ends.
func (e *Endpoint) signingSecrets(now time.Time) []string {
	s := []string{e.Secret}
	if e.OldSecret != "" && now.Before(e.OldSecretUntil) {
		s = append(s, e.OldSecret)
	}
	return s
}

// setHeaders puts the Standard Webhooks headers of one attempt on h.
func setHeaders(h http.Header, e *Endpoint, msgID string, now time.Time, body []byte) error {
	var sigs []string
	for _, s := range e.signingSecrets(now) {
		sig, err := Sign(s, msgID, now, body)
		if err != nil {
			return err
		}
		sigs = append(sigs, sig)
	}
	h.Set("webhook-id", msgID)
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("webhook-signature", strings.Join(sigs, " "))
	return nil
}
