package events

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// A stream over HTTP/1.1 leaves net/http once its response headers are
// decided: the handler hijacks the connection, the stream writes the
// response head and the chunked body itself, and the handler returns. That
// frees net/http's goroutine for the connection (and its stack, deep in
// the middleware), its read and write buffers and the request state: an
// idle stream is then one small goroutine blocked on its wake-ups and one
// blocked reading, to notice at once that the client left (waiting for a
// write to fail would hold the key's stream slot until the next keepalive).
// BenchmarkIdleStreamMemory reports what an idle stream costs.
//
// http.Server.Shutdown does not wait for hijacked connections: Stream.Close
// ends them, and Stream.Run waits for them before it returns.

// hijack takes the connection over, for a response with headers h. It
// returns nil, with nothing written, when the connection cannot be taken
// (HTTP/2, HTTP/1.0, a wrapper without Unwrap): the stream then goes
// through w as any response.
func hijack(w http.ResponseWriter, r *http.Request, h http.Header) (net.Conn, []byte, error) {
	if !r.ProtoAtLeast(1, 1) || r.ProtoMajor != 1 {
		return nil, nil, nil
	}
	// What the client sent beyond the request (a pipelined request) is
	// dropped with net/http's buffers: a stream answers one request only,
	// and the connection closes when it ends.
	nc, _, err := http.NewResponseController(w).Hijack()
	if errors.Is(err, http.ErrNotSupported) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return nc, responseHead(h), nil
}

// responseHead is the status line and headers of a hijacked stream. The
// connection closes when the stream ends, so it says so.
func responseHead(h http.Header) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(&b)
	b.WriteString("Transfer-Encoding: chunked\r\nConnection: close\r\nDate: ")
	b.WriteString(time.Now().UTC().Format(http.TimeFormat))
	b.WriteString("\r\n\r\n")
	return b.Bytes()
}

// watchClose cancels the stream when the client closes the connection
// (or the stream closes it). A stream reads nothing after the request, so
// anything the client sends is discarded.
func watchClose(nc net.Conn, cancel context.CancelCauseFunc) {
	var b [64]byte
	for {
		if _, err := nc.Read(b[:]); err != nil {
			cancel(nil)
			return
		}
	}
}
