package batch_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/batch"
	"github.com/memoryd/memoryd/server/embed/uselite"
)

// benchCallers is the number of concurrent callers, as concurrent HTTP
// requests each embedding one text.
const benchCallers = 16

// text20 is a typical 20-word memory (the same as use-lite's benchmarks).
const text20 = "The user prefers dark mode in every editor and wants short answers " +
	"with code examples when asking about Go concurrency."

// counter counts inner calls: the texts per inner call show how well
// batches form.
type counter struct {
	memoryd.Embedder
	calls atomic.Int64
}

func (c *counter) Embed(ctx context.Context, texts []string) ([]memoryd.Embedding, error) {
	c.calls.Add(1)
	return c.Embedder.Embed(ctx, texts)
}

// BenchmarkConcurrent16 embeds one ~20-word text per call from 16
// goroutines, through use-lite directly and through the batcher, and
// reports throughput and per-call latency percentiles.
func BenchmarkConcurrent16(b *testing.B) {
	inner, err := uselite.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("unwrapped", func(b *testing.B) { benchConcurrent(b, inner, nil) })
	for _, c := range []int{1, 2} {
		b.Run(fmt.Sprint("batched/concurrency=", c), func(b *testing.B) {
			cnt := &counter{Embedder: inner}
			benchConcurrent(b, batch.New(cnt, batch.WithConcurrency(c)), cnt)
		})
	}
}

func benchConcurrent(b *testing.B, e memoryd.Embedder, cnt *counter) {
	ctx := context.Background()
	words := strings.Fields(text20)
	texts := make([]string, 64)
	for i := range texts {
		r := i % len(words)
		texts[i] = strings.Join(append(words[r:], words[:r]...), " ")
	}
	if _, err := e.Embed(ctx, texts); err != nil { // warm the token cache
		b.Fatal(err)
	}
	if cnt != nil {
		cnt.calls.Store(0)
	}
	lat := make([][]time.Duration, benchCallers)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime()
	for w := range benchCallers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				t0 := time.Now()
				if _, err := e.Embed(ctx, texts[i%int64(len(texts)):][:1]); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	cpu := cpuTime() - cpu0
	all := slices.Concat(lat...)
	slices.Sort(all)
	n := float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "texts/s")
	b.ReportMetric(float64(cpu)/float64(time.Millisecond)/n, "cpu-ms/text")
	b.ReportMetric(ms(pct(all, 50)), "p50-ms")
	b.ReportMetric(ms(pct(all, 99)), "p99-ms")
	if cnt != nil {
		b.ReportMetric(n/float64(cnt.calls.Load()), "texts/pass")
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// cpuTime is the process's user plus system CPU time: on a shared machine
// it is disturbed less by other processes than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
