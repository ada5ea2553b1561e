package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// rawConn speaks HTTP/1.1 over one keep-alive connection, for one worker.
// The load tool shares the machine with the server it measures, so its
// own cost per request is taken from the server: net/http's client hands
// each request to two goroutines of the connection (write and read loops)
// and allocates a request, a response and their headers. This writes a
// request with one write and parses the answer in place, as wrk does.
// It handles what memoryd answers: Content-Length or chunked bodies, and
// keep-alive (a connection that fails or says "close" is redialled).
type rawConn struct {
	addr string // host:port to dial
	host string // Host header
	c    net.Conn
	r    *bufio.Reader
	req  []byte // request buffer, reused
	body []byte // response body buffer, reused
}

// rawTimeout bounds a request when its context has no earlier deadline;
// dialTimeout bounds a connect (a full accept queue retransmits the SYN
// after 1 s, then 3 s). Both are named in the errors they cause.
const (
	rawTimeout  = 30 * time.Second
	dialTimeout = 10 * time.Second
)

// do sends one request and returns the status and body; the body is
// valid until the next call.
func (rc *rawConn) do(ctx context.Context, method, path, key string, body []byte) (int, []byte, error) {
	if err := rc.dial(ctx); err != nil {
		return 0, nil, err
	}
	deadline := time.Now().Add(rawTimeout)
	d, cut := ctx.Deadline()
	if cut = cut && d.Before(deadline); cut {
		deadline = d
	}
	rc.c.SetDeadline(deadline)
	status, resp, keep, err := rc.roundTrip(method, path, key, body)
	if err != nil || !keep {
		rc.close()
	}
	if cut && errors.Is(err, os.ErrDeadlineExceeded) {
		// The context's deadline, seen by the connection first: report
		// it as the context's, which the phase does not count.
		<-ctx.Done()
		return 0, nil, ctx.Err()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("request exceeded its %s limit (rawTimeout): %w", rawTimeout, err)
	}
	return status, resp, err
}

func (rc *rawConn) dial(ctx context.Context) error {
	if rc.c != nil {
		return nil
	}
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", rc.addr)
	if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("connect exceeded its %s limit (dialTimeout): %w", dialTimeout, err)
	}
	if err != nil {
		return err
	}
	rc.c, rc.r = c, bufio.NewReaderSize(c, 16<<10)
	return nil
}

func (rc *rawConn) close() {
	if rc.c != nil {
		rc.c.Close()
		rc.c, rc.r = nil, nil
	}
}

func (rc *rawConn) roundTrip(method, path, key string, body []byte) (status int, resp []byte, keep bool, err error) {
	b := rc.req[:0]
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, rc.host...)
	b = append(b, "\r\nAuthorization: Bearer "...)
	b = append(b, key...)
	if body != nil {
		b = append(b, "\r\nContent-Type: application/json\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
	}
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	rc.req = b
	if _, err := rc.c.Write(b); err != nil {
		return 0, nil, false, err
	}
	return rc.readResponse()
}

// readResponse reads a status line, the headers memoryd sends and the
// body.
func (rc *rawConn) readResponse() (status int, body []byte, keep bool, err error) {
	line, err := rc.line()
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 201 Created"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, false, fmt.Errorf("malformed status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, nil, false, fmt.Errorf("malformed status line %q", line)
	}
	length, chunked, keep := -1, false, true
	for {
		h, err := rc.line()
		if err != nil {
			return 0, nil, false, err
		}
		if len(h) == 0 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, nil, false, fmt.Errorf("malformed Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		body, err = rc.chunks()
	case length >= 0:
		body, err = rc.fixed(length)
	case status == 204 || status == 304:
	default:
		// No length: the body runs to the end of the connection.
		keep = false
		rc.body, err = io.ReadAll(rc.r)
		body = rc.body
	}
	return status, body, keep && err == nil, err
}

// line returns the next line without its CRLF; valid until the next read.
func (rc *rawConn) line() ([]byte, error) {
	l, err := rc.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("response line too long")
		}
		return nil, err
	}
	return bytes.TrimRight(l, "\r\n"), nil
}

func (rc *rawConn) fixed(n int) ([]byte, error) {
	if cap(rc.body) < n {
		rc.body = make([]byte, n)
	}
	rc.body = rc.body[:n]
	_, err := io.ReadFull(rc.r, rc.body)
	return rc.body, err
}

func (rc *rawConn) chunks() ([]byte, error) {
	rc.body = rc.body[:0]
	for {
		l, err := rc.line()
		if err != nil {
			return nil, err
		}
		size, _, _ := bytes.Cut(l, []byte(";"))
		n, err := strconv.ParseUint(string(size), 16, 32)
		if err != nil {
			return nil, fmt.Errorf("malformed chunk size %q", l)
		}
		if n == 0 {
			for { // trailers, up to the empty line
				t, err := rc.line()
				if err != nil || len(t) == 0 {
					return rc.body, err
				}
			}
		}
		start := len(rc.body)
		rc.body = append(rc.body, make([]byte, n)...)
		if _, err := io.ReadFull(rc.r, rc.body[start:]); err != nil {
			return nil, err
		}
		if l, err := rc.line(); err != nil || len(l) != 0 {
			return nil, cmp.Or(err, errors.New("missing CRLF after a chunk"))
		}
	}
}
