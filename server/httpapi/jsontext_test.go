package httpapi

import (
	"encoding/json"
	"testing"
)

func TestCheckJSONText(t *testing.T) {
	for body, ok := range map[string]bool{
		`{"text":"plain"}`:                true,
		`{"text":"caf\u00e9 é"}`:          true,
		`{"text":"\ud83d\ude00 pair"}`:    true,
		`{"text":"\\ud800 escaped"}`:      true, // a backslash, then "ud800"
		`{"text":"\\\ud83d\ude00"}`:       true,
		`{"text":"\u0000"}`:               true, // valid here; the service refuses U+0000
		"{\"text\":\"bad \xff byte\"}":    false,
		"{\"text\":\"cut \xe2\x82\"}":     false,
		`{"text":"lone \ud800"}`:          false,
		`{"text":"lone \udc00 low"}`:      false,
		`{"text":"\ud800\u0041"}`:         false,
		`{"text":"\ud800\ud800"}`:         false,
		`{"a":{"\uDBFF":1}}`:              false,
		`{"text":"\\\ud800"}`:             false,
		`{"text":"end \ud800","n":"\\u"}`: false,
	} {
		if !json.Valid([]byte(body)) && ok {
			t.Fatalf("test body %q is not JSON", body)
		}
		if err := checkJSONText([]byte(body)); (err == nil) != ok {
			t.Errorf("checkJSONText(%q) = %v, want ok=%v", body, err, ok)
		}
	}
}
