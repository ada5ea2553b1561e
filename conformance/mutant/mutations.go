package mutant

import (
	"net/http"
	"strings"
)

// The mutations, each paired in the tests with the checks that must catch it.

// DropIDs removes every id: line from the stream, so no message carries a
// position.
var DropIDs = Mutation{Name: "drop-ids", Event: perBlock(func(b string) []string {
	var keep []string
	for _, line := range strings.Split(b, "\n") {
		if !strings.HasPrefix(line, "id:") {
			keep = append(keep, line)
		}
	}
	return []string{strings.Join(keep, "\n")}
})}

// DuplicateEvent sends each connection's first memory.created twice.
var DuplicateEvent = Mutation{Name: "duplicate-event", Event: func() func(string) []string {
	done := false
	return func(b string) []string {
		if !done && EventType(b) == "memory.created" {
			done = true
			return []string{b, b}
		}
		return []string{b}
	}
}}

// SwapEvents holds each connection's first memory.created back until the
// next one has been sent.
var SwapEvents = Mutation{Name: "swap-events", Event: func() func(string) []string {
	var held string
	state := 0 // 0: nothing held yet, 1: holding, 2: swapped
	return func(b string) []string {
		if EventType(b) != "memory.created" || state == 2 {
			return []string{b}
		}
		if state == 0 {
			held, state = b, 1
			return nil
		}
		state = 2
		return []string{b, held}
	}
}}

// DropWelcome removes the welcome message.
var DropWelcome = Mutation{Name: "drop-welcome", Event: perBlock(func(b string) []string {
	if EventType(b) == "welcome" {
		return nil
	}
	return []string{b}
})}

// RenameDeleted sends memory.deleted under a name AsyncAPI does not know.
var RenameDeleted = Mutation{Name: "rename-deleted", Event: perBlock(func(b string) []string {
	return []string{strings.Replace(b, "event: memory.deleted", "event: memory.removed", 1)}
})}

// IgnoreLastEventID strips the resume position from stream requests, as a
// server that ignores it would behave.
var IgnoreLastEventID = Mutation{Name: "ignore-last-event-id", Request: func(r *http.Request) {
	r.Header.Del("Last-Event-ID")
	q := r.URL.Query()
	q.Del("last_event_id")
	r.URL.RawQuery = q.Encode()
}}

// StreamTextPlain labels the stream text/plain.
var StreamTextPlain = Mutation{Name: "stream-text-plain", Response: func(resp *http.Response) {
	if IsStream(resp) {
		resp.Header.Set("Content-Type", "text/plain; charset=utf-8")
	}
}}

// NotFoundShape answers 404 with an error body of another shape than the
// API's envelope.
var NotFoundShape = Mutation{Name: "404-shape", Response: func(resp *http.Response) {
	if resp.StatusCode == http.StatusNotFound {
		SetBody(resp, `{"status":404,"detail":"not found"}`)
	}
}}

// NoLocation drops the Location header of 201 Created.
var NoLocation = Mutation{Name: "no-location", Response: func(resp *http.Response) {
	if resp.StatusCode == http.StatusCreated {
		resp.Header.Del("Location")
	}
}}

// BufferedStream drops the stream's X-Accel-Buffering: no (a SHOULD).
var BufferedStream = Mutation{Name: "buffered-stream", Response: func(resp *http.Response) {
	if IsStream(resp) {
		resp.Header.Del("X-Accel-Buffering")
	}
}}

// perBlock wraps a stateless block rewrite.
func perBlock(f func(string) []string) func() func(string) []string {
	return func() func(string) []string { return f }
}

// OtherNode makes a node that never learns the other nodes' writes: the
// proxy fronts a server on a database of its own, and swaps each key for
// the same workspace's key there (keys maps one to the other), so the
// requests are authorised but see nothing written elsewhere.
func OtherNode(keys map[string]string) Mutation {
	return Mutation{Name: "other-node", Request: func(r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if other, known := keys[key]; ok && known {
			r.Header.Set("Authorization", "Bearer "+other)
		}
	}}
}
