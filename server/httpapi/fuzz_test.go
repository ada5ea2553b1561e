package httpapi_test

import (
	"bytes"
	"net/http"
	"testing"
)

// Bad input never yields a 5xx: arbitrary bodies through the real stack.
func fuzzBody(f *testing.F, path string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	e := newEnv(f, envOpt{maxTextBytes: 2000})
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _ := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.keyA)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %q -> %d", path, body, res.StatusCode)
		}
	})
}

func FuzzCreateMemoryBody(f *testing.F) {
	fuzzBody(f, "/api/v1/memory",
		`{"text":"hello"}`, `{"text":"x","metadata":{"type":"a","tags":["b"],"timestamp":"2024-01-15T10:30:00Z"}}`,
		`{"id":"m1","text":"x","embedding":[0.1,0.2]}`, `{"text":"\u0000"}`, `{"text":1e400}`, `[]`, `null`,
		`{"text":"x","embedding":[1e39]}`, `{"text":"x","metadata":{"a":{"b":[1,{"c":null}]}}}`)
}

func FuzzSearchBody(f *testing.F) {
	fuzzBody(f, "/api/v1/memory/search",
		`{"query":"hello"}`, `{"query":"x","mode":"hybrid","filters":{"tags":["a"],"metadata":{"k":1}}}`,
		`{"query":"\"AND OR NEAR(\" *"}`, `{"embedding":[0.5],"limit":100}`, `{"query":"x","threshold":-1}`)
}
