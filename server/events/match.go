package events

import (
	"bytes"
	"encoding/json"
	"strconv"

	memoryd "github.com/memoryd/memoryd/server"
)

// subscription is what one connection asked for.
type subscription struct {
	workspace string
	// types to deliver; nil means every data type.
	types map[string]bool
	// filters: field -> exact value; every one must match.
	filters map[string]string
}

// wantsType reports whether events of typ go to this connection (before
// filters). Control messages are not subject to it.
func (s *subscription) wantsType(typ string) bool {
	return s.types == nil || s.types[typ]
}

// OnStream reports whether log events of typ are sent on the stream.
// embedding.generated is in the log for webhooks only: the stream sends
// the seed's event types, which do not include it. A stream's positions
// therefore skip those events, as they skip other workspaces' events.
func OnStream(typ string) bool { return typ != memoryd.EventEmbeddingGenerated }

// matches reports whether the log event e goes to this connection.
func (s *subscription) matches(e *entry) bool {
	if e.ws != s.workspace || !OnStream(e.typ) || !s.wantsType(e.typ) {
		return false
	}
	if len(s.filters) == 0 {
		return true
	}
	return fieldsMatch(e.matchFields(), s.filters)
}

func fieldsMatch(fields map[string]json.RawMessage, filters map[string]string) bool {
	for k, want := range filters {
		raw, ok := fields[k]
		if !ok || !valueMatches(raw, want) {
			return false
		}
	}
	return true
}

// filterFields returns the fields a metadata filter is matched against:
// the payload's top-level fields, overlaid with its "metadata" object's
// fields when it has one. So filters[user_id] matches a memory's
// metadata.user_id and search.performed's user_id alike.
func filterFields(payload []byte) map[string]json.RawMessage {
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil {
		return nil
	}
	var md map[string]json.RawMessage
	if raw, ok := top["metadata"]; ok && json.Unmarshal(raw, &md) == nil {
		for k, v := range md {
			top[k] = v
		}
	}
	return top
}

// valueMatches compares a JSON value with a filter's text: strings exactly,
// numbers numerically, booleans and null by their JSON spelling; an array
// matches when any element does (filters[tags]=work).
func valueMatches(raw json.RawMessage, want string) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return false
	}
	switch raw[0] {
	case '"':
		var s string
		return json.Unmarshal(raw, &s) == nil && s == want
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return false
		}
		for _, it := range items {
			if len(bytes.TrimSpace(it)) > 0 && bytes.TrimSpace(it)[0] != '[' && valueMatches(it, want) {
				return true
			}
		}
		return false
	case '{':
		return false
	}
	if string(raw) == want {
		return true
	}
	a, err1 := strconv.ParseFloat(string(raw), 64)
	b, err2 := strconv.ParseFloat(want, 64)
	return err1 == nil && err2 == nil && a == b
}
