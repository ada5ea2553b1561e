package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/memoryd/memoryd/gen/api"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/httpapi"
	"github.com/memoryd/memoryd/server/ratelimit"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

// env is a real memoryd HTTP stack (SQLite file, in-process index, hash
// embedder) behind a real listening server.
type env struct {
	t      testing.TB
	srv    *httptest.Server
	store  *store.Store
	router routers.Router
	// keyA may use workspaces "a" and "a2"; keyB only "b".
	keyA, keyB string
}

type envOpt struct {
	limits       ratelimit.Limits
	maxBody      int64
	maxTextBytes int
}

func newEnv(t testing.TB, o envOpt) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+t.TempDir()+"/memoryd.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if o.maxTextBytes == 0 {
		o.maxTextBytes = 1000
	}
	svc := service.New(st, memindex.New(), hash.New(512), service.WithLogger(log), service.WithMaxTextBytes(o.maxTextBytes))
	if o.limits == nil {
		o.limits = ratelimit.DefaultLimits()
	}
	if o.maxBody == 0 {
		o.maxBody = 1 << 20
	}
	s := httpapi.New(httpapi.Config{MaxBodyBytes: o.maxBody}, svc, st, auth.NewAuthenticator(st), ratelimit.New(o.limits), log)
	h, err := s.Handler()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: httptest.NewServer(h), store: st}
	t.Cleanup(e.srv.Close)
	e.keyA = e.newKey([]string{"a", "a2"}, memoryd.TierUnlimited)
	e.keyB = e.newKey([]string{"b"}, memoryd.TierUnlimited)
	e.router = specRouter(t)
	return e
}

func (e *env) newKey(ws []string, tier memoryd.Tier) string {
	secret, _, err := auth.NewKey(context.Background(), e.store, ws, tier, "user-"+ws[0])
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

func specRouter(t testing.TB) routers.Router {
	doc, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: "/api/v1"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// resp is a decoded response.
type resp struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// do sends a request with key (none when "") and validates the response
// against the OpenAPI document: every status and body must be documented.
func (e *env) do(method, path, key string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			e.t.Fatalf("%s %s: response is not JSON: %v: %s", method, path, err, raw)
		}
	}
	e.validate(req, res, raw)
	return out
}

func (e *env) validate(req *http.Request, res *http.Response, raw []byte) {
	e.t.Helper()
	route, params, err := e.router.FindRoute(req)
	if err != nil {
		return // undocumented paths are checked by the 404 test
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(raw)), Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
	if err != nil {
		e.t.Errorf("%s %s -> %d does not match the OpenAPI document: %v\nbody: %s", req.Method, req.URL.Path, res.StatusCode, err, raw)
	}
}

// wantError checks status and the error envelope's code.
func wantError(t testing.TB, r resp, status int, code string) {
	t.Helper()
	if r.Status != status || r.Body["error"] != code {
		t.Fatalf("got %d %s, want %d with error %q", r.Status, r.Raw, status, code)
	}
	if msg, _ := r.Body["message"].(string); msg == "" {
		t.Fatalf("error without message: %s", r.Raw)
	}
}
