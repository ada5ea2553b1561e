package events

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http/httputil"
	"strings"
	"testing"
	"time"
)

// The chunks a hijacked stream frames itself decode as HTTP/1.1 chunked
// framing, whatever the size of their header (the room reserved for it is
// closed up), with the response head ahead of the first one.
func TestOutputFramesChunks(t *testing.T) {
	for _, sizes := range [][]int{{1}, {15, 1}, {16, 255}, {256, 4095}, {4096, 40000}, {70000}} {
		server, client := net.Pipe()
		got := make(chan []byte, 1)
		go func() { b, _ := io.ReadAll(client); got <- b }()
		head := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		o := output{nc: server, head: []byte(head), timeout: time.Minute}
		var want bytes.Buffer
		for i, n := range sizes {
			msg := []byte(strings.Repeat(string(rune('a'+i)), n))
			want.Write(msg)
			if err := o.queue(msg); err != nil {
				t.Fatal(err)
			}
			if err := o.flush(); err != nil {
				t.Fatal(err)
			}
		}
		o.finish()
		raw := <-got
		rest, ok := bytes.CutPrefix(raw, []byte(head))
		if !ok {
			t.Fatalf("sizes %v: response starts %q", sizes, raw[:min(len(raw), 80)])
		}
		body, err := io.ReadAll(httputil.NewChunkedReader(bufio.NewReader(bytes.NewReader(rest))))
		if err != nil || !bytes.Equal(body, want.Bytes()) {
			t.Fatalf("sizes %v: decoded %d bytes (%v), want %d", sizes, len(body), err, want.Len())
		}
	}
}

// An idle connection holds no output buffer.
func TestOutputReleasesItsBuffer(t *testing.T) {
	server, client := net.Pipe()
	go func() { _, _ = io.Copy(io.Discard, client) }()
	defer server.Close()
	o := output{nc: server, timeout: time.Minute}
	if err := o.queue([]byte("data: x\n\n")); err != nil {
		t.Fatal(err)
	}
	if o.buf == nil || !o.pending() {
		t.Fatal("nothing pending after queue")
	}
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	if o.buf != nil || o.pending() {
		t.Fatal("the buffer is kept after the flush")
	}
}
