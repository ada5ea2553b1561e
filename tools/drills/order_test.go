package drills

import (
	"encoding/base64"
	"testing"
)

func TestCompare(t *testing.T) {
	log := []int64{3, 5, 8, 9}
	for _, tc := range []struct {
		name string
		got  []int64
		want streamCheck
	}{
		{"whole", []int64{3, 5, 8, 9}, streamCheck{Expected: 4, Received: 4}},
		{"gap", []int64{3, 8, 9}, streamCheck{Expected: 4, Received: 3, Gaps: 1}},
		{"duplicate after a resume", []int64{3, 5, 5, 8, 9}, streamCheck{Expected: 4, Received: 5, Duplicates: 1}},
		{"out of order", []int64{3, 8, 5, 9}, streamCheck{Expected: 4, Received: 4, OutOfOrder: 1}},
		{"not in the log", []int64{3, 4, 5, 8, 9}, streamCheck{Expected: 4, Received: 5, Foreign: 1}},
	} {
		got := compare(log, tc.got)
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
		if got.ok() != (tc.name == "whole") {
			t.Errorf("%s: ok() = %v", tc.name, got.ok())
		}
	}
}

func TestSeqOf(t *testing.T) {
	pos := base64.RawURLEncoding.EncodeToString([]byte("01HEPOCH.42"))
	if s, err := seqOf(pos); err != nil || s != 42 {
		t.Fatalf("seqOf = %d, %v", s, err)
	}
	if _, err := seqOf("!!"); err == nil {
		t.Fatal("a malformed position decoded")
	}
}

func TestUnavailable(t *testing.T) {
	h := func(v string) map[string][]string { return map[string][]string{"Retry-After": {v}} }
	good := reply{status: 503, header: h("5"), body: []byte(`{"error":"UNAVAILABLE","message":"The database is unreachable; retry later"}`)}
	if ok, why := good.unavailable(); !ok {
		t.Fatal(why)
	}
	for name, r := range map[string]reply{
		"500":            {status: 500, header: h("5"), body: good.body},
		"no Retry-After": {status: 503, header: h(""), body: good.body},
		"other code":     {status: 503, header: h("5"), body: []byte(`{"error":"INTERNAL","message":"x"}`)},
		"not JSON":       {status: 503, header: h("5"), body: []byte(`Service Unavailable`)},
	} {
		if ok, _ := r.unavailable(); ok {
			t.Errorf("%s passed as the documented 503", name)
		}
	}
}
