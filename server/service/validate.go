package service

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	memoryd "github.com/memoryd/memoryd/server"
)

// Every input is checked here, before anything is written or queried: a
// row the store accepted but cannot filter, read back or load into the
// index at the next start would break the workspace, or the service, long
// after the request that wrote it. The HTTP layer's schema says the same
// where JSON Schema can; these checks hold for every caller.

// invalid is the 400 for one bad field, with details.fields naming it as
// the request validator's errors do, plus any limit as extra details.
func invalid(field, reason string, extra ...any) *memoryd.Error {
	d := map[string]any{"fields": map[string]any{field: reason}}
	for i := 0; i+1 < len(extra); i += 2 {
		d[extra[i].(string)] = extra[i+1]
	}
	return &memoryd.Error{Code: memoryd.EINVALID, Message: "Invalid " + field + ": " + reason, Details: d}
}

// checkString refuses what the databases would rewrite or refuse: invalid
// UTF-8 and U+0000 (PostgreSQL drops it from text and refuses it in JSON).
func checkString(field, v string) error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return invalid(field, "contains U+0000")
	}
	return nil
}

// checkText enforces the text size limit and checkString.
func (s *Service) checkText(text string) error {
	if len(text) > s.maxTextBytes {
		return &memoryd.Error{Code: memoryd.ETOOLARGE,
			Message: "Text is larger than the server accepts",
			Details: map[string]any{"max_text_bytes": s.maxTextBytes, "text_bytes": len(text)}}
	}
	if text == "" {
		return invalid("text", "must not be empty")
	}
	return checkString("text", text)
}

// reservedID is the id that names another endpoint: /memory/search.
const reservedID = "search"

// checkID accepts the ids that read back at /memory/{id}: the characters
// of the spec's MemoryID pattern, not only dots ("." and ".." are path
// segments that clients and routers resolve away), and not the path of
// another endpoint.
func checkID(id string) error {
	if len(id) > MaxIDLength {
		return invalid("id", fmt.Sprintf("is longer than %d characters", MaxIDLength), "max_id_length", MaxIDLength)
	}
	dots := true
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isIDByte(c) {
			return invalid("id", "may contain only letters, digits and _ . : -")
		}
		dots = dots && c == '.'
	}
	if dots {
		return invalid("id", "must contain a character other than '.'")
	}
	if id == reservedID {
		return invalid("id", `is reserved: /memory/search is the search endpoint`)
	}
	return nil
}

func isIDByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '-'
}

// checkVector accepts a vector the index can rank: the embedder's
// dimension (that of every vector in a workspace), finite, not all zeros
// (cosine similarity is undefined for it).
func (s *Service) checkVector(field string, vec []float32) error {
	if len(vec) != s.embedder.Dims() {
		return &memoryd.Error{Code: memoryd.EINVALID,
			Message: "Embedding has the wrong dimension",
			Details: map[string]any{"field": field, "expected_dimensions": s.embedder.Dims(), "got_dimensions": len(vec)}}
	}
	var sum float64
	for _, v := range vec {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return &memoryd.Error{Code: memoryd.EINVALID, Message: "Embedding contains a non-finite number",
				Details: map[string]any{"field": field}}
		}
		sum += f * f
	}
	if sum == 0 {
		return &memoryd.Error{Code: memoryd.EINVALID, Message: "Embedding must not be all zeros",
			Details: map[string]any{"field": field}}
	}
	return nil
}

// checkMetadata bounds the metadata's keys, nesting and encoded size, and
// checks its strings and the well-known keys' types.
func checkMetadata(md map[string]any) error {
	if md == nil {
		return nil
	}
	if len(md) > MaxMetadataKeys {
		return invalid("metadata", fmt.Sprintf("has more than %d keys", MaxMetadataKeys), "max_metadata_keys", MaxMetadataKeys)
	}
	if err := walkMetadata(md, 1); err != nil {
		return err
	}
	b, err := json.Marshal(md)
	if err != nil {
		return invalid("metadata", "is not a JSON object")
	}
	if len(b) > MaxMetadataBytes {
		return invalid("metadata", fmt.Sprintf("is larger than %d bytes as JSON", MaxMetadataBytes),
			"max_metadata_bytes", MaxMetadataBytes, "metadata_bytes", len(b))
	}
	return checkWellKnown(md)
}

// walkMetadata checks v, found at nesting level depth, and what it holds.
// It stops at the first object or array beyond MaxMetadataDepth, so a
// deep document costs no more than the limit.
func walkMetadata(v any, depth int) error {
	tooDeep := func() error {
		return invalid("metadata", fmt.Sprintf("nests deeper than %d levels", MaxMetadataDepth),
			"max_metadata_depth", MaxMetadataDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		if depth > MaxMetadataDepth {
			return tooDeep()
		}
		for k, e := range x {
			if err := checkString("metadata", k); err != nil {
				return err
			}
			if err := walkMetadata(e, depth+1); err != nil {
				return err
			}
		}
	case []any:
		if depth > MaxMetadataDepth {
			return tooDeep()
		}
		for _, e := range x {
			if err := walkMetadata(e, depth+1); err != nil {
				return err
			}
		}
	case []string:
		for _, e := range x {
			if err := checkString("metadata", e); err != nil {
				return err
			}
		}
	case string:
		return checkString("metadata", x)
	case float64:
		return finite("metadata", x)
	case float32:
		return finite("metadata", float64(x))
	}
	return nil
}

func finite(field string, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return invalid(field, "contains a non-finite number")
	}
	return nil
}

// checkWellKnown checks the indexed keys: type and source strings, tags a
// list of strings, timestamp an RFC 3339 date-time.
func checkWellKnown(md map[string]any) error {
	for _, k := range []string{"type", "source"} {
		if v, ok := md[k]; ok {
			if err := checkLabel("metadata."+k, v); err != nil {
				return err
			}
		}
	}
	if v, ok := md["timestamp"]; ok {
		s, isStr := v.(string)
		if _, err := time.Parse(time.RFC3339, s); !isStr || err != nil {
			return invalid("metadata.timestamp", "must be an RFC 3339 date-time")
		}
	}
	tags, ok := md["tags"]
	if !ok {
		return nil
	}
	var list []any
	switch t := tags.(type) {
	case []any:
		list = t
	case []string:
		for _, s := range t {
			list = append(list, s)
		}
	default:
		return invalid("metadata.tags", "must be a list of strings")
	}
	if len(list) > MaxTags {
		return invalid("metadata.tags", fmt.Sprintf("has more than %d tags", MaxTags), "max_tags", MaxTags)
	}
	for _, tag := range list {
		if err := checkLabel("metadata.tags", tag); err != nil {
			return err
		}
	}
	return nil
}

func checkLabel(field string, v any) error {
	s, ok := v.(string)
	if !ok {
		return invalid(field, "must be a string")
	}
	if utf8.RuneCountInString(s) > MaxLabelChars {
		return invalid(field, fmt.Sprintf("is longer than %d characters", MaxLabelChars), "max_chars", MaxLabelChars)
	}
	return nil
}

// checkFilter bounds a list's or a search's filters: the number of terms,
// each string's length, and metadata values to the scalars the stores
// compare.
func checkFilter(f memoryd.Filter) error {
	if len(f.Tags) > MaxFilterTags {
		return invalid("tags", fmt.Sprintf("filters on more than %d tags", MaxFilterTags), "max_filter_tags", MaxFilterTags)
	}
	if len(f.Metadata) > MaxFilterMetadata {
		return invalid("metadata", fmt.Sprintf("filters on more than %d keys", MaxFilterMetadata),
			"max_filter_metadata", MaxFilterMetadata)
	}
	if err := filterString("type", f.Type); err != nil {
		return err
	}
	if err := filterString("source", f.Source); err != nil {
		return err
	}
	for _, t := range f.Tags {
		if err := filterString("tags", t); err != nil {
			return err
		}
	}
	for k, v := range f.Metadata {
		if err := filterString("metadata", k); err != nil {
			return err
		}
		if err := filterValue(k, v); err != nil {
			return err
		}
	}
	return nil
}

func filterString(field, v string) error {
	if utf8.RuneCountInString(v) > MaxFilterChars {
		return invalid(field, fmt.Sprintf("filter is longer than %d characters", MaxFilterChars), "max_filter_chars", MaxFilterChars)
	}
	return checkString(field, v)
}

func filterValue(key string, v any) error {
	switch x := v.(type) {
	case string:
		return filterString("metadata", x)
	case float64:
		return finite("metadata", x)
	case float32:
		return finite("metadata", float64(x))
	case bool, nil, int, int64, json.Number:
		return nil
	}
	return invalid("metadata", fmt.Sprintf("filter on %q must be a string, number, boolean or null", key))
}

// checkSearch checks a search before it embeds or queries anything.
func (s *Service) checkSearch(q SearchQuery) error {
	if len(q.Query) > MaxQueryChars && utf8.RuneCountInString(q.Query) > MaxQueryChars {
		return invalid("query", fmt.Sprintf("is longer than %d characters", MaxQueryChars), "max_query_chars", MaxQueryChars)
	}
	if err := checkString("query", q.Query); err != nil {
		return err
	}
	if q.Query == "" && q.Embedding == nil {
		return invalid("query", "is required (or an embedding)")
	}
	if q.Embedding != nil {
		if err := s.checkVector("embedding", q.Embedding); err != nil {
			return err
		}
	}
	if q.Limit < 1 || q.Limit > MaxSearchLimit {
		return invalid("limit", fmt.Sprintf("must be 1 to %d", MaxSearchLimit))
	}
	switch q.Mode {
	case ModeSemantic, ModeKeyword, ModeHybrid:
	default:
		return invalid("mode", "must be semantic, keyword or hybrid")
	}
	if err := checkAlpha(q); err != nil {
		return err
	}
	return checkFilter(q.Filter)
}

// checkAlpha: alpha is a weight between 0 and 1, and only a hybrid search
// has two rankings to weigh.
func checkAlpha(q SearchQuery) error {
	if q.Alpha == nil {
		return nil
	}
	if q.Mode != ModeHybrid {
		return invalid("alpha", "applies to hybrid search only")
	}
	if a := *q.Alpha; !(a >= 0 && a <= 1) {
		return invalid("alpha", "must be between 0 and 1")
	}
	return nil
}

// eventQuery is the query as search.performed carries it: at most
// MaxEventQueryBytes, cut at a character boundary.
func eventQuery(q string) string {
	if len(q) <= MaxEventQueryBytes {
		return q
	}
	cut := MaxEventQueryBytes
	for cut > 0 && !utf8.RuneStart(q[cut]) {
		cut--
	}
	return q[:cut]
}
