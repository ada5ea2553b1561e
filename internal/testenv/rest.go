package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/memoryd/memoryd/gen/api"
)

// Resp is a response read whole.
type Resp struct {
	Status int
	Header http.Header
	Body   map[string]any // when the response is JSON
	Raw    []byte
}

// Do sends a request to path (from the server's root, e.g. /api/v1/memory)
// with key (none when "") and header pairs hdr. A string or []byte body is
// sent as is, anything else as JSON; either way with Content-Type
// application/json (hdr may override it). The response must match the
// OpenAPI document: every status and body the API answers is documented.
func (e *Env) Do(method, path, key string, body any, hdr ...string) Resp {
	e.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.HTTP.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatalf("%s %s: reading the response: %v", method, path, err)
	}
	out := Resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			e.T.Fatalf("%s %s: response is not JSON: %v: %s", method, path, err, raw)
		}
	}
	CheckResponse(e.T, req, res, raw)
	return out
}

// CheckResponse fails the test (without stopping it) unless the response
// to req, with body raw, is one the OpenAPI document allows. Paths the
// document does not have are not checked: a test of 404s checks those.
func CheckResponse(t testing.TB, req *http.Request, res *http.Response, raw []byte) {
	t.Helper()
	router := specRouter(t)
	route, params, err := router.FindRoute(req)
	if err != nil {
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(raw)), Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
	if err != nil {
		t.Errorf("%s %s -> %d does not match the OpenAPI document: %v\nbody: %s", req.Method, req.URL.Path, res.StatusCode, err, raw)
	}
}

var (
	routerOnce sync.Once
	router     routers.Router
	routerErr  error
)

// specRouter finds a request's operation in the OpenAPI document, built
// once per test process.
func specRouter(t testing.TB) routers.Router {
	t.Helper()
	routerOnce.Do(func() {
		var doc *openapi3.T
		if doc, routerErr = api.GetSpec(); routerErr != nil {
			return
		}
		doc.Servers = openapi3.Servers{{URL: "/api/v1"}}
		router, routerErr = gorillamux.NewRouter(doc)
	})
	if routerErr != nil {
		t.Fatalf("the OpenAPI document: %v", routerErr)
	}
	return router
}

// WantError checks a response's status and its error envelope: the code,
// and a message.
func WantError(t testing.TB, r Resp, status int, code string) {
	t.Helper()
	if r.Status != status || r.Body["error"] != code {
		t.Fatalf("got %d %s, want %d with error %q", r.Status, r.Raw, status, code)
	}
	if msg, _ := r.Body["message"].(string); msg == "" {
		t.Fatalf("error without message: %s", r.Raw)
	}
}
