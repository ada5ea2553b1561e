package ratelimit

import (
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

func TestTierLimits(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(DefaultLimits())
	l.now = func() time.Time { return now }
	for i := 0; i < 100; i++ {
		if ok, _ := l.Allow("free-key", memoryd.TierFree); !ok {
			t.Fatalf("free request %d refused", i+1)
		}
	}
	ok, wait := l.Allow("free-key", memoryd.TierFree)
	if ok || wait <= 0 || wait > 36*time.Second {
		t.Fatalf("101st free request: ok=%v wait=%v, want refused with ~36s", ok, wait)
	}
	// Another key has its own bucket.
	if ok, _ := l.Allow("other", memoryd.TierFree); !ok {
		t.Fatal("buckets are shared between keys")
	}
	// The bucket refills continuously: 36 s buys one request.
	now = now.Add(wait)
	if ok, _ := l.Allow("free-key", memoryd.TierFree); !ok {
		t.Fatal("no refill after the advertised wait")
	}
	for i := 0; i < 1000; i++ {
		if ok, _ := l.Allow("pro-key", memoryd.TierPro); !ok {
			t.Fatalf("pro request %d refused", i+1)
		}
	}
	if ok, _ := l.Allow("pro-key", memoryd.TierPro); ok {
		t.Fatal("pro request 1001 allowed")
	}
	for _, tier := range []memoryd.Tier{memoryd.TierEnterprise, memoryd.TierUnlimited} {
		for i := 0; i < 5000; i++ {
			if ok, _ := l.Allow("k-"+string(tier), tier); !ok {
				t.Fatalf("tier %q limited", tier)
			}
		}
	}
}
