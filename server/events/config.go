// Package events serves the live stream of memoryd: GET /api/v1/stream as
// Server-Sent Events, resumable from any retained position of the durable
// event log.
//
// One hub goroutine tails the log (woken by the store's Listen channel, with
// a slow poll as fallback), encodes each event once into its SSE frame and
// appends it to a shared in-memory ring. Every connection holds only a
// cursor (a log sequence number) and reads the ring after it, or the store
// when its cursor is older than the ring. A slow connection lags on its own
// cursor; nothing it does blocks the hub or other connections.
package events

import (
	"time"

	"github.com/memoryd/memoryd/server/auth"
)

// Config holds the stream's knobs. The zero value of a field means its
// default (see Default).
type Config struct {
	// MaxStreamsPerKey caps open streams per API key (429 beyond). Default 5.
	MaxStreamsPerKey int
	// EventsPerMinute paces each connection's live data events (a token
	// bucket; events wait, they are never dropped). Default 1000. The
	// catch-up of a resume (the events up to the log's head when the stream
	// opens) is not paced: those writes already passed the API's rate
	// limits, and a resuming client needs them fast.
	EventsPerMinute int
	// PaceBurst is the bucket size: how many live events may go out back to
	// back before pacing starts. Default 50.
	PaceBurst int
	// MinHeartbeat is the smallest heartbeat a client may ask for (400
	// below). Default 30 s. DefaultHeartbeat applies when the client asks
	// for none; default 30 s (raised to MinHeartbeat if lower).
	MinHeartbeat     time.Duration
	DefaultHeartbeat time.Duration
	// Keepalive is how long a connection may stay silent before a `:
	// keepalive` comment line is sent, so proxies keep it open. Default 15 s.
	Keepalive time.Duration
	// Retry is the reconnection delay advised to clients (SSE `retry:`).
	// Default 3 s.
	Retry time.Duration
	// WriteTimeout drops a connection whose client has not accepted a write
	// for this long (a dead peer would otherwise hold its goroutine
	// forever). It is a rolling deadline per write, not a stream lifetime.
	// Default 60 s.
	WriteTimeout time.Duration

	// RingSize is how many recent events the hub keeps in memory, shared by
	// every connection. Older positions are read from the store. Default 65536.
	RingSize int
	// ReadBatch is how many events one store read returns at most. Default 500.
	ReadBatch int
	// PollInterval is the fallback tail poll, for when a Listen wake-up is
	// lost or the store has none. Default 2 s.
	PollInterval time.Duration

	// SnapshotInterval is the period of the system.health and
	// analytics.update snapshots. Default 30 s.
	SnapshotInterval time.Duration

	// ActivityEvents appends user.activity stream.connected and
	// stream.disconnected to the log. Default on; set DisableActivity to
	// turn it off (e.g. for connection-storm benchmarks).
	DisableActivity bool

	// KeyCheck is how often the keys of open streams are looked up again,
	// so that a stream whose key is revoked ends. Default auth.CacheTTL,
	// the time a revocation takes to reach requests.
	KeyCheck time.Duration

	// TicketSecret signs and encrypts browser stream tickets. Empty: a random
	// secret per process, so tickets only work on the node that issued them;
	// several nodes behind one load balancer need the same secret.
	TicketSecret string
	// TicketTTL is how long a ticket stays valid (reusable for EventSource
	// reconnections until then). Default 5 min.
	TicketTTL time.Duration

	// RetentionAge and RetentionCount bound the event log: the pruner deletes
	// events older than RetentionAge and beyond the newest RetentionCount.
	// Defaults 7 days and 1,000,000. PruneInterval is how often it runs
	// (default 1 min); a negative value disables the pruner.
	RetentionAge   time.Duration
	RetentionCount int64
	PruneInterval  time.Duration
}

// Default returns the configuration the seed API documents.
func Default() Config {
	return Config{
		MaxStreamsPerKey: 5,
		EventsPerMinute:  1000,
		PaceBurst:        50,
		MinHeartbeat:     30 * time.Second,
		DefaultHeartbeat: 30 * time.Second,
		Keepalive:        15 * time.Second,
		Retry:            3 * time.Second,
		WriteTimeout:     60 * time.Second,
		RingSize:         65536,
		ReadBatch:        500,
		PollInterval:     2 * time.Second,
		SnapshotInterval: 30 * time.Second,
		KeyCheck:         auth.CacheTTL,
		TicketTTL:        5 * time.Minute,
		RetentionAge:     7 * 24 * time.Hour,
		RetentionCount:   1_000_000,
		PruneInterval:    time.Minute,
	}
}

// withDefaults fills zero fields from Default.
func (c Config) withDefaults() Config {
	d := Default()
	setInt(&c.MaxStreamsPerKey, d.MaxStreamsPerKey)
	setInt(&c.EventsPerMinute, d.EventsPerMinute)
	setInt(&c.PaceBurst, d.PaceBurst)
	setInt(&c.RingSize, d.RingSize)
	setInt(&c.ReadBatch, d.ReadBatch)
	setDur(&c.MinHeartbeat, d.MinHeartbeat)
	setDur(&c.DefaultHeartbeat, d.DefaultHeartbeat)
	setDur(&c.Keepalive, d.Keepalive)
	setDur(&c.Retry, d.Retry)
	setDur(&c.WriteTimeout, d.WriteTimeout)
	setDur(&c.PollInterval, d.PollInterval)
	setDur(&c.SnapshotInterval, d.SnapshotInterval)
	setDur(&c.KeyCheck, d.KeyCheck)
	setDur(&c.TicketTTL, d.TicketTTL)
	setDur(&c.RetentionAge, d.RetentionAge)
	setDur(&c.PruneInterval, d.PruneInterval)
	if c.RetentionCount == 0 {
		c.RetentionCount = d.RetentionCount
	}
	if c.DefaultHeartbeat < c.MinHeartbeat {
		c.DefaultHeartbeat = c.MinHeartbeat
	}
	return c
}

func setInt(p *int, def int) {
	if *p <= 0 {
		*p = def
	}
}

func setDur(p *time.Duration, def time.Duration) {
	if *p == 0 {
		*p = def
	}
}
