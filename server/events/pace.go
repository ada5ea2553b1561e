package events

import "time"

// pacer is a token bucket: rate events per second, burst back to back.
// Events over the rate wait for their turn; none is ever dropped.
type pacer struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newPacer(perMinute, burst int, now time.Time) *pacer {
	return &pacer{rate: float64(perMinute) / 60, burst: float64(burst), tokens: float64(burst), last: now}
}

// reserve takes one token and returns how long to wait before using it.
func (p *pacer) reserve(now time.Time) time.Duration {
	if el := now.Sub(p.last).Seconds(); el > 0 {
		p.tokens = min(p.burst, p.tokens+el*p.rate)
		p.last = now
	}
	p.tokens--
	if p.tokens >= 0 {
		return 0
	}
	return time.Duration(-p.tokens / p.rate * float64(time.Second))
}
