package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryd/memoryd/server/webhooks"
)

// BenchmarkDrainBacklog drains a backlog of b.N messages spread over 10
// endpoints on loopback (SQLite): the dispatcher's cost per delivery,
// which must not grow with the backlog.
//
//	go test -run '^$' -bench DrainBacklog -benchtime 20000x ./server/webhooks
func BenchmarkDrainBacklog(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := openSQLite(b)
	var got atomic.Int64
	done := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if got.Add(1) == int64(b.N) {
			close(done)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	const endpoints = 10
	now := time.Now().UTC()
	for e := range endpoints {
		ep := &webhooks.Endpoint{ID: fmt.Sprintf("wh_b%d", e), Workspace: "a", URL: rcv.URL, Events: []string{"memory.created"},
			Enabled: true, Secret: "whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", CreatedAt: now, UpdatedAt: now}
		if err := st.CreateEndpoint(ctx, ep); err != nil {
			b.Fatal(err)
		}
	}
	for i := range b.N {
		m := &webhooks.Message{ID: fmt.Sprintf("msg_b%d", i), EndpointID: fmt.Sprintf("wh_b%d", i%endpoints), Seq: int64(i + 1),
			Type: "memory.created", Body: []byte(`{"type":"memory.created"}`), Status: webhooks.StatusPending, NextAt: now, CreatedAt: now}
		if err := st.EnqueueMessage(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.InitWebhookPosition(ctx, 0); err != nil {
		b.Fatal(err)
	}
	d := webhooks.NewDeliverer(st, st, webhooks.NewGuard(true), webhooks.Config{}, nil)
	b.ResetTimer()
	start := time.Now()
	stopped := make(chan struct{})
	go func() { d.Run(ctx); close(stopped) }()
	<-done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
	cancel()
	<-stopped
}
