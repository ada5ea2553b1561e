// Package mutant breaks a working memoryd on purpose, one thing at a time,
// behind a reverse proxy: its tests show that the conformance suite notices
// each break (a suite that passes everything proves nothing).
package mutant

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
)

// Mutation is one deliberate break. Each hook may be nil.
type Mutation struct {
	Name string
	// Request rewrites the request on its way to the server.
	Request func(*http.Request)
	// Response rewrites a response's status and headers, and may replace
	// its body.
	Response func(*http.Response)
	// Event rewrites the event stream of GET /stream, one block (the
	// lines of an event or comment, without the blank line ending it) at
	// a time; it returns the blocks to send instead. It is called afresh
	// for every connection.
	Event func() func(block string) []string
}

// Proxy returns a reverse proxy to target that applies m. It flushes
// every write, so the stream stays live.
func Proxy(target *url.URL, m Mutation) http.Handler {
	return &httputil.ReverseProxy{
		FlushInterval: -1,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			if m.Request != nil {
				m.Request(pr.Out)
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			if m.Response != nil {
				m.Response(resp)
			}
			if m.Event != nil && IsStream(resp) {
				resp.Body = newBlockReader(resp.Body, m.Event())
			}
			return nil
		},
	}
}

// IsStream reports whether resp is an open GET /stream.
func IsStream(resp *http.Response) bool {
	return resp.StatusCode == http.StatusOK && strings.HasSuffix(resp.Request.URL.Path, "/stream")
}

// SetBody replaces a response's body (and its length).
func SetBody(resp *http.Response, body string) {
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

// EventType is the event field of a block ("" for a comment or a block
// without one).
func EventType(block string) string {
	for _, line := range strings.Split(block, "\n") {
		if v, ok := strings.CutPrefix(line, "event:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// blockReader re-frames an event stream through a per-block rewrite. It
// assumes LF line ends, which is what memoryd sends.
type blockReader struct {
	src     io.ReadCloser
	r       *bufio.Reader
	rewrite func(string) []string
	block   []string
	out     bytes.Buffer
}

func newBlockReader(src io.ReadCloser, rewrite func(string) []string) *blockReader {
	return &blockReader{src: src, r: bufio.NewReader(src), rewrite: rewrite}
}

// Read returns rewritten blocks; it reads from the server until at least
// one whole block is ready, so every flush carries whole events.
func (b *blockReader) Read(p []byte) (int, error) {
	for b.out.Len() == 0 {
		line, err := b.r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		line = strings.TrimRight(line, "\n")
		if line != "" {
			b.block = append(b.block, line)
			continue
		}
		for _, blk := range b.rewrite(strings.Join(b.block, "\n")) {
			b.out.WriteString(blk + "\n\n")
		}
		b.block = b.block[:0]
	}
	return b.out.Read(p)
}

func (b *blockReader) Close() error { return b.src.Close() }
