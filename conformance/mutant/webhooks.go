package mutant

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/memoryd/memoryd/server/webhooks"
)

// Webhook mutations act on deliveries, which memoryd sends to the URLs it
// was given, not through the proxy. Relay mutations therefore register
// every endpoint at a relay instead (rewriting url in createWebhook and
// updateWebhook bodies, and back in every answer), and the relay applies
// the break to each delivery on its way to the real endpoint.

// Relay forwards deliveries to the endpoints registered through its
// mutation, rewriting each with Rewrite first.
type Relay struct {
	srv     *httptest.Server
	rewrite func(h http.Header, body []byte) []byte
	answer  func(code int) int // the status memoryd sees when the endpoint answers code
	target  *regexp.Regexp     // a relay URL in a response body
}

// NewRelay starts a relay; Mutation returns the proxy side, Close stops it.
// rewrite may change the delivery's headers and returns its body.
func NewRelay(rewrite func(h http.Header, body []byte) []byte) *Relay {
	return newRelay(rewrite, func(code int) int { return code })
}

// NewAnswerRelay starts a relay that passes deliveries unchanged and
// answers memoryd answer(code) for the endpoint's code.
func NewAnswerRelay(answer func(code int) int) *Relay { return newRelay(Identity, answer) }

func newRelay(rewrite func(h http.Header, body []byte) []byte, answer func(int) int) *Relay {
	r := &Relay{rewrite: rewrite, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(r.forward))
	r.target = regexp.MustCompile(regexp.QuoteMeta(r.srv.URL) + `/r/([A-Za-z0-9_-]+)`)
	return r
}

// Close stops the relay.
func (r *Relay) Close() { r.srv.Close() }

func (r *Relay) forward(w http.ResponseWriter, req *http.Request) {
	enc, _ := strings.CutPrefix(req.URL.Path, "/r/")
	to, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		http.Error(w, "bad relay path", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(req.Body)
	h := req.Header.Clone()
	body = r.rewrite(h, body)
	out, err := http.NewRequestWithContext(req.Context(), req.Method, string(to), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for k, vs := range h {
		if strings.HasPrefix(strings.ToLower(k), "webhook-") || k == "Content-Type" {
			out.Header[k] = vs
		}
	}
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	resp.Body.Close()
	w.WriteHeader(r.answer(resp.StatusCode))
}

// Mutation routes the webhook endpoints registered through the proxy via
// the relay.
func (r *Relay) Mutation(name string) Mutation {
	return Mutation{Name: name,
		Request: func(req *http.Request) {
			if !isHookWrite(req) {
				return
			}
			rewriteJSON(req, func(m map[string]any) {
				if u, ok := m["url"].(string); ok {
					m["url"] = r.srv.URL + "/r/" + base64.RawURLEncoding.EncodeToString([]byte(u))
				}
			})
		},
		Response: func(resp *http.Response) {
			if !strings.Contains(resp.Request.URL.Path, "/webhooks") {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			body = r.target.ReplaceAllFunc(body, func(m []byte) []byte {
				to, _ := base64.RawURLEncoding.DecodeString(string(r.target.FindSubmatch(m)[1]))
				return to
			})
			resp.Body.Close()
			SetBody(resp, string(body))
		},
	}
}

func isHookWrite(req *http.Request) bool {
	p := req.URL.Path
	return (req.Method == http.MethodPost && strings.HasSuffix(p, "/api/v1/webhooks")) ||
		(req.Method == http.MethodPatch && strings.Contains(p, "/api/v1/webhooks/"))
}

// rewriteJSON applies f to a JSON object body (others pass unchanged).
func rewriteJSON(req *http.Request, f func(map[string]any)) {
	if req.Body == nil {
		return
	}
	body, _ := io.ReadAll(req.Body)
	req.Body.Close()
	var m map[string]any
	if json.Unmarshal(body, &m) == nil && m != nil {
		f(m)
		body, _ = json.Marshal(m)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

// BadSignature changes one character of every delivery's signature.
func BadSignature(h http.Header, body []byte) []byte {
	sig := []byte(h.Get("webhook-signature"))
	if i := bytes.IndexByte(sig, ',') + 2; i > 1 && i < len(sig) {
		if sig[i] == 'A' {
			sig[i] = 'B'
		} else {
			sig[i] = 'A'
		}
	}
	h.Set("webhook-signature", string(sig))
	return body
}

// DropWebhookID removes the webhook-id header of every delivery.
func DropWebhookID(h http.Header, body []byte) []byte {
	h.Del("webhook-id")
	return body
}

// GoneAsError hides 410 Gone behind 500, like a server that treats 410
// as any failure and keeps the endpoint enabled.
func GoneAsError(code int) int {
	if code == http.StatusGone {
		return http.StatusInternalServerError
	}
	return code
}

// Identity passes deliveries through unchanged.
func Identity(_ http.Header, body []byte) []byte { return body }

// LeakRejected behaves like a server that sends webhooks before its
// transaction commits: when createMemory is refused, it still sends a
// memory.created for the refused memory, signed with the real secret, to
// every endpoint registered through the proxy with the same key. (It
// learns the endpoints and secrets from createWebhook's answers.)
func LeakRejected() Mutation {
	var mu sync.Mutex
	hooks := map[string][]hookSeen{} // Authorization -> endpoints
	const stash = "X-Mutant-Body"
	return Mutation{Name: "leak-rejected-write",
		Request: func(req *http.Request) {
			if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/api/v1/memory") && req.Body != nil {
				body, _ := io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(body))
				req.Header.Set(stash, base64.StdEncoding.EncodeToString(body))
			}
		},
		Response: func(resp *http.Response) {
			req := resp.Request
			auth := req.Header.Get("Authorization")
			switch {
			case resp.StatusCode == http.StatusCreated && strings.HasSuffix(req.URL.Path, "/api/v1/webhooks"):
				body, _ := io.ReadAll(resp.Body)
				SetBody(resp, string(body))
				var h hookSeen
				if json.Unmarshal(body, &h) == nil {
					mu.Lock()
					hooks[auth] = append(hooks[auth], h)
					mu.Unlock()
				}
			case resp.StatusCode >= 400 && req.Header.Get(stash) != "":
				raw, _ := base64.StdEncoding.DecodeString(req.Header.Get(stash))
				var m struct {
					ID   string `json:"id"`
					Text string `json:"text"`
				}
				if json.Unmarshal(raw, &m) != nil || m.ID == "" {
					return
				}
				mu.Lock()
				hs := append([]hookSeen(nil), hooks[auth]...)
				mu.Unlock()
				for _, h := range hs {
					h.leak(m.ID, m.Text)
				}
			}
		},
	}
}

// hookSeen is an endpoint registered through LeakRejected's proxy.
type hookSeen struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// leak sends a signed memory.created for a memory that was never stored.
func (h hookSeen) leak(id, text string) {
	now := time.Now().UTC()
	body, _ := json.Marshal(map[string]any{"type": "memory.created", "timestamp": now.Format(time.RFC3339Nano),
		"data": map[string]any{"id": id, "content": text, "metadata": map[string]any{}, "tags": []string{},
			"created_at": now.Format(time.RFC3339Nano), "created_by": "leak"}})
	msgID := "msg_leak_" + strconv.FormatInt(now.UnixNano(), 36)
	sig, err := webhooks.Sign(h.Secret, msgID, now, body)
	if err != nil {
		return
	}
	req, _ := http.NewRequest(http.MethodPost, h.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}
