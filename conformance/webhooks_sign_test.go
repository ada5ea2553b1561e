package conformance

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func newTestSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func signedHeaders(t *testing.T, wh *standardwebhooks.Webhook, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {strconv.FormatInt(ts.Unix(), 10)}, "Webhook-Signature": {sig}}
}

// The suite's verifier and the reference library accept and refuse the
// same deliveries.
func TestVerifierAgreesWithStandardWebhooks(t *testing.T) {
	secret, other := newTestSecret(t), newTestSecret(t)
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	body := []byte(`{"type":"memory.created","timestamp":"2024-01-15T10:30:00Z","data":{"id":"m1"}}`)
	good := signedHeaders(t, wh, "msg_1", now, body)
	otherWH, _ := standardwebhooks.NewWebhook(other)
	cases := []struct {
		name string
		h    http.Header
		body []byte
		ok   bool
	}{
		{"signed", good, body, true},
		{"body changed", good, append([]byte(nil), append(body[:len(body)-1], ' ', '}')...), false},
		{"other secret", signedHeaders(t, otherWH, "msg_1", now, body), body, false},
		{"id changed", withHeader(good, "webhook-id", "msg_2"), body, false},
		{"no id", withHeader(good, "webhook-id", ""), body, false},
		{"timestamp changed", withHeader(good, "webhook-timestamp", strconv.FormatInt(now.Unix()+1, 10)), body, false},
		{"too old", signedHeaders(t, wh, "msg_1", now.Add(-10*time.Minute), body), body, false},
		{"in the future", signedHeaders(t, wh, "msg_1", now.Add(10*time.Minute), body), body, false},
		{"second of two signatures", withHeader(good, "webhook-signature",
			"v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32))+" "+good.Get("webhook-signature")), body, true},
		{"v2 only", withHeader(good, "webhook-signature", strings.Replace(good.Get("webhook-signature"), "v1,", "v2,", 1)), body, false},
		{"signature flipped", withHeader(good, "webhook-signature", flip(good.Get("webhook-signature"))), body, false},
	}
	for _, c := range cases {
		ours := VerifyWebhook(secret, c.h, c.body, now)
		theirs := wh.Verify(c.body, c.h)
		if (ours == nil) != c.ok || (theirs == nil) != c.ok {
			t.Errorf("%s: want ok=%v; suite: %v; standard-webhooks: %v", c.name, c.ok, ours, theirs)
		}
	}
}

// Signatures of random messages verify with the suite's verifier exactly
// when the library signed them with the same secret.
func TestVerifierAgreesOnRandomMessages(t *testing.T) {
	for i := range 200 {
		secret := newTestSecret(t)
		wh, _ := standardwebhooks.NewWebhook(secret)
		body := make([]byte, i)
		rand.Read(body)
		id := fmt.Sprintf("msg_%d", i)
		h := signedHeaders(t, wh, id, time.Now(), body)
		if err := VerifyWebhook(secret, h, body, time.Now()); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if err := VerifyWebhook(newTestSecret(t), h, body, time.Now()); err == nil {
			t.Fatalf("message %d verified with another secret", i)
		}
	}
}

func TestWebhookKey(t *testing.T) {
	for _, s := range []string{"", "whsec_", "secret", "whsec_!!!", "WHSEC_AAAA"} {
		if _, err := WebhookKey(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func withHeader(h http.Header, k, v string) http.Header {
	out := h.Clone()
	out.Set(k, v)
	return out
}

// flip changes one character of a signature's base64.
func flip(sig string) string {
	b := []byte(sig)
	i := len(b) - 3
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// The payload schemas of every webhook message are found in asyncapi.yaml.
func TestWebhookMessageSchemas(t *testing.T) {
	m, err := WebhookMessageSchemas()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"memory.created": "MemoryCreated", "memory.updated": "MemoryUpdated",
		"memory.deleted": "MemoryDeleted", "embedding.generated": "EmbeddingGenerated", "webhook.test": "WebhookTest"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s: schema %q, want %q", k, m[k], v)
		}
	}
	spec, err := LoadSpec("http://example.test")
	if err != nil {
		t.Fatal(err)
	}
	ok := `{"type":"embedding.generated","timestamp":"2024-01-15T10:30:00Z","data":{"id":"m","model":"hash","dimensions":8,"tokens":2,"generated_at":"2024-01-15T10:30:00Z"}}`
	if _, err := spec.validateWebhookBody([]byte(ok)); err != nil {
		t.Errorf("a valid message was refused: %v", err)
	}
	for _, bad := range []string{
		`{"type":"embedding.generated","timestamp":"2024-01-15T10:30:00Z","data":{"id":"m"}}`,
		`{"type":"memory.exploded","timestamp":"2024-01-15T10:30:00Z","data":{}}`,
		`{"type":"webhook.test","data":{"webhook_id":"w","message":"hi"}}`,
		`not json`,
	} {
		if _, err := spec.validateWebhookBody([]byte(bad)); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}
