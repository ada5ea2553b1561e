package events_test

// Stream benchmarks. Targets (reported, never asserted: figures depend on
// the machine): write-to-delivery p99 <= 10 ms with 1,000 subscribers,
// <= 30 KB per idle stream with 10,000 open, replay of 10,000 missed events
// <= 200 ms. Fix the iteration count, since every run sets up its
// subscribers afresh:
//
//	go test -run '^$' -bench 'Delivery|Replay' -benchtime 100x -timeout 20m ./server/events
//	go test -run '^$' -bench IdleStreamMemory -benchtime 1x -timeout 20m ./server/events
//
// Clients run in a child process, as a server's would not share its
// process. BenchmarkDeliveryFloor1000 measures the same fan-out without
// memoryd (bare loopback writes): on a small machine that floor alone
// takes a good part of the latency target, so read the stream's figures
// against it, measured on the same machine.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/events"
)

// benchConfig is testenv.Quiet() with the per-key and per-connection limits out of
// the way: the benchmarks measure the machinery, not the policy.
func benchConfig() events.Config {
	c := testenv.Quiet()
	c.MaxStreamsPerKey = 1 << 20
	c.EventsPerMinute = 1 << 30
	c.PaceBurst = 1 << 20
	return c
}

// raiseNoFile lifts the open-file limit: client and server ends of every
// stream live in this process. The hard limit rises too when allowed (root).
func raiseNoFile(b *testing.B, need uint64) {
	b.Helper()
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		b.Fatal(err)
	}
	if r.Cur >= need {
		return
	}
	r.Cur = need
	r.Max = max(r.Max, need)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		b.Fatalf("open-file limit: need %d: %v (raise it: ulimit -n %d)", need, err, need)
	}
}

// BenchmarkDeliveryLatency1000 measures write-to-delivery latency: from
// the start of a memory write (its transaction included) until each of
// 1,000 subscribers has read the event off its socket. One op is one write
// and its fan-out: the next write starts once every subscriber has the
// previous one, so the figure is latency, not a backlog (ns/op is the
// time to reach all 1,000). The subscribers run in a child process (this
// test binary again, as TestHelperLatencyClients), as a real server's
// clients would not share its process; both read the same wall clock.
func BenchmarkDeliveryLatency1000(b *testing.B) {
	const subs = 1000
	raiseNoFile(b, subs+256)
	e := newEnv(b, benchConfig())
	measureLatency(b, e.Srv.Listener.Addr().String(), e.KeyA, subs, func(i int) {
		e.create("a", fmt.Sprint("lat_", i), nil)
	})
}

// BenchmarkDeliveryFloor1000 is BenchmarkDeliveryLatency1000 without
// memoryd: a bare server answers the same clients with a stream head and
// welcome, and one op writes a memory.created-sized frame to each of the
// 1,000 connections from a goroutine per connection, woken as the stream's
// are. It is what the machine's loopback TCP costs for the fan-out alone,
// to read the stream's figures against.
func BenchmarkDeliveryFloor1000(b *testing.B) {
	const subs = 1000
	raiseNoFile(b, subs+256)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	wake := make(chan struct{})
	data := `{"id":"lat_0","content":"text of lat_0","tags":[],"created_at":"2024-01-15T10:30:00Z","created_by":"user-a"}`
	msg := "id: bWVtb3J5ZC1lcG9jaC0wMTIzNDU2Nzg5YWJjZGVmLjEyMzQ1\nevent: memory.created\ndata: " + data + "\n\n"
	chunk := []byte(strconv.FormatInt(int64(len(msg)), 16) + "\r\n" + msg + "\r\n")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go floorStream(c, chunk, func() <-chan struct{} { mu.Lock(); defer mu.Unlock(); return wake })
		}
	}()
	measureLatency(b, ln.Addr().String(), "none", subs, func(int) {
		mu.Lock()
		old := wake
		wake = make(chan struct{})
		mu.Unlock()
		close(old)
	})
}

// floorStream answers one stream request with a chunked head and welcome,
// then writes chunk at every wake-up until the write fails.
func floorStream(c net.Conn, chunk []byte, waiter func() <-chan struct{}) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if line == "\r\n" {
			break
		}
	}
	w := waiter()
	welcome := "event: welcome\ndata: {}\n\n"
	head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
		strconv.FormatInt(int64(len(welcome)), 16) + "\r\n" + welcome + "\r\n"
	if _, err := c.Write([]byte(head)); err != nil {
		return
	}
	for {
		<-w
		w = waiter()
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// measureLatency opens subs streams at addr in a child process (this test
// binary again, as TestHelperLatencyClients) and runs b.N writes: op i
// calls publish(i) and waits until every subscriber has read the event.
// Both processes read the same wall clock.
func measureLatency(b *testing.B, addr, key string, subs int, publish func(i int)) {
	cmd, out, stdin := startHelper(b, "TestHelperLatencyClients",
		addr+" "+key+" "+strconv.Itoa(subs)+" "+strconv.Itoa(b.N))
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	expectLine(b, lines, "streams open")
	sent := make([]int64, b.N)
	var written []time.Duration // publish's own duration (a write: its commit)
	b.ResetTimer()
	for i := range b.N {
		sent[i] = time.Now().UnixNano()
		publish(i)
		written = append(written, time.Duration(time.Now().UnixNano()-sent[i]))
		expectLine(b, lines, "delivered "+strconv.Itoa(i))
	}
	b.StopTimer()
	slices.Sort(written)
	b.ReportMetric(float64(written[len(written)/2].Microseconds())/1000, "write-p50-ms")
	var lat []time.Duration
	first := make([]time.Duration, b.N) // per write, its first delivery
	for i := range first {
		first[i] = time.Hour
	}
	for range subs {
		f := strings.Fields(nextLine(b, lines))
		if len(f) != b.N {
			b.Fatalf("%d arrival times, want %d", len(f), b.N)
		}
		for i, v := range f {
			at, _ := strconv.ParseInt(v, 10, 64)
			lat = append(lat, time.Duration(at-sent[i]))
			first[i] = min(first[i], time.Duration(at-sent[i]))
		}
	}
	slices.Sort(first)
	b.ReportMetric(float64(first[len(first)/2].Microseconds())/1000, "first-p50-ms")
	reportPercentiles(b, lat)
}

func nextLine(b *testing.B, lines <-chan string) string {
	select {
	case l, ok := <-lines:
		if !ok {
			b.Fatal("the client process ended")
		}
		return l
	case <-time.After(testenv.WaitLimit):
		b.Fatal("the client process is silent")
	}
	return ""
}

func expectLine(b *testing.B, lines <-chan string, want string) {
	if got := nextLine(b, lines); got != want {
		b.Fatalf("client process: %q, want %q", got, want)
	}
}

// TestHelperLatencyClients is BenchmarkDeliveryLatency1000's client
// process: $MEMORYD_STREAM_CLIENTS is "addr key subscribers events". It
// opens the streams, says so, prints "delivered i" once every subscriber
// has read the i-th memory.created event, and at the end one line per
// subscriber with the wall-clock arrival time (Unix ns) of each event.
func TestHelperLatencyClients(t *testing.T) {
	spec := strings.Fields(os.Getenv("MEMORYD_STREAM_CLIENTS"))
	if len(spec) != 4 {
		t.Skip("the client process of BenchmarkDeliveryLatency1000")
	}
	addr, key := spec[0], spec[1]
	subs, _ := strconv.Atoi(spec[2])
	n, _ := strconv.Atoi(spec[3])
	liftNoFile()
	streams := openStreams(t, addr, key, subs)
	arrivals := make([][]int64, subs)
	pending := make([]atomic.Int32, n)
	for i := range n {
		pending[i].Store(int32(subs))
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteString(s + "\n")
		w.Flush()
	}
	say("streams open")
	collectArrivals(streams, n, func(s, i int, at int64) {
		arrivals[s] = append(arrivals[s], at)
		if pending[i].Add(-1) == 0 {
			say("delivered " + strconv.Itoa(i))
		}
	})
	for _, a := range arrivals {
		var line []byte
		for i, at := range a {
			if i > 0 {
				line = append(line, ' ')
			}
			line = strconv.AppendInt(line, at, 10)
		}
		say(string(line))
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// collectArrivalsEach is collectArrivals with one reading goroutine per
// stream.
func collectArrivalsEach(streams []rawStream, n int, got func(s, i int, at int64)) {
	var wg sync.WaitGroup
	for s, st := range streams {
		wg.Go(func() {
			defer st.Close()
			br := bufio.NewReaderSize(st.body(512), 4096)
			for i := 0; i < n; {
				line, err := br.ReadSlice('\n')
				if err == bufio.ErrBufferFull {
					continue
				}
				if err != nil {
					return
				}
				if bytes.HasPrefix(line, []byte("event: memory.created")) {
					got(s, i, time.Now().UnixNano())
					i++
				}
			}
		})
	}
	wg.Wait()
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	at := func(p float64) float64 {
		i := min(int(float64(len(lat))*p), len(lat)-1)
		return float64(lat[i].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
}

// BenchmarkIdleStreamMemory opens 10,000 idle streams and reports the
// server's growth of heap in use plus goroutine stacks per stream, after
// a GC. The clients run in a child process (this test binary again, as
// TestHelperStreamClients), so their memory is not counted and the two
// ends of 10,000 connections need not fit one process's open-file limit.
func BenchmarkIdleStreamMemory(b *testing.B) {
	const n = 10000
	raiseNoFile(b, n+256)
	for range b.N {
		b.StopTimer()
		e := newEnv(b, benchConfig())
		before := inUse()
		b.StartTimer()
		stop := startClients(b, e.Srv.Listener.Addr().String(), e.KeyA, n)
		b.StopTimer()
		after := inUse()
		if got := e.Stream.ActiveStreams(); got != n {
			b.Fatalf("%d streams open, want %d", got, n)
		}
		b.ReportMetric(float64(after.heap-before.heap)/n/1024, "heap-KB/stream")
		b.ReportMetric(float64(after.stack-before.stack)/n/1024, "stack-KB/stream")
		b.ReportMetric(float64(after.heap+after.stack-before.heap-before.stack)/n/1024, "KB/stream")
		b.ReportMetric(float64(after.goroutines-before.goroutines)/n, "goroutines/stream")
		stop()
	}
	b.ReportMetric(0, "ns/op")
}

type memUse struct {
	heap, stack uint64
	goroutines  int
}

func inUse() memUse {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memUse{heap: m.HeapInuse, stack: m.StackInuse, goroutines: runtime.NumGoroutine()}
}

// startClients runs TestHelperStreamClients in a child process, waits
// until its n streams are open and returns the function that ends them.
func startClients(b *testing.B, addr, key string, n int) (stop func()) {
	b.Helper()
	cmd, out, stdin := startHelper(b, "TestHelperStreamClients", addr+" "+key+" "+strconv.Itoa(n))
	sc := bufio.NewScanner(out)
	var lines []string
	open := false
	for !open && sc.Scan() {
		open = sc.Text() == "streams open"
		lines = append(lines, sc.Text())
	}
	if !open {
		_ = cmd.Wait()
		b.Fatalf("stream clients failed:\n%s", strings.Join(lines, "\n"))
	}
	return func() {
		stdin.Close()
		go io.Copy(io.Discard, out)
		if err := cmd.Wait(); err != nil {
			b.Errorf("stream clients: %v\n%s", err, strings.Join(lines, "\n"))
		}
	}
}

// startHelper runs the test helper in a child process (this test binary
// again) with $MEMORYD_STREAM_CLIENTS set to spec.
func startHelper(b *testing.B, helper, spec string) (*exec.Cmd, io.Reader, io.WriteCloser) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$")
	cmd.Env = append(os.Environ(), "MEMORYD_STREAM_CLIENTS="+spec)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return cmd, out, stdin
}

// TestHelperStreamClients is BenchmarkIdleStreamMemory's client process:
// it opens the streams named by $MEMORYD_STREAM_CLIENTS, says so, and holds
// them (unread) until its stdin closes. Without the variable it does
// nothing.
func TestHelperStreamClients(t *testing.T) {
	spec := strings.Fields(os.Getenv("MEMORYD_STREAM_CLIENTS"))
	if len(spec) != 3 {
		t.Skip("the client process of BenchmarkIdleStreamMemory")
	}
	addr, key := spec[0], spec[1]
	n, err := strconv.Atoi(spec[2])
	if err != nil {
		t.Fatal(err)
	}
	liftNoFile()
	conns := openStreams(t, addr, key, n)
	fmt.Println("streams open")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// liftNoFile raises the open-file limit to the hard limit.
func liftNoFile() {
	var r syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	r.Cur = r.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
}

// openStreams opens n streams, 32 at a time.
func openStreams(t testing.TB, addr, key string, n int) []rawStream {
	conns := make([]rawStream, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for j := next.Add(1) - 1; j < int64(n); j = next.Add(1) - 1 {
				conns[j] = dialStream(t, addr, key, "heartbeat=3600")
			}
		})
	}
	wg.Wait()
	return conns
}

// rawStream is a stream read off a bare TCP connection; rest holds what
// was read past the welcome.
type rawStream struct {
	net.Conn
	rest []byte
}

// body returns the stream's decoded bytes after the welcome (the response
// is chunked; a frame may straddle two chunks).
func (s rawStream) body(buf int) io.Reader {
	return httputil.NewChunkedReader(bufio.NewReaderSize(io.MultiReader(bytes.NewReader(s.rest), s.Conn), buf))
}

// openRaw opens a stream over a bare TCP connection and reads up to the end
// of its welcome event. The welcome is flushed on its own, so its chunk
// ends with it: the body continues at a chunk boundary.
func (e *env) openRaw(key, query string) rawStream {
	return dialStream(e.T, e.Srv.Listener.Addr().String(), key, query)
}

func dialStream(t testing.TB, addr, key, query string) rawStream {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	req := "GET /api/v1/stream?" + query + " HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n" +
		"Authorization: Bearer " + key + "\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(testenv.WaitLimit))
	var got []byte
	buf := make([]byte, 2048)
	end := -1
	for end < 0 {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("opening a stream: %v after %q", err, got)
		}
		got = append(got, buf[:n]...)
		if w := bytes.Index(got, []byte("event: welcome\n")); w >= 0 {
			if i := bytes.Index(got[w:], []byte("\n\n\r\n")); i >= 0 {
				end = w + i + 4
			}
		}
	}
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 200")) || !bytes.Contains(got, []byte("Transfer-Encoding: chunked")) {
		t.Fatalf("stream refused: %q", got)
	}
	_ = c.SetReadDeadline(time.Time{})
	return rawStream{Conn: c, rest: got[end:]}
}

// BenchmarkReplay10000 measures resuming a stream 10,000 events behind:
// from the request until the last missed event is read. ring: the events
// are in the hub's memory (a client that dropped off a running node);
// store: they are older than the ring (a restarted node, or a long
// absence), so they are read from the database in batches. Pacing is the
// default one (1000 events a minute, burst 50): it applies to live
// delivery, not to the catch-up.
func BenchmarkReplay10000(b *testing.B) {
	for _, tc := range []struct {
		name string
		ring int
	}{{"ring", 65536}, {"store", 1024}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := testenv.Quiet()
			cfg.MaxStreamsPerKey = 1 << 20
			cfg.RingSize = tc.ring
			e := newEnv(b, cfg)
			from := e.Stream.Head()
			appendMissed(b, e, 10000)
			b.ResetTimer()
			for range b.N {
				c := e.openRaw(e.KeyA, "heartbeat=3600&last_event_id="+from)
				if got := countCreated(c, 10000); got != 10000 {
					b.Fatalf("replayed %d of 10000 events", got)
				}
				c.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/replay")
		})
	}
}

// appendMissed writes n memory.created events, as the service would.
func appendMissed(b *testing.B, e *env, n int) {
	ctx := context.Background()
	for i := range n {
		evt, err := payloadEvent(memoryd.EventMemoryCreated, "a", map[string]any{"id": fmt.Sprint("r_", i),
			"content": "a memory of about twenty words, as an agent would store it, to size the frames realistically",
			"tags":    []string{}, "created_at": t0, "created_by": "user-a"})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Store.AppendEvent(ctx, evt); err != nil {
			b.Fatal(err)
		}
	}
}

// countCreated reads until n memory.created events have arrived.
func countCreated(c rawStream, n int) int {
	_ = c.SetReadDeadline(time.Now().Add(testenv.WaitLimit))
	br := bufio.NewReaderSize(c.body(64<<10), 64<<10)
	got := 0
	for got < n {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return got
		}
		if bytes.HasPrefix(line, []byte("event: memory.created")) {
			got++
		}
	}
	return got
}
