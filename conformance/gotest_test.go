package conformance_test

import (
	"testing"
	"time"

	"github.com/memoryd/memoryd/conformance"
	"github.com/memoryd/memoryd/internal/testenv"
)

// TestRunAgainstMemoryd runs the suite as a third party would, from go
// test, against a real memoryd listening on a loopback port: the core and
// stream profiles, with two keys of two workspaces.
func TestRunAgainstMemoryd(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole suite against a server; not in -short")
	}
	cfg := testenv.Quiet()
	cfg.DisableActivity = false // the stream profile checks user.activity
	e := testenv.New(t, testenv.WithStream(cfg))
	conformance.Run(t, conformance.Target{
		BaseURL:   e.URL,
		APIKey:    e.KeyA,
		APIKeyB:   e.KeyB,
		EventWait: 5 * time.Second,
	})
}
