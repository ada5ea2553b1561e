// Command slowbody checks that a running memoryd bounds request bodies and
// cuts slow ones, as an attacker without a key would try it:
//
//	go run ./tools/slowbody -mode big -bytes 1000000000 -pid $(pgrep -n memoryd)
//	go run ./tools/slowbody -mode slow -conns 200 -wait 130s
//
// big sends one chunked body of -bytes to -path and reports how much of it
// the server took before it answered or closed the connection. slow opens
// -conns connections that send their body one byte a second and reports
// when the server cut each one, while a probe asks GET /health every 200 ms
// on connections of its own. With -pid (Linux), the server's resident
// memory is sampled during the run and its peak reported.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080/api/v1", "memoryd's API base URL")
	path := flag.String("path", "/health", "path under -url the bodies are sent to")
	method := flag.String("method", "POST", "method of the requests")
	key := flag.String("key", "", "API key to send (none by default: the public paths)")
	mode := flag.String("mode", "big", "big: one large chunked body; slow: many slow bodies")
	size := flag.Int64("bytes", 1e9, "big: body size")
	conns := flag.Int("conns", 200, "slow: connections")
	wait := flag.Duration("wait", 130*time.Second, "slow: how long to wait for the server to cut them")
	pid := flag.Int("pid", 0, "memoryd's process id, to sample its resident memory (Linux)")
	flag.Parse()
	u, err := url.Parse(*base)
	if err != nil {
		fail(err)
	}
	t := target{host: u.Host, path: u.Path + *path, method: *method, key: *key}
	stopRSS := sampleRSS(*pid)
	switch *mode {
	case "big":
		err = big(t, *size)
	case "slow":
		err = slow(t, *conns, *wait, *base+"/health")
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	stopRSS()
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "slowbody:", err)
	os.Exit(1)
}

type target struct{ host, path, method, key string }

// head is the request head of a chunked body.
func (t target) head() string {
	h := t.method + " " + t.path + " HTTP/1.1\r\nHost: " + t.host +
		"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
	if t.key != "" {
		h += "Authorization: Bearer " + t.key + "\r\n"
	}
	return h + "\r\n"
}

// big sends size bytes in 64 KiB chunks until the server answers or closes.
func big(t target, size int64) error {
	c, err := net.Dial("tcp", t.host)
	if err != nil {
		return err
	}
	defer c.Close()
	start := time.Now()
	status := make(chan string, 1)
	go func() { status <- readStatus(c) }()
	if _, err := io.WriteString(c, t.head()); err != nil {
		return err
	}
	chunk := append([]byte(fmt.Sprintf("%x\r\n", 64<<10)), bytes.Repeat([]byte(" "), 64<<10)...)
	chunk = append(chunk, "\r\n"...)
	var sent int64
	var answer string
	for sent < size {
		select {
		case answer = <-status:
		default:
		}
		if answer != "" {
			break
		}
		if _, err := c.Write(chunk); err != nil {
			break
		}
		sent += 64 << 10
	}
	if answer == "" {
		select {
		case answer = <-status:
		case <-time.After(30 * time.Second):
			answer = "(no answer within 30 s)"
		}
	}
	fmt.Printf("sent %d of %d bytes in %s; server: %s\n", sent, size, time.Since(start).Round(time.Millisecond), answer)
	return nil
}

// readStatus returns the status line of the response on c, or why there
// is none.
func readStatus(c net.Conn) string {
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "connection closed without an answer (" + err.Error() + ")"
	}
	return strings.TrimSpace(line)
}

// slow opens n connections that each send a byte a second, and reports
// when the server cut them, while probe is fetched on fresh connections.
func slow(t target, n int, wait time.Duration, probe string) error {
	start := time.Now()
	cut := make(chan time.Duration, n)
	var conns []net.Conn
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", t.host)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
		go trickle(c, t.head())
		go func() {
			_, _ = io.Copy(io.Discard, c) // ends when the server closes
			cut <- time.Since(start)
		}()
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	pr := startProbe(probe)
	var times []time.Duration
	deadline := time.After(wait)
	for len(times) < n {
		select {
		case d := <-cut:
			times = append(times, d)
			continue
		case <-deadline:
		}
		break
	}
	ok, failed, worst := pr.stop()
	fmt.Printf("%d of %d slow connections cut by the server within %s\n", len(times), n, wait)
	if len(times) > 0 {
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		fmt.Printf("cut after: first %s, median %s, last %s\n", times[0].Round(time.Millisecond),
			times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
	}
	fmt.Printf("meanwhile GET %s: %d ok, %d failed, slowest %s\n", probe, ok, failed, worst.Round(time.Millisecond))
	return nil
}

// trickle sends the head, then one byte of body a second (a chunk of 1).
func trickle(c net.Conn, head string) {
	if _, err := io.WriteString(c, head); err != nil {
		return
	}
	for {
		if _, err := io.WriteString(c, "1\r\n \r\n"); err != nil {
			return
		}
		time.Sleep(time.Second)
	}
}

type probe struct {
	mu          sync.Mutex
	ok, failed  int
	worst       time.Duration
	done, ended chan struct{}
}

// startProbe fetches url every 200 ms, each time on a new connection.
func startProbe(url string) *probe {
	p := &probe{done: make(chan struct{}), ended: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(p.ended)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-tick.C:
			}
			t0 := time.Now()
			res, err := client.Get(url)
			d := time.Since(t0)
			p.mu.Lock()
			if err == nil && res.StatusCode == http.StatusOK {
				p.ok++
			} else {
				p.failed++
			}
			p.worst = max(p.worst, d)
			p.mu.Unlock()
			if err == nil {
				res.Body.Close()
			}
		}
	}()
	return p
}

func (p *probe) stop() (ok, failed int, worst time.Duration) {
	close(p.done)
	<-p.ended
	return p.ok, p.failed, p.worst
}

// sampleRSS reads pid's resident memory every 50 ms until the returned
// function is called, which prints the peak seen (and the kernel's
// lifetime peak, VmHWM).
func sampleRSS(pid int) func() {
	if pid == 0 {
		return func() {}
	}
	done, ended := make(chan struct{}), make(chan struct{})
	var peak int64
	go func() {
		defer close(ended)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, statusKB(pid, "VmRSS"))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		<-ended
		fmt.Printf("memoryd (pid %d) resident memory: peak during the run %d MB, lifetime peak (VmHWM) %d MB, now %d MB\n",
			pid, peak/1024, statusKB(pid, "VmHWM")/1024, statusKB(pid, "VmRSS")/1024)
	}
}

// statusKB reads a "Field: N kB" line of /proc/pid/status.
func statusKB(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
