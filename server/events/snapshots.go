package events

import (
	"context"
	"encoding/json"
	"time"

	ev "github.com/memoryd/memoryd/gen/events"
)

// system.health and analytics.update are periodic snapshots, not log
// events: they describe the moment, so replaying them would mislead. Each
// period the latest is put on the hub's board; every subscribed connection
// sends it once (a connection opened later gets the latest at once).

// errorRateDegraded is the 5xx percentage above which the API counts as
// degraded.
const errorRateDegraded = 5.0

func (s *Stream) runSnapshots(ctx context.Context) {
	t := time.NewTicker(s.cfg.SnapshotInterval)
	defer t.Stop()
	s.snapshot(ctx) // a connection opened before the first tick gets one at once too
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.snapshot(ctx)
		}
	}
}

// snapshot measures and publishes one round of snapshots.
func (s *Stream) snapshot(ctx context.Context) {
	health := s.health(ctx)
	hb, err := json.Marshal(health)
	if err != nil {
		s.log.Error("encoding system.health", "err", err)
		return
	}
	period := s.hub.takeCounts()
	analytics := map[string][]byte{}
	for ws, n := range s.reg.workspaces() {
		c := period[ws]
		if c == nil {
			c = &counts{}
		}
		b, err := json.Marshal(ev.AnalyticsUpdate{Workspace: ws, Timestamp: health.Timestamp,
			PeriodSeconds: int(s.cfg.SnapshotInterval / time.Second), ActiveStreams: n,
			Counters: ev.AnalyticsCounters{MemoriesCreated: c.created, MemoriesUpdated: c.updated,
				MemoriesDeleted: c.deleted, Searches: c.searches}})
		if err == nil {
			analytics[ws] = b
		}
	}
	s.hub.publish(hb, string(health.Status), analytics)
}

// health measures the process and its dependencies.
func (s *Stream) health(ctx context.Context) ev.SystemHealth {
	now := time.Now().UTC()
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	_, _, dbErr := s.store.EventBounds(dctx)
	rtt := time.Since(start)
	n, mean, errPct := s.meter.take()
	if n == 0 {
		mean = rtt // no requests this period: the database round trip
	}
	h := ev.SystemHealth{Timestamp: now, Status: ev.SystemHealthStatusHealthy,
		Metrics: ev.HealthMetrics{CpuUsage: round1(s.proc.cpuPercent()), MemoryUsage: round1(memoryPercent()),
			ResponseTime: round1(float64(mean) / float64(time.Millisecond)), ErrorRate: round1(errPct)},
		Services: ev.HealthServices{Api: ev.ServiceStatusHealthy, Database: ev.ServiceStatusHealthy,
			Search: ev.ServiceStatusHealthy}}
	if s.searchCheck != nil && s.searchCheck(dctx) != nil {
		h.Services.Search = ev.ServiceStatusUnhealthy
		h.Status = ev.SystemHealthStatusDegraded
	}
	if errPct > errorRateDegraded {
		h.Status = ev.SystemHealthStatusDegraded
	}
	if dbErr != nil {
		h.Services.Database = ev.ServiceStatusUnhealthy
		h.Status = ev.SystemHealthStatusUnhealthy
	}
	return h
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// emptyAnalytics is the analytics.update of a workspace with no counted
// activity in the current period.
func (s *Stream) emptyAnalytics(ws string) []byte {
	b, err := json.Marshal(ev.AnalyticsUpdate{Workspace: ws, Timestamp: time.Now().UTC(),
		PeriodSeconds: int(s.cfg.SnapshotInterval / time.Second), ActiveStreams: s.reg.workspaces()[ws]})
	if err != nil {
		return nil
	}
	return b
}
