// Package sse parses a text/event-stream following the WHATWG HTML
// "event stream interpretation" processing model, strictly enough for a
// conformance suite: it reports comments (so keepalives are observable),
// the retry field, the last event id as a client would track it, and it
// never dispatches an event that was not terminated by a blank line.
//
// https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// Event is one dispatched event.
type Event struct {
	// Type is the event field, "message" when the event had none.
	Type string
	// Data is the data buffer with its final newline removed.
	Data string
	// ID is the last event ID buffer at dispatch time, as a browser's
	// MessageEvent.lastEventId would report it.
	ID string
	// IDSet reports whether this event itself carried a (valid) id field.
	IDSet bool
}

// Item is one thing read from the stream: an event, a comment, or a retry
// value. Exactly one of Event, Comment and Retry is meaningful, by Kind.
type Item struct {
	Kind    Kind
	Event   Event
	Comment string // the line after ':' (leading space kept as sent minus one optional space)
	Retry   int    // reconnection time in milliseconds
}

// Kind says what an Item is.
type Kind int

// The kinds of Item.
const (
	KindEvent Kind = iota + 1
	KindComment
	KindRetry
)

// Reader reads items from an event stream.
type Reader struct {
	r       *bufio.Reader
	started bool // BOM handled
	afterCR bool // the last terminator was a CR
	pending []Item

	data      bytes.Buffer
	eventType string
	lastID    string
	idSet     bool
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// LastEventID is the last event ID buffer: what a client would send as
// Last-Event-ID when reconnecting now.
func (p *Reader) LastEventID() string { return p.lastID }

// Next returns the next item. At the end of the stream it returns io.EOF;
// an event that was not terminated by a blank line is discarded, as the
// processing model requires.
func (p *Reader) Next() (Item, error) {
	for len(p.pending) == 0 {
		line, err := p.readLine()
		if err != nil {
			return Item{}, err
		}
		p.processLine(line)
	}
	it := p.pending[0]
	p.pending = p.pending[1:]
	return it, nil
}

// NextEvent returns the next event, skipping comments and retry items.
func (p *Reader) NextEvent() (Event, error) {
	for {
		it, err := p.Next()
		if err != nil {
			return Event{}, err
		}
		if it.Kind == KindEvent {
			return it.Event, nil
		}
	}
}

// readLine returns one line without its terminator (CRLF, LF or CR). A
// final line without a terminator is not a line: EOF is returned instead.
func (p *Reader) readLine() (string, error) {
	if !p.started {
		p.started = true
		if b, err := p.r.Peek(3); err == nil && string(b) == "\xEF\xBB\xBF" {
			_, _ = p.r.Discard(3)
		}
	}
	var sb strings.Builder
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return "", io.EOF
			}
			return "", err
		}
		if p.afterCR {
			// CRLF is one terminator. Remembering the CR instead of peeking
			// keeps a CR-terminated line from waiting on the next byte.
			p.afterCR = false
			if c == '\n' {
				continue
			}
		}
		switch c {
		case '\n':
			return sb.String(), nil
		case '\r':
			p.afterCR = true
			return sb.String(), nil
		default:
			sb.WriteByte(c)
		}
	}
}

func (p *Reader) processLine(line string) {
	if line == "" {
		p.dispatch()
		return
	}
	if line[0] == ':' {
		p.pending = append(p.pending, Item{Kind: KindComment, Comment: strings.TrimPrefix(line[1:], " ")})
		return
	}
	field, value := line, ""
	if i := strings.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], strings.TrimPrefix(line[i+1:], " ")
	}
	p.processField(field, value)
}

func (p *Reader) processField(field, value string) {
	switch field {
	case "event":
		p.eventType = value
	case "data":
		p.data.WriteString(value)
		p.data.WriteByte('\n')
	case "id":
		if !strings.ContainsRune(value, 0) {
			p.lastID = value
			p.idSet = true
		}
	case "retry":
		if n, ok := digits(value); ok {
			p.pending = append(p.pending, Item{Kind: KindRetry, Retry: n})
		}
	}
	// Any other field is ignored.
}

// digits parses value when it consists only of ASCII digits.
func digits(value string) (int, bool) {
	if value == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<31)/10 {
			return 0, false // absurd value; treat as invalid rather than overflow
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func (p *Reader) dispatch() {
	idSet := p.idSet
	p.idSet = false
	typ := p.eventType
	p.eventType = ""
	if p.data.Len() == 0 {
		// Empty data buffer: reset the buffers, dispatch nothing.
		return
	}
	data := p.data.String()
	p.data.Reset()
	data = strings.TrimSuffix(data, "\n")
	if typ == "" {
		typ = "message"
	}
	p.pending = append(p.pending, Item{Kind: KindEvent, Event: Event{Type: typ, Data: data, ID: p.lastID, IDSet: idSet}})
}
