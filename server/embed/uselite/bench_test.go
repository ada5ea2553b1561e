package uselite

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"
)

// text20 is a typical 20-word memory.
const text20 = "The user prefers dark mode in every editor and wants short answers " +
	"with code examples when asking about Go concurrency."

func benchEmbed(b *testing.B, texts []string) {
	e := newEmbedder(b)
	ctx := context.Background()
	if _, err := e.Embed(ctx, texts); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := e.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
	n := float64(b.N * len(texts))
	b.ReportMetric(n/b.Elapsed().Seconds(), "texts/s")
	// CPU time per text shows the work done, which other processes on a
	// shared machine disturb less than they do wall time.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/n, "cpu-ms/text")
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEmbed20Words embeds one ~20-word text per call: the latency
// of a single search query.
func BenchmarkEmbed20Words(b *testing.B) {
	if n := len(strings.Fields(text20)); n != 20 {
		b.Fatalf("text20 has %d words", n)
	}
	benchEmbed(b, []string{text20})
}

// BenchmarkEmbedBatch32 embeds 32 different ~20-word texts per call: the
// throughput of bulk ingestion.
func BenchmarkEmbedBatch32(b *testing.B) {
	words := strings.Fields(text20)
	texts := make([]string, 32)
	for i := range texts {
		// Rotate the words so every text differs.
		texts[i] = strings.Join(append(words[i%len(words):], words[:i%len(words)]...), " ")
	}
	benchEmbed(b, texts)
}

// BenchmarkTokenize measures the tokenizer alone.
func BenchmarkTokenize(b *testing.B) {
	e := newEmbedder(b)
	b.ReportAllocs()
	for b.Loop() {
		e.Tokenize(text20)
	}
}

// BenchmarkEmbed20WordsCold is BenchmarkEmbed20Words with the per-token
// id table emptied before every call, as for a text whose tokens the
// process has never seen.
func BenchmarkEmbed20WordsCold(b *testing.B) {
	e := newEmbedder(b)
	ctx := context.Background()
	texts := []string{text20}
	b.ReportAllocs()
	for b.Loop() {
		resetIDCache(e.m.l0)
		if _, err := e.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
}

// BenchmarkEmbed20WordsConcurrent embeds one ~20-word text per call from
// several goroutines at once, as concurrent requests do.
func BenchmarkEmbed20WordsConcurrent(b *testing.B) {
	e := newEmbedder(b)
	ctx := context.Background()
	texts := []string{text20}
	if _, err := e.Embed(ctx, texts); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(2) // 2·GOMAXPROCS callers
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Embed(ctx, texts); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
}
