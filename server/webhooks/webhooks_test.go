package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/httpapi"
	"github.com/memoryd/memoryd/server/ratelimit"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
	"github.com/memoryd/memoryd/server/webhooks"
)

// env is a listening memoryd API with webhooks on a fresh SQLite file.
type env struct {
	t     *testing.T
	url   string
	key   string
	store *store.Store
}

func newEnv(t *testing.T, guard *webhooks.Guard) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, "sqlite://"+t.TempDir()+"/m.db")
	if err != nil {
		t.Fatal(err)
	}
	lg := testenv.Logger(t, slog.LevelWarn)
	d := webhooks.NewDeliverer(st, st, guard, webhooks.Config{Schedule: []time.Duration{50 * time.Millisecond, 50 * time.Millisecond},
		PollInterval: 50 * time.Millisecond}, lg)
	m := webhooks.NewManager(st, guard)
	m.Wake = d.Wake
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	svc, err := service.New(st, memindex.New(), hash.New(64), service.WithLogger(lg))
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{}, svc, st, auth.NewAuthenticator(st), ratelimit.New(ratelimit.DefaultLimits()), lg,
		httpapi.WithWebhooks(m))
	h, err := api.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	key, _, err := auth.NewKey(ctx, st, []string{"a"}, memoryd.TierUnlimited, "user-a")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); cancel(); <-done; st.Close() })
	return &env{t: t, url: srv.URL, key: key, store: st}
}

// do sends a request and checks the reply against the OpenAPI document.
func (e *env) do(method, path string, body, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.url+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+e.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	testenv.CheckResponse(e.t, req, res, raw)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatal(err)
		}
	}
	return res.StatusCode
}

type received struct {
	header http.Header
	body   []byte
}

// receiver is a webhook receiver on loopback; answer picks each status.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	next chan received
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	r := &receiver{next: make(chan received, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		rc := received{header: req.Header.Clone(), body: b}
		r.got = append(r.got, rc)
		n := len(r.got)
		r.mu.Unlock()
		r.next <- rc
		w.WriteHeader(answer(n))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) wait(t *testing.T) received {
	t.Helper()
	select {
	case rc := <-r.next:
		return rc
	case <-time.After(testenv.WaitLimit):
		t.Fatalf("no delivery within %s (testenv.WaitLimit)", testenv.WaitLimit)
		return received{}
	}
}

func ok(int) int { return 200 }

func (e *env) register(t *testing.T, url string, types ...string) map[string]any {
	var out map[string]any
	if code := e.do("POST", "/webhooks", map[string]any{"url": url, "events": types}, &out); code != 201 {
		t.Fatalf("register: %d", code)
	}
	return out
}

func TestCreateDeliversSignedEventsAVerifierAccepts(t *testing.T) {
	e := newEnv(t, webhooks.NewGuard(true))
	rcv := newReceiver(t, ok)
	wh := e.register(t, rcv.URL+"/hook", "memory.created", "embedding.generated")
	secret := wh["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	var got map[string]any
	if e.do("GET", "/webhooks/"+wh["id"].(string), nil, &got); got["secret"] != nil {
		t.Fatal("the secret is shown again")
	}
	e.do("POST", "/memory", map[string]any{"id": "m1", "text": "hello"}, nil)
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for range 2 {
		rc := rcv.wait(t)
		if err := v.Verify(rc.body, rc.header); err != nil {
			t.Fatalf("the Standard Webhooks library refuses the delivery: %v", err)
		}
		var msg struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		json.Unmarshal(rc.body, &msg)
		types = append(types, msg.Type)
		if msg.Type == "embedding.generated" && !strings.Contains(string(msg.Data), `"dimensions":64`) {
			t.Fatalf("embedding.generated data %s", msg.Data)
		}
	}
	if types[0] != "memory.created" || types[1] != "embedding.generated" {
		t.Fatalf("delivered %v, want memory.created then embedding.generated", types)
	}
}

func TestRetryKeepsTheWebhookID(t *testing.T) {
	e := newEnv(t, webhooks.NewGuard(true))
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			return 500
		}
		return 200
	})
	wh := e.register(t, rcv.URL, "memory.created")
	e.do("POST", "/memory", map[string]any{"id": "m1", "text": "hello"}, nil)
	first, second := rcv.wait(t), rcv.wait(t)
	if id := first.header.Get("webhook-id"); id == "" || id != second.header.Get("webhook-id") {
		t.Fatalf("webhook-id %q then %q", id, second.header.Get("webhook-id"))
	}
	var list struct {
		Deliveries []struct {
			StatusCode int  `json:"status_code"`
			Success    bool `json:"success"`
			Attempt    int  `json:"attempt"`
		} `json:"deliveries"`
	}
	deadline := time.Now().Add(testenv.WaitLimit)
	for len(list.Deliveries) < 2 && time.Now().Before(deadline) {
		e.do("GET", "/webhooks/"+wh["id"].(string)+"/deliveries", nil, &list)
		time.Sleep(20 * time.Millisecond)
	}
	if len(list.Deliveries) != 2 || !list.Deliveries[0].Success || list.Deliveries[1].StatusCode != 500 || list.Deliveries[0].Attempt != 2 {
		t.Fatalf("delivery log %+v", list.Deliveries)
	}
}

func TestDeletedEndpointReceivesNothingMore(t *testing.T) {
	e := newEnv(t, webhooks.NewGuard(true))
	gone := newReceiver(t, ok)
	stay := newReceiver(t, ok)
	wh := e.register(t, gone.URL, "memory.created")
	e.register(t, stay.URL, "memory.created")
	e.do("POST", "/memory", map[string]any{"id": "m1", "text": "one"}, nil)
	gone.wait(t)
	stay.wait(t)
	if code := e.do("DELETE", "/webhooks/"+wh["id"].(string), nil, nil); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	e.do("POST", "/memory", map[string]any{"id": "m2", "text": "two"}, nil)
	stay.wait(t) // the other endpoint got m2, so the deleted one had its turn
	select {
	case rc := <-gone.next:
		t.Fatalf("the deleted endpoint received %s", rc.body)
	case <-time.After(200 * time.Millisecond):
	}
}

// An endpoint disabled while a run of its messages is under way gets
// nothing after the attempt in flight: the run reads the endpoint again
// after a change made through this node.
func TestDisablingStopsARunUnderWay(t *testing.T) {
	e := newEnv(t, webhooks.NewGuard(true))
	gates := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	rcv := newReceiver(t, func(n int) int {
		if n <= 2 {
			<-gates[n-1]
		}
		return 200
	})
	other := newReceiver(t, ok)
	wh := e.register(t, rcv.URL, "memory.created")
	e.register(t, other.URL, "memory.created")
	const creates = 10
	e.do("POST", "/memory", map[string]any{"text": "first"}, nil)
	rcv.wait(t) // the first message is held at the receiver
	for i := range creates - 1 {
		e.do("POST", "/memory", map[string]any{"text": fmt.Sprintf("more %d", i)}, nil)
	}
	for range creates {
		other.wait(t) // one fan-out queues a message for both endpoints
	}
	close(gates[0]) // its record leases the other 9 as a run
	rcv.wait(t)     // the run's first attempt, held
	if code := e.do("PATCH", "/webhooks/"+wh["id"].(string), map[string]any{"enabled": false}, nil); code != 200 {
		t.Fatalf("disable: %d", code)
	}
	close(gates[1])
	select {
	case rc := <-rcv.next:
		t.Fatalf("the disabled endpoint received %s", rc.body)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestRegistrationRefusesEachAddressClass(t *testing.T) {
	e := newEnv(t, webhooks.NewGuard(false))
	for _, u := range []string{
		"https://127.0.0.1/h", "https://[::1]/h", "https://10.1.2.3/h", "https://172.16.0.1/h", "https://192.168.1.1/h",
		"https://169.254.169.254/latest/meta-data", "https://[fe80::1]/h", "https://224.0.0.1/h", "https://0.0.0.0/h",
		"https://100.64.0.1/h", "https://[fd00:ec2::254]/h", "http://93.184.216.34/h", "ftp://93.184.216.34/h",
	} {
		var out map[string]any
		code := e.do("POST", "/webhooks", map[string]any{"url": u, "events": []string{"memory.created"}}, &out)
		if code != 400 {
			t.Errorf("%s: %d, want 400", u, code)
		}
	}
	var out map[string]any
	if code := e.do("POST", "/webhooks", map[string]any{"url": "https://93.184.216.34/h", "events": []string{"memory.created"}}, &out); code != 201 {
		t.Fatalf("a public https address: %d", code)
	}
}

// A name that resolved to a public address at registration and to
// 127.0.0.1 when delivering (DNS rebinding) is refused by the dialer.
func TestRebindingIsRefusedAtConnect(t *testing.T) {
	g := webhooks.NewGuard(false)
	g.Lookup = func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
	}
	e := newEnv(t, g)
	rcv := newReceiver(t, ok)
	port := rcv.URL[strings.LastIndex(rcv.URL, ":"):]
	wh := e.register(t, "https://localhost"+port+"/hook", "memory.created")
	e.do("POST", "/memory", map[string]any{"id": "m1", "text": "hello"}, nil)
	var list struct {
		Deliveries []struct {
			Error string `json:"error"`
		} `json:"deliveries"`
	}
	deadline := time.Now().Add(testenv.WaitLimit)
	for len(list.Deliveries) == 0 && time.Now().Before(deadline) {
		e.do("GET", "/webhooks/"+wh["id"].(string)+"/deliveries", nil, &list)
		time.Sleep(20 * time.Millisecond)
	}
	if len(list.Deliveries) == 0 || !strings.Contains(list.Deliveries[0].Error, "refused webhook address") {
		t.Fatalf("attempts %+v", list.Deliveries)
	}
	select {
	case <-rcv.next:
		t.Fatal("the receiver on loopback was reached")
	default:
	}
}

func TestOtherWorkspaceCannotSeeWebhooks(t *testing.T) {
	e := newEnv(t, webhooks.NewGuard(true))
	wh := e.register(t, "http://example.com/h", "memory.created")
	other, _, err := auth.NewKey(context.Background(), e.store, []string{"b"}, memoryd.TierUnlimited, "user-b")
	if err != nil {
		t.Fatal(err)
	}
	e.key = other
	if code := e.do("GET", "/webhooks/"+wh["id"].(string), nil, nil); code != 404 {
		t.Fatalf("other workspace reads: %d", code)
	}
	if code := e.do("DELETE", "/webhooks/"+wh["id"].(string), nil, nil); code != 404 {
		t.Fatalf("other workspace deletes: %d", code)
	}
}
