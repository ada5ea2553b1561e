package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	ev "github.com/memoryd/memoryd/gen/events"
	"github.com/memoryd/memoryd/internal/testenv"
)

// TestBrowserEventSourceResumes follows the stream from a real headless
// Chromium's EventSource (authenticated by a stream ticket) while the
// connection is dropped twice: once with writes made while the browser is
// cut off, once in the middle of a burst. EventSource reconnects by itself
// with Last-Event-ID; the page must end up with every memory event exactly
// once, in write order, and the log positions it saw must have no gap.
func TestBrowserEventSourceResumes(t *testing.T) {
	t.Parallel()
	browserResumes(t, page, nil)
}

// TestBrowserSDKStreamResumes is the same scenario with the TypeScript
// client (sdk/typescript, compiled to ES modules and served to the page
// with its two dependencies through an import map, no bundler): its
// stream() iterator, authenticated by a ticket, must resume by itself.
func TestBrowserSDKStreamResumes(t *testing.T) {
	t.Parallel()
	browserResumes(t, sdkPage, sdkFiles(t))
}

// browserResumes runs the drop-and-resume scenario on pageHTML, which
// defines window.count, window.drops, window.result and window.summary;
// files, when set, serves /sdk/ to it.
func browserResumes(t *testing.T, pageHTML string, files http.Handler) {
	dir := browserTools(t)
	db := "sqlite://" + t.TempDir() + "/memoryd.db"
	key := createKey(t, db, "web")
	n := startNode(t, "browser", db)
	c := testenv.NewClient(n.base, key)
	f := newFront(t, n.base, pageHTML, files)
	br := startBrowser(t, dir, f.srv.URL+"/?ticket="+url.QueryEscape(c.Ticket(t)))
	if lid := f.arrival(t); lid != "" {
		t.Fatalf("first connection sent Last-Event-ID %q", lid)
	}
	br.wait(t, "window.count('welcome') >= 1")

	var want []string
	write := func(kind, id string) {
		switch kind {
		case "memory.created":
			c.Create(t, id, "text of "+id)
		case "memory.updated":
			c.Update(t, id, "new text of "+id)
		case "memory.deleted":
			c.Remove(t, id)
		}
		want = append(want, kind+" "+id)
	}
	for i := range 8 {
		write("memory.created", fmt.Sprintf("m%02d", i))
	}
	write("memory.updated", "m01")
	write("memory.deleted", "m02")
	br.wait(t, fmt.Sprintf("window.count('memory.') >= %d", len(want)))

	// Drop 1: the reconnection is held at the door until the writes made
	// in the meantime are all in the log, so they can only arrive by replay.
	f.shut()
	f.srv.CloseClientConnections()
	br.wait(t, "window.drops >= 1")
	for i := 8; i < 8+heldWrites-2; i++ {
		write("memory.created", fmt.Sprintf("m%02d", i))
	}
	write("memory.updated", "m03")
	write("memory.deleted", "m04")
	resumeAt1 := f.arrival(t)
	f.open()
	br.wait(t, fmt.Sprintf("window.count('memory.') >= %d", len(want)))

	// Drop 2: in the middle of a paced burst, reconnecting as it pleases.
	burstDone := make(chan error, 1)
	burst := []string{}
	go func() {
		for i := range 24 {
			id := fmt.Sprintf("b%02d", i)
			if _, err := c.Do(http.MethodPost, "/memory", map[string]string{"id": id, "text": "text of " + id}, nil); err != nil {
				burstDone <- err
				return
			}
			burst = append(burst, "memory.created "+id)
			time.Sleep(20 * time.Millisecond) // pacing, so the drop lands mid-burst
		}
		burstDone <- nil
	}()
	br.wait(t, fmt.Sprintf("window.count('memory.') >= %d", len(want)+5))
	f.srv.CloseClientConnections()
	if err := <-burstDone; err != nil {
		t.Fatal(err)
	}
	want = append(want, burst...)
	resumeAt2 := f.arrival(t)
	// A last write: the stream is in order, so a duplicate of anything
	// before it would have to arrive before it.
	write("memory.created", "end")
	br.wait(t, "window.events.some((e) => e.type === 'memory.created' && e.data.id === 'end')")

	var got pageLog
	br.eval(t, "window.result()", &got)
	got.check(t, db, want, []string{resumeAt1, resumeAt2})
}

// heldWrites is how many writes are made while the browser is cut off.
const heldWrites = 10

// pageLog is what the page recorded: every named event EventSource
// dispatched, and its connection counters.
type pageLog struct {
	Events []struct {
		Type string          `json:"type"`
		ID   string          `json:"id"`
		Data json.RawMessage `json:"data"`
	} `json:"events"`
	Opens int `json:"opens"`
	Drops int `json:"drops"`
}

// check asserts the page saw want (as "type id") exactly once and in
// order, log positions without a gap, and that each reconnection resumed
// from the last position before it (the Last-Event-ID that reached the
// server, and the welcome's position).
func (p *pageLog) check(t *testing.T, db string, want, resumedFrom []string) {
	t.Helper()
	var memory []string
	var welcomes []ev.Welcome
	var logEvents []testenv.Message
	lastID := ""
	for _, e := range p.Events {
		m := testenv.Message{ID: e.ID, Event: e.Type, Data: string(e.Data), HasID: e.ID != ""}
		switch {
		case e.Type == "restart" || e.Type == "error":
			t.Fatalf("the page got %s: %s", e.Type, e.Data)
		case e.Type == "welcome":
			var w ev.Welcome
			if err := json.Unmarshal(e.Data, &w); err != nil || w.Position != e.ID {
				t.Fatalf("welcome %s with id %s: %v", e.Data, e.ID, err)
			}
			if len(welcomes) > 0 && e.ID != lastID {
				t.Fatalf("reconnection %d started at %s, but the last position the page saw was %s", len(welcomes), e.ID, lastID)
			}
			welcomes = append(welcomes, w)
		case m.IsLogEvent():
			logEvents = append(logEvents, m)
			if m.Event != "user.activity" {
				memory = append(memory, e.Type+" "+testenv.MemoryID(t, m))
			}
			checkContent(t, m)
		}
		lastID = e.ID
	}
	if len(welcomes) != 3 || p.Opens != 3 || p.Drops < 2 {
		t.Fatalf("%d welcomes, %d opens, %d drops: want 3 connections and 2 drops", len(welcomes), p.Opens, p.Drops)
	}
	for i, lid := range resumedFrom {
		if welcomes[i+1].Position != lid {
			t.Fatalf("reconnection %d sent Last-Event-ID %q, its welcome is at %q", i+1, lid, welcomes[i+1].Position)
		}
	}
	// The writes made while the page was cut off were in the log before
	// it came back: they can only have reached it by replay.
	if held := welcomes[1]; testenv.SeqOf(t, held.Head)-testenv.SeqOf(t, held.Position) < heldWrites {
		t.Fatalf("reconnection 1 resumed at %s with the head at %s: fewer than the %d writes made meanwhile",
			held.Position, held.Head, heldWrites)
	}
	if fmt.Sprint(memory) != fmt.Sprint(want) {
		t.Fatalf("the page saw the memory events\n%v\nwant exactly\n%v", memory, want)
	}
	testenv.CheckNoGap(t, db, "web", testenv.SeqOf(t, welcomes[0].Position), logEvents)
	t.Logf("the page saw %d log events over 3 connections", len(logEvents))
}

// checkContent fails unless a memory.created event carries the text the
// test wrote ("text of <id>").
func checkContent(t *testing.T, m testenv.Message) {
	t.Helper()
	if m.Event != "memory.created" {
		return
	}
	var p ev.MemoryCreated
	if err := json.Unmarshal([]byte(m.Data), &p); err != nil || p.Content != "text of "+p.Id {
		t.Fatalf("memory.created %s: content %q: %v", p.Id, p.Content, err)
	}
}

// browserTools makes sure Chromium and playwright-core are installed
// (tools/browser/ensure-chromium.sh installs what is missing) and returns
// tools/browser.
func browserTools(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "tools/browser/ensure-chromium.sh")); err == nil {
			break
		}
		if dir == filepath.Dir(dir) {
			t.Fatal("tools/browser/ensure-chromium.sh not found above the test's directory")
		}
	}
	dir = filepath.Join(dir, "tools/browser")
	if out, err := exec.Command("bash", filepath.Join(dir, "ensure-chromium.sh")).CombinedOutput(); err != nil {
		t.Fatalf("tools/browser/ensure-chromium.sh: %v\n%s", err, out)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("the browser test needs node (apt-get install nodejs)")
	}
	return dir
}

// front is the page's origin: it serves the page and proxies /api/ to
// memoryd, so EventSource is same-origin. It can hold stream requests at
// the door, and reports the Last-Event-ID of each one that arrives.
type front struct {
	srv      *httptest.Server
	mu       sync.Mutex
	door     chan struct{} // closed: open
	arrivals chan string
}

func newFront(t testing.TB, backend, pageHTML string, files http.Handler) *front {
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	// Dropped connections are the point; their cancelled requests are not
	// worth a log line each. Any other failure to reach memoryd (a 502 the
	// browser sees) is logged with its cause.
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if r.Context().Err() == nil {
			t.Logf("front: %s %s: %v", r.Method, r.URL.Path, err)
		}
		w.WriteHeader(http.StatusBadGateway)
	}
	f := &front{door: make(chan struct{}), arrivals: make(chan string, 16)}
	close(f.door)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, pageHTML)
	})
	if files != nil {
		mux.Handle("GET /sdk/", http.StripPrefix("/sdk/", files))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/stream" {
			f.arrivals <- r.Header.Get("Last-Event-ID")
			select {
			case <-f.gate():
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	t.Cleanup(f.open) // release held requests, or Close waits for them
	return f
}

func (f *front) gate() chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.door
}

// shut holds new stream requests until open.
func (f *front) shut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.door = make(chan struct{})
}

func (f *front) open() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.door:
	default:
		close(f.door)
	}
}

// arrival returns the Last-Event-ID of the next stream request.
func (f *front) arrival(t testing.TB) string {
	t.Helper()
	select {
	case lid := <-f.arrivals:
		return lid
	case <-time.After(testenv.WaitLimit):
		t.Fatal("the browser did not connect to the stream")
	}
	return ""
}

// page opens the stream with the ticket of its URL and records every
// event type of the AsyncAPI document. A named SSE `error` event and
// EventSource's own connection error share the name "error": only the
// first is a MessageEvent.
const page = `<!doctype html>
<meta charset="utf-8">
<title>memoryd live stream</title>
<script>
const types = ['welcome', 'restart', 'heartbeat', 'error', 'memory.created', 'memory.updated',
  'memory.deleted', 'search.performed', 'user.activity', 'system.health', 'analytics.update'];
window.events = [];
window.opens = 0;
window.drops = 0;
const ticket = new URLSearchParams(location.search).get('ticket');
const es = new EventSource('/api/v1/stream?ticket=' + encodeURIComponent(ticket));
es.onopen = () => { window.opens++; };
for (const type of types) {
  es.addEventListener(type, (e) => {
    if (!(e instanceof MessageEvent)) { window.drops++; return; }
    window.events.push({ type, id: e.lastEventId, data: JSON.parse(e.data) });
  });
}
window.count = (prefix) => window.events.filter((e) => e.type.startsWith(prefix)).length;
window.result = () => ({ events: window.events, opens: window.opens, drops: window.drops });
window.summary = () => ({ opens: window.opens, drops: window.drops, events: window.events.length,
  last: window.events.slice(-6).map((e) => e.type + ' ' + e.id + ' ' + (e.data.id ?? e.data.position ?? '')) });
</script>
`

// browser is tools/browser/drive.mjs running Chromium on one page.
type browser struct {
	in    io.WriteCloser
	lines chan []byte
	log   *lockedBuffer
}

func startBrowser(t testing.TB, dir, pageURL string) *browser {
	t.Helper()
	cmd := exec.Command("node", filepath.Join(dir, "drive.mjs"), pageURL)
	cmd.Dir = dir
	b := &browser{lines: make(chan []byte, 16), log: &lockedBuffer{}}
	cmd.Stderr = b.log
	var err error
	if b.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node drive.mjs: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			b.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(b.lines)
	}()
	t.Cleanup(func() {
		b.in.Close() // drive.mjs closes the browser at the end of its input
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("browser log:\n%s", b.log.tail(8000))
		}
	})
	if err := b.reply(nil); err != nil {
		t.Fatalf("browser: %v\n%s", err, b.log.tail(4000))
	}
	return b
}

// call sends one command and decodes the answer's value into v.
func (b *browser) call(t testing.TB, cmd map[string]any, v any) {
	t.Helper()
	if err := b.try(cmd, v); err != nil {
		t.Fatalf("browser: %v\n%s", err, b.log.tail(4000))
	}
}

func (b *browser) try(cmd map[string]any, v any) error {
	line, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	if _, err := b.in.Write(append(line, '\n')); err != nil {
		return err
	}
	return b.reply(v)
}

// reply reads one answer and decodes its value into v.
func (b *browser) reply(v any) error {
	var line []byte
	select {
	case l, ok := <-b.lines:
		if !ok {
			return errors.New("the browser driver exited")
		}
		line = l
	case <-time.After(2 * testenv.WaitLimit):
		return errors.New("the browser driver did not answer")
	}
	var r struct {
		OK    bool            `json:"ok"`
		Error string          `json:"error"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return fmt.Errorf("answer %s: %v", line, err)
	}
	if !r.OK {
		return errors.New(r.Error)
	}
	if v != nil {
		return json.Unmarshal(r.Value, v)
	}
	return nil
}

// wait blocks until the page's JavaScript expression is true; when it
// never is, the failure shows what the page has seen.
func (b *browser) wait(t testing.TB, expr string) {
	t.Helper()
	err := b.try(map[string]any{"wait": expr, "timeout_ms": testenv.WaitLimit.Milliseconds()}, nil)
	if err == nil {
		return
	}
	var seen any
	_ = b.try(map[string]any{"eval": "window.summary()"}, &seen)
	t.Fatalf("browser: waiting for %s: %v\npage state: %v", expr, err, seen)
}

// eval returns the value of a JavaScript expression in the page.
func (b *browser) eval(t testing.TB, expr string, v any) {
	t.Helper()
	b.call(t, map[string]any{"eval": expr}, v)
}
