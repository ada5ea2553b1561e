package weaviate

import (
	"encoding/json"
	"strconv"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Doc is one memory's vector with the attributes a memoryd.Filter tests.
// Stored by UpsertDocs, they let SearchFilter rank under a filter inside
// Weaviate. A Doc with only ID and Vector (what Upsert stores) matches no
// filter that names an attribute.
type Doc struct {
	ID        string
	Vector    []float32
	Type      string
	Source    string
	Tags      []string
	Metadata  map[string]any
	CreatedAt time.Time
}

// DocOf is m's Doc.
func DocOf(m *memoryd.Memory) Doc {
	return Doc{ID: m.ID, Vector: m.Embedding, Type: m.Type(), Source: m.Source(), Tags: m.Tags(),
		Metadata: m.Metadata, CreatedAt: m.CreatedAt}
}

// UpsertMemories stores the memories' vectors with their filter
// attributes (UpsertDocs of DocOf each), so that SearchFilter can rank
// under any memoryd.Filter. Memories without an embedding are refused.
func (x *Index) UpsertMemories(workspace string, ms []*memoryd.Memory) error {
	ds := make([]Doc, len(ms))
	for i, m := range ms {
		ds[i] = DocOf(m)
	}
	return x.UpsertDocs(workspace, ds)
}

// properties are d's object properties. Metadata is stored as one
// "key=value" entry per top-level scalar (metaEntry), so an equality
// filter on any key is an exact match on that list; objects and arrays
// never equal a filter value, as in the stores, so they are left out.
func (d Doc) properties() map[string]any {
	p := map[string]any{propID: d.ID}
	if d.Type != "" {
		p[propType] = d.Type
	}
	if d.Source != "" {
		p[propSource] = d.Source
	}
	if len(d.Tags) > 0 {
		p[propTags] = d.Tags
	}
	var meta []string
	for k, v := range d.Metadata {
		if e, ok := metaEntry(k, v); ok {
			meta = append(meta, e)
		}
	}
	if len(meta) > 0 {
		p[propMeta] = meta
	}
	if !d.CreatedAt.IsZero() {
		p[propCreated] = d.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	return p
}

// metaEntry encodes one metadata pair as the JSON of the key, "=", and a
// canonical JSON of the value: numbers through float64, so 1 and 1.0
// match as they do in the stores. A JSON string ends at its first
// unescaped quote, so the encoding is one to one. ok is false for values
// no filter can equal (objects, arrays).
func metaEntry(key string, v any) (string, bool) {
	var val string
	switch v := v.(type) {
	case nil:
		val = "null"
	case bool:
		val = strconv.FormatBool(v)
	case string:
		b, _ := json.Marshal(v)
		val = string(b)
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return "", false
		}
		val = number(f)
	case float64:
		val = number(v)
	case float32:
		val = number(float64(v))
	case int:
		val = number(float64(v))
	case int64:
		val = number(float64(v))
	default:
		return "", false
	}
	k, _ := json.Marshal(key)
	return string(k) + "=" + val, true
}

func number(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
