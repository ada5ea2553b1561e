package mutant

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/conformance"
)

// relayChecks are the webhooks checks that see deliveries through a relay.
var relayChecks = []string{"WH-CREATE-001", "WH-DELIVER-001", "WH-TEST-001", "WH-ROTATE-001", "WH-GONE-001"}

// runWebhooks runs the webhooks checks named ids through a proxy applying m.
func runWebhooks(t *testing.T, m Mutation, ids []string, wait time.Duration) map[string]conformance.Result {
	t.Helper()
	proxy := httptest.NewServer(Proxy(server.url, m))
	defer proxy.Close()
	return runConfig(t, conformance.Config{BaseURL: proxy.URL, EventWait: wait, WebhookRetryWait: wait,
		Profiles: []conformance.Profile{conformance.Webhooks}}, ids)
}

// A relay that changes nothing passes: what the mutants below fail is
// their break, not the relay.
func TestUnmodifiedRelayPasses(t *testing.T) {
	r := NewRelay(Identity)
	defer r.Close()
	for id, res := range runWebhooks(t, r.Mutation("identity-relay"), append(relayChecks, "WH-ROLLBACK-001"), passWait) {
		if res.Outcome != conformance.Pass {
			t.Errorf("%s: %s %s", id, res.Outcome, res.Reason)
		}
	}
}

func TestWebhookMutantsAreCaught(t *testing.T) {
	cases := []struct {
		name   string
		relay  *Relay
		checks []string
	}{
		{"bad-signature", NewRelay(BadSignature), []string{"WH-DELIVER-001", "WH-TEST-001", "WH-ROTATE-001"}},
		{"drop-webhook-id", NewRelay(DropWebhookID), []string{"WH-DELIVER-001", "WH-TEST-001"}},
		{"ignore-410", NewAnswerRelay(GoneAsError), []string{"WH-GONE-001"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer c.relay.Close()
			expectCaught(t, runWebhooks(t, c.relay.Mutation(c.name), c.checks, failWait))
		})
	}
	t.Run("leak-rejected-write", func(t *testing.T) {
		expectCaught(t, runWebhooks(t, LeakRejected(), []string{"WH-ROLLBACK-001"}, failWait))
	})
}

func expectCaught(t *testing.T, got map[string]conformance.Result) {
	t.Helper()
	for id, r := range got {
		if r.Outcome != conformance.Fail {
			t.Errorf("%s did not catch the mutant: %s", id, r.Outcome)
			continue
		}
		t.Logf("%s FAIL: %s", id, strings.ReplaceAll(r.Reason, "\n", " | "))
	}
}
