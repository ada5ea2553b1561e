package openai_test

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/memoryd/memoryd/server/embed/hash"
)

// fakeAPI is a real HTTP server implementing POST /v1/embeddings as the
// OpenAI API documents it (request and response shapes, error envelope,
// input limits, the "dimensions" parameter). It stands in for the remote
// API, which cannot be reached here. Vectors come from the hash embedder,
// scaled so they are NOT unit length (the client must normalise), and data
// is returned in reverse order (the client must sort by index).
type fakeAPI struct {
	Key       string // when set, requests must carry "Bearer <Key>"
	MaxInputs int    // more inputs than this is a 400, as OpenAI's 2048 limit
	Dims      int    // native dimension (default 512)
	OmitUsage bool

	mu         sync.Mutex
	failures   []int  // statuses answered to the next requests, in order
	retryAfter string // Retry-After sent with those failures
	dimsAfter  int    // when > 0, switch to this native dimension after one success
	hang       bool   // wait for the client to give up (ctx cancel / timeout)
	requests   []seenRequest
	arrived    chan struct{} // one value per request received, when non-nil
}

type seenRequest struct {
	Auth       string
	Inputs     []string
	Dimensions *int
	Raw        map[string]json.RawMessage
}

func newFakeAPI(t *testing.T, f *fakeAPI) (*fakeAPI, string) {
	t.Helper()
	if f.Dims == 0 {
		f.Dims = 512
	}
	if f.MaxInputs == 0 {
		f.MaxInputs = 2048
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/embeddings", f.serve)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeAPI) failNext(retryAfter string, statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures, f.retryAfter = statuses, retryAfter
}

func (f *fakeAPI) seen() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.requests...)
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": nil, "code": nil}})
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	req, err := decodeRequest(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	req.Auth = r.Header.Get("Authorization")
	f.mu.Lock()
	f.requests = append(f.requests, req)
	arrived, hang := f.arrived, f.hang
	var fail int
	if len(f.failures) > 0 {
		fail, f.failures = f.failures[0], f.failures[1:]
	}
	f.mu.Unlock()
	if arrived != nil {
		arrived <- struct{}{}
	}
	if hang {
		<-r.Context().Done()
		return
	}
	if f.Key != "" && req.Auth != "Bearer "+f.Key {
		apiError(w, http.StatusUnauthorized, "invalid_request_error",
			"Incorrect API key provided: "+req.Auth)
		return
	}
	if fail != 0 {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		apiError(w, fail, "server_error", fmt.Sprintf("simulated %d", fail))
		return
	}
	if len(req.Inputs) > f.MaxInputs {
		apiError(w, http.StatusBadRequest, "invalid_request_error",
			fmt.Sprintf("'$.input' must have at most %d items", f.MaxInputs))
		return
	}
	f.respond(w, req)
}

// decodeRequest parses the body the way the API accepts it: input is a
// string or an array of non-empty strings, model is required.
func decodeRequest(r *http.Request) (seenRequest, error) {
	var req seenRequest
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return req, fmt.Errorf("content type %q is not application/json", mt)
	}
	if err := json.NewDecoder(r.Body).Decode(&req.Raw); err != nil {
		return req, fmt.Errorf("invalid JSON body: %v", err)
	}
	var model string
	if json.Unmarshal(req.Raw["model"], &model) != nil || model == "" {
		return req, fmt.Errorf("you must provide a model parameter")
	}
	var one string
	if err := json.Unmarshal(req.Raw["input"], &req.Inputs); err != nil {
		if json.Unmarshal(req.Raw["input"], &one) != nil {
			return req, fmt.Errorf("'$.input' is invalid")
		}
		req.Inputs = []string{one}
	}
	for _, in := range req.Inputs {
		if in == "" {
			return req, fmt.Errorf("'$.input' is invalid: empty string")
		}
	}
	if raw, ok := req.Raw["dimensions"]; ok {
		var d int
		if json.Unmarshal(raw, &d) != nil || d < 1 {
			return req, fmt.Errorf("'$.dimensions' is invalid")
		}
		req.Dimensions = &d
	}
	return req, nil
}

func (f *fakeAPI) respond(w http.ResponseWriter, req seenRequest) {
	f.mu.Lock()
	dims := f.Dims
	if f.dimsAfter > 0 {
		f.Dims = f.dimsAfter
	}
	f.mu.Unlock()
	if req.Dimensions != nil {
		dims = *req.Dimensions
	}
	embs, err := hash.New(dims).Embed(context.Background(), req.Inputs)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	type item struct {
		Object    string    `json:"object"`
		Embedding []float32 `json:"embedding"`
		Index     int       `json:"index"`
	}
	data := make([]item, 0, len(embs))
	tokens := 0
	for i := len(embs) - 1; i >= 0; i-- {
		v := embs[i].Vector
		for j := range v {
			v[j] *= 3
		}
		data = append(data, item{"embedding", v, i})
		tokens += embs[i].Tokens
	}
	body := map[string]any{"object": "list", "data": data, "model": "fake"}
	if !f.OmitUsage {
		body["usage"] = map[string]int{"prompt_tokens": tokens, "total_tokens": tokens}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}
