package events

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// dataTypes are the event types a client may subscribe to.
var dataTypes = []string{
	memoryd.EventMemoryCreated, memoryd.EventMemoryUpdated, memoryd.EventMemoryDeleted,
	memoryd.EventSearchPerformed, memoryd.EventUserActivity,
	memoryd.EventSystemHealth, memoryd.EventAnalyticsUpdate,
}

// Control messages, always sent whatever `events` says. Naming them in
// `events` is allowed and changes nothing.
const (
	typeWelcome   = "welcome"
	typeRestart   = "restart"
	typeHeartbeat = "heartbeat"
	typeError     = "error"
)

// maxHeartbeat is the largest heartbeat interval a client may ask for.
const maxHeartbeat = time.Hour

// request is a parsed GET /stream.
type request struct {
	sub       subscription
	heartbeat time.Duration
	// position to resume after; "" to start at the end.
	position string
}

// acceptsEventStream reports whether the Accept header allows
// text/event-stream. No Accept header means anything is acceptable (RFC
// 9110), so plain clients work; browsers' EventSource sends
// text/event-stream and curl */*.
func acceptsEventStream(r *http.Request) bool {
	values := r.Header.Values("Accept")
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			switch mt {
			case "text/event-stream", "text/*", "*/*":
				return true
			}
		}
	}
	return false
}

func invalid(param, format string, args ...any) *memoryd.Error {
	return &memoryd.Error{Code: memoryd.EINVALID, Message: fmt.Sprintf(format, args...),
		Details: map[string]any{"parameter": param}}
}

// parseRequest reads the stream's parameters for workspace ws.
func parseRequest(r *http.Request, ws string, cfg Config) (*request, *memoryd.Error) {
	q := r.URL.Query()
	req := &request{sub: subscription{workspace: ws}, heartbeat: cfg.DefaultHeartbeat}
	types, err := parseTypes(append(q["events"], q["events[]"]...))
	if err != nil {
		return nil, err
	}
	req.sub.types = types
	if req.sub.filters, err = parseFilters(q); err != nil {
		return nil, err
	}
	if hb := q.Get("heartbeat"); hb != "" {
		if req.heartbeat, err = parseHeartbeat(hb, cfg.MinHeartbeat); err != nil {
			return nil, err
		}
	}
	// The header wins: EventSource sends it on reconnection, while the
	// query parameter still holds the position of the first connect.
	req.position = r.Header.Get("Last-Event-ID")
	if req.position == "" {
		req.position = q.Get("last_event_id")
	}
	return req, nil
}

// parseTypes reads `events` (comma-separated and/or repeated). Nil means
// every type.
func parseTypes(values []string) (map[string]bool, *memoryd.Error) {
	var types map[string]bool
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			switch {
			case t == "":
				continue
			case t == typeWelcome || t == typeRestart || t == typeHeartbeat || t == typeError:
				continue
			case !isDataType(t):
				e := invalid("events", "Unknown event type %q", t)
				e.Details["allowed"] = dataTypes
				return nil, e
			}
			if types == nil {
				types = map[string]bool{}
			}
			types[t] = true
		}
	}
	return types, nil
}

func isDataType(t string) bool {
	for _, d := range dataTypes {
		if d == t {
			return true
		}
	}
	return false
}

func parseHeartbeat(v string, min time.Duration) (time.Duration, *memoryd.Error) {
	n, err := strconv.Atoi(v)
	minSecs := int(min / time.Second)
	if err != nil || n < minSecs || time.Duration(n)*time.Second > maxHeartbeat {
		e := invalid("heartbeat", "heartbeat must be a whole number of seconds from %d to %d", minSecs, int(maxHeartbeat/time.Second))
		e.Details["minimum"] = minSecs
		e.Details["maximum"] = int(maxHeartbeat / time.Second)
		return 0, e
	}
	return time.Duration(n) * time.Second, nil
}

const maxFilters = 32

// parseFilters reads filters[key]=value pairs (the deepObject style of the
// seed's clients), or a `filters` JSON object of scalars.
func parseFilters(q map[string][]string) (map[string]string, *memoryd.Error) {
	out := map[string]string{}
	for name, vals := range q {
		if name == "filters" {
			if err := parseFilterJSON(vals, out); err != nil {
				return nil, err
			}
			continue
		}
		key, ok := strings.CutPrefix(name, "filters[")
		if !ok {
			continue
		}
		key, ok = strings.CutSuffix(key, "]")
		if !ok || key == "" || strings.ContainsAny(key, "[]") {
			return nil, invalid(name, "Filters are written filters[key]=value")
		}
		if len(vals) != 1 {
			return nil, invalid(name, "Give one value per filter key")
		}
		out[key] = vals[0]
	}
	if len(out) > maxFilters {
		return nil, invalid("filters", "At most %d filters", maxFilters)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func parseFilterJSON(vals []string, out map[string]string) *memoryd.Error {
	for _, v := range vals {
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(v), &m) != nil {
			return invalid("filters", "Filters are written filters[key]=value (or filters as a JSON object)")
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s, ok := scalarText(m[k])
			if k == "" || !ok {
				return invalid("filters", "Filter %q must be a string, number or boolean", k)
			}
			out[k] = s
		}
	}
	return nil
}

// scalarText returns a JSON scalar as the text a filter compares.
func scalarText(raw json.RawMessage) (string, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case bool, float64:
		return strings.TrimSpace(string(raw)), true
	}
	return "", false
}
