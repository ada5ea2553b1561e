// Package cutproxy is a reverse proxy that cuts Server-Sent Events streams:
// it forwards a memoryd's answers unchanged, except that a text/event-stream
// response is aborted right after every N-th event carrying an `id:` field,
// whatever follows it in the same burst. The SDK tests put it between a
// client and a real memoryd to prove that the client resumes a stream
// broken mid-burst with no gap and no duplicate.
package cutproxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/url"
)

// errCut ends a proxied stream on purpose; the proxy then aborts the
// client's connection.
var errCut = errors.New("cutproxy: stream cut on purpose")

// New returns a reverse proxy to target (a memoryd's root URL). Each
// event stream it relays is cut after its everyN-th, 2*everyN-th, ...
// event with an id (counted per connection); everyN < 1 never cuts.
// Responses are flushed as they arrive, so streams are not delayed.
func New(target *url.URL, everyN int) http.Handler {
	p := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
		},
		FlushInterval: -1,
		ModifyResponse: func(res *http.Response) error {
			if everyN > 0 && isEventStream(res.Header.Get("Content-Type")) {
				res.Body = &cutter{src: res.Body, r: bufio.NewReader(res.Body), every: everyN}
			}
			return nil
		},
		// The cut is deliberate: it is not worth a log line per stream.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	return p
}

func isEventStream(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "text/event-stream"
}

// cutter relays an event stream line by line and fails with errCut once
// the every-th event with an id has been relayed whole.
type cutter struct {
	src   io.ReadCloser
	r     *bufio.Reader
	every int

	pending []byte // read, not yet returned
	hasID   bool   // the event being read has an id field
	midLine bool   // the last chunk read did not end its line
	count   int    // events with an id relayed so far
	cut     bool   // the next read fails
}

func (c *cutter) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(c.pending) == 0 {
			if c.cut {
				break
			}
			// Only block for more when nothing was gathered yet, so a burst
			// is relayed as it comes.
			if n > 0 && c.r.Buffered() == 0 {
				break
			}
			line, err := c.r.ReadSlice('\n')
			if len(line) == 0 && err != nil {
				if n > 0 {
					break
				}
				return 0, err
			}
			c.observe(line, err == nil)
			c.pending = line
		}
		k := copy(p[n:], c.pending)
		c.pending = c.pending[k:]
		n += k
	}
	if n == 0 && c.cut {
		return 0, errCut
	}
	return n, nil
}

// observe tracks event boundaries: a complete empty line ends an event.
// A line longer than the reader's buffer comes in chunks; only a line's
// first chunk names its field.
func (c *cutter) observe(line []byte, complete bool) {
	start := !c.midLine
	c.midLine = !complete
	if !start || !complete && !bytes.HasPrefix(line, []byte("id:")) {
		return
	}
	trimmed := bytes.TrimRight(line, "\r\n")
	switch {
	case len(trimmed) == 0:
		if c.hasID {
			c.count++
			if c.count%c.every == 0 {
				c.cut = true
			}
		}
		c.hasID = false
	case bytes.Equal(trimmed, []byte("id")) || bytes.HasPrefix(trimmed, []byte("id:")):
		c.hasID = true
	}
}

func (c *cutter) Close() error { return c.src.Close() }
