package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestVerifiesAndRefuses: a signed delivery is printed and answered 204;
// one signed with another secret is refused with 400 and not printed.
func TestVerifiesAndRefuses(t *testing.T) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	srv := httptest.NewServer(handler(wh, &out))
	defer srv.Close()

	other, _ := standardwebhooks.NewWebhook("whsec_" + strings.Repeat("A", 32))
	for _, c := range []struct {
		signer *standardwebhooks.Webhook
		want   int
	}{{wh, http.StatusNoContent}, {other, http.StatusBadRequest}} {
		body := []byte(`{"type":"memory.created","data":{"id":"m1"}}`)
		now := time.Now()
		sig, err := c.signer.Sign("msg_1", now, body)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("webhook-id", "msg_1")
		req.Header.Set("webhook-timestamp", strconvTime(now))
		req.Header.Set("webhook-signature", sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Fatalf("status %d, want %d", res.StatusCode, c.want)
		}
	}
	if got := out.String(); strings.Count(got, "verified msg_1") != 1 {
		t.Fatalf("printed %q, want the one verified delivery", got)
	}
}

func strconvTime(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
