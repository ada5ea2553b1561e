package events

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// output is where a connection's bytes go. What it sends is queued in a
// pooled buffer (an idle connection holds none) and written with one call
// per batch.
//
// On a hijacked HTTP/1.1 connection (nc set) the stream frames its own
// chunks: each batch is one chunk, whose header is written into room
// reserved ahead of the data at flush time, so a batch is one write
// syscall and no copy beyond the queueing. Otherwise (HTTP/2, a writer
// that cannot be hijacked) net/http frames the response and w is flushed.
type output struct {
	nc net.Conn
	w  http.ResponseWriter
	rc *http.ResponseController

	buf  *[]byte // pending bytes from outPool; nil when nothing is pending
	room int     // where the current chunk's header room starts in *buf
	head []byte  // the response head, sent with the first batch (nc only)

	timeout   time.Duration // rolling write deadline
	renewed   time.Time     // when the write deadline was last pushed back
	lastWrite time.Time
}

const (
	// chunkRoom fits the header of any chunk up to 4 GiB.
	chunkRoom = len("ffffffff\r\n")
	// flushAt bounds a batch, so a long replay goes out in pieces.
	flushAt = 32 << 10
	// maxPooled keeps a buffer grown by an unusually large frame out of the
	// pool.
	maxPooled = 256 << 10
)

var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// lastChunk ends a chunked body.
var lastChunk = []byte("0\r\n\r\n")

// queue appends one SSE message to the pending batch.
func (o *output) queue(msg []byte) error {
	if o.buf == nil {
		o.start()
	}
	*o.buf = append(*o.buf, msg...)
	if len(*o.buf) >= flushAt {
		return o.flush()
	}
	return nil
}

// start takes a buffer and opens a batch: the response head if not sent
// yet, then room for the chunk header.
func (o *output) start() {
	o.buf = outPool.Get().(*[]byte)
	b := append((*o.buf)[:0], o.head...)
	o.head = nil
	if o.nc != nil {
		o.room = len(b)
		b = append(b, make([]byte, chunkRoom)...) // no allocation: a constant size
	}
	*o.buf = b
}

// pending reports whether anything waits to be written.
func (o *output) pending() bool { return o.buf != nil || o.head != nil }

// flush writes the pending batch, renewing the write deadline so only a
// client that accepts nothing for the timeout is dropped.
func (o *output) flush() error {
	if !o.pending() {
		return nil
	}
	if o.buf == nil {
		o.start() // only the head is pending
	}
	now := time.Now()
	if now.Sub(o.renewed) > o.timeout/8 {
		// Renewed sparingly: a deadline change is a timer update, which
		// adds up over thousands of connections.
		o.setWriteDeadline(now.Add(o.timeout))
		o.renewed = now
	}
	var err error
	if o.nc != nil {
		_, err = o.nc.Write(o.frame())
	} else if _, err = o.w.Write(*o.buf); err == nil {
		err = o.rc.Flush()
	}
	o.lastWrite = now
	o.release()
	return err
}

// frame fills in the chunk header before the batch's data and returns the
// bytes to write. A header shorter than the room leaves a gap, closed by
// moving what precedes it (the response head, on the first batch only).
func (o *output) frame() []byte {
	b := *o.buf
	n := len(b) - o.room - chunkRoom
	if n == 0 {
		return b[:o.room] // nothing but the head
	}
	var h [chunkRoom]byte
	hdr := append(strconv.AppendInt(h[:0], int64(n), 16), '\r', '\n')
	gap := chunkRoom - len(hdr)
	copy(b[o.room+gap:], hdr)
	copy(b[gap:], b[:o.room])
	b = append(b, '\r', '\n')
	*o.buf = b
	return b[gap:]
}

func (o *output) release() {
	if cap(*o.buf) <= maxPooled {
		*o.buf = (*o.buf)[:0]
		outPool.Put(o.buf)
	}
	o.buf = nil
}

func (o *output) setWriteDeadline(t time.Time) {
	if o.nc != nil {
		_ = o.nc.SetWriteDeadline(t)
	} else {
		_ = o.rc.SetWriteDeadline(t)
	}
}

// finish ends a hijacked response (the last chunk) and closes the
// connection; a net/http response ends when its handler returns.
func (o *output) finish() {
	if o.nc == nil {
		return
	}
	if o.flush() == nil {
		_, _ = o.nc.Write(lastChunk)
	}
	_ = o.nc.Close()
}
