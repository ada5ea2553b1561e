package events

import (
	"bytes"
	"strconv"
)

// frame returns one SSE message: id, event, then the data lines. A payload
// holding line breaks is split over several data lines, which the client
// joins back with "\n" (compact JSON has none; this only keeps a stray one
// from ending the message early).
func frame(id, event string, data []byte) []byte {
	b := make([]byte, 0, len(id)+len(event)+len(data)+24)
	return appendFrame(b, id, event, data)
}

func appendFrame(b []byte, id, event string, data []byte) []byte {
	b = append(b, "id: "...)
	b = append(b, id...)
	b = append(b, "\nevent: "...)
	b = append(b, event...)
	b = append(b, '\n')
	for {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			break
		}
		b = append(b, "data: "...)
		b = append(b, data[:i]...)
		b = append(b, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	b = append(b, "data: "...)
	b = append(b, data...)
	return append(b, '\n', '\n')
}

// retryFrame advises the client's reconnection delay.
func retryFrame(ms int64) []byte {
	return []byte("retry: " + strconv.FormatInt(ms, 10) + "\n\n")
}

var keepaliveFrame = []byte(": keepalive\n\n")
