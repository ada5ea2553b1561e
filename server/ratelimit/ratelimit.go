// Package ratelimit limits requests per API key by tier with token buckets
// refilled continuously over an hour.
package ratelimit

import (
	"math"
	"sync"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Limits is requests per hour by tier; 0 or absent means unlimited.
type Limits map[memoryd.Tier]int

// DefaultLimits are the seed's: free 100/h, pro 1000/h, enterprise unlimited.
func DefaultLimits() Limits {
	return Limits{memoryd.TierFree: 100, memoryd.TierPro: 1000, memoryd.TierEnterprise: 0}
}

// Limiter is safe for concurrent use.
type Limiter struct {
	limits Limits
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a Limiter.
func New(limits Limits) *Limiter {
	return &Limiter{limits: limits, now: time.Now, buckets: map[string]*bucket{}}
}

// Allow takes one request from key's bucket. When none is left it returns
// false and how long until one is.
func (l *Limiter) Allow(keyID string, tier memoryd.Tier) (ok bool, retryAfter time.Duration) {
	perHour := l.limits[tier]
	if perHour <= 0 {
		return true, 0
	}
	rate := float64(perHour) / float64(time.Hour) // tokens per nanosecond
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[keyID]
	if b == nil {
		b = &bucket{tokens: float64(perHour), last: now}
		l.buckets[keyID] = b
	}
	b.tokens = math.Min(float64(perHour), b.tokens+float64(now.Sub(b.last))*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / rate)
}
