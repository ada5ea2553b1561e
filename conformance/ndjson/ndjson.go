// Package ndjson lets kin-openapi check NDJSON bodies (the export): the
// document gives the schema of one line, and every line must match it.
package ndjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// MediaType is the NDJSON media type of the document.
const MediaType = "application/x-ndjson"

var once sync.Once

// Register installs the decoder in openapi3filter, once per process.
func Register() {
	once.Do(func() { openapi3filter.RegisterBodyDecoder(MediaType, decode) })
}

// decode checks each line against the line schema and hands the
// validator a value that stands for them all: the first line, or, for an
// empty body (an empty workspace), a value built to pass, since the
// validator always checks one value.
func decode(body io.Reader, _ http.Header, schema *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var first any
	n := 0
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		n++
		var v any
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, fmt.Errorf("line %d is not JSON: %w", n, err)
		}
		if err := schema.Value.VisitJSON(v, openapi3.VisitAsResponse()); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if first == nil {
			first = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if first == nil {
		return placeholder(schema.Value), nil
	}
	return first, nil
}

// placeholder is a value with only the schema's required properties,
// each the simplest value of its type.
func placeholder(s *openapi3.Schema) any {
	switch {
	case s.Type.Is("object"):
		m := map[string]any{}
		for _, name := range s.Required {
			if p := s.Properties[name]; p != nil && p.Value != nil {
				m[name] = placeholder(p.Value)
			}
		}
		return m
	case s.Type.Is("array"):
		return []any{}
	case s.Type.Is("integer"), s.Type.Is("number"):
		return float64(0)
	case s.Type.Is("boolean"):
		return false
	case s.Format == "date-time":
		return "1970-01-01T00:00:00Z"
	}
	return "a"
}
