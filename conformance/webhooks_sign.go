package conformance

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The suite's own Standard Webhooks verifier (https://www.standardwebhooks.com),
// written from the specification so that it does not share a bug with the
// server's signer or any one library; a test shows it agrees with the
// reference Go library.

// SignatureTolerance is how far webhook-timestamp may be from now.
const SignatureTolerance = 5 * time.Minute

// WebhookKey decodes a "whsec_" + base64 secret to its key bytes.
func WebhookKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, errors.New("secret does not start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("secret is not whsec_ + base64: %w", err)
	}
	if len(key) == 0 {
		return nil, errors.New("secret is empty")
	}
	return key, nil
}

// WebhookSignatures returns the v1 signatures of a webhook-signature
// header (space-separated "version,base64" pairs; other versions are
// ignored, as the specification says).
func WebhookSignatures(header string) [][]byte {
	var out [][]byte
	for _, part := range strings.Fields(header) {
		v, sig, ok := strings.Cut(part, ",")
		if !ok || v != "v1" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(sig); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// VerifyWebhook checks a delivery's Standard Webhooks headers against
// secret: webhook-id and webhook-timestamp present, the timestamp within
// SignatureTolerance of now, and one v1 signature equal to HMAC-SHA256
// of "id.timestamp.body" under the secret's key.
func VerifyWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := WebhookKey(secret)
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	switch {
	case id == "":
		return errors.New("no webhook-id header")
	case ts == "":
		return errors.New("no webhook-timestamp header")
	case sigs == "":
		return errors.New("no webhook-signature header")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not Unix seconds", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > SignatureTolerance || d < -SignatureTolerance {
		return fmt.Errorf("webhook-timestamp %s is %s away from now (tolerance %s)", ts, d.Round(time.Second), SignatureTolerance)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range WebhookSignatures(sigs) {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return fmt.Errorf("no v1 signature in %q matches HMAC-SHA256(id.timestamp.body) with the endpoint's secret", sigs)
}
