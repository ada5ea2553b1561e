package mcp

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/jsonschema-go/jsonschema"

	"github.com/memoryd/memoryd/gen/api"
)

// The tools' input schemas are derived from the REST API's request schemas
// in spec/openapi.yaml (embedded in gen/api), so a tool takes the same
// fields, types, limits and descriptions as the endpoint it mirrors. Client
// vectors (embedding) are left out: a model cannot write one, and the
// schema would cost it context for nothing.

// schemas holds one input schema per tool.
type schemas struct {
	store, search, get, list, update, delete *jsonschema.Schema
}

// inputSchemas reads the spec and derives the tools' input schemas.
func inputSchemas() (*schemas, error) {
	doc, err := api.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("reading the API spec: %w", err)
	}
	comp := func(name string) (*openapi3.Schema, error) {
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("spec has no schema %s", name)
		}
		return ref.Value, nil
	}
	var out schemas
	id, err := comp("MemoryID")
	if err != nil {
		return nil, err
	}
	idOnly := func() *jsonschema.Schema {
		return object(map[string]*jsonschema.Schema{"id": convert(id)}, "id")
	}
	out.get, out.delete = idOnly(), idOnly()
	if out.store, err = fromComponent(comp, "CreateMemoryRequest"); err != nil {
		return nil, err
	}
	if out.update, err = fromComponent(comp, "UpdateMemoryRequest"); err != nil {
		return nil, err
	}
	// The id travels in the path in REST; here it is an argument. "Change
	// at least one field" is checked by the tool, since the id now counts
	// as a property.
	out.update.Properties["id"] = convert(id)
	out.update.Required = append([]string{"id"}, out.update.Required...)
	out.update.MinProperties = nil
	out.update.PropertyOrder = append([]string{"id"}, without(out.update.PropertyOrder, "id")...)
	if out.search, err = fromComponent(comp, "SearchRequest"); err != nil {
		return nil, err
	}
	// Without a client vector, the query text is what a search needs (the
	// body's description says "query or embedding").
	out.search.Required = []string{"query"}
	out.search.Description = ""
	if out.list, err = listSchema(doc); err != nil {
		return nil, err
	}
	return &out, nil
}

// fromComponent converts a request body schema, without its embedding.
func fromComponent(comp func(string) (*openapi3.Schema, error), name string) (*jsonschema.Schema, error) {
	s, err := comp(name)
	if err != nil {
		return nil, err
	}
	out := convert(s)
	delete(out.Properties, "embedding")
	out.Required = without(out.Required, "embedding")
	out.PropertyOrder = order(out.Properties)
	return out, nil
}

// listSchema turns GET /memory's query parameters into an object schema:
// each parameter's schema, with the parameter's description. Embeddings
// are never listed (see above), so include_embedding is left out.
func listSchema(doc *openapi3.T) (*jsonschema.Schema, error) {
	item := doc.Paths.Find("/memory")
	if item == nil || item.Get == nil {
		return nil, fmt.Errorf("spec has no GET /memory")
	}
	props := map[string]*jsonschema.Schema{}
	var names []string
	for _, ref := range item.Get.Parameters {
		p := ref.Value
		if p == nil || p.In != openapi3.ParameterInQuery || p.Name == "include_embedding" || p.Schema == nil {
			continue
		}
		s := convert(p.Schema.Value)
		if p.Description != "" {
			s.Description = p.Description
		}
		props[p.Name] = s
		names = append(names, p.Name)
	}
	out := object(props)
	out.PropertyOrder = names
	return out, nil
}

// object is a closed object schema: like the API's request bodies, a tool
// refuses arguments it does not know.
func object(props map[string]*jsonschema.Schema, required ...string) *jsonschema.Schema {
	return &jsonschema.Schema{Type: "object", Properties: props, Required: required,
		AdditionalProperties: &jsonschema.Schema{Not: &jsonschema.Schema{}}, PropertyOrder: order(props)}
}

// convert turns an OpenAPI 3.0 schema, its references resolved, into a
// JSON Schema with the keywords both share. OpenAPI's own keywords
// (nullable, discriminator, x-*) are not used by the request schemas.
func convert(s *openapi3.Schema) *jsonschema.Schema {
	out := &jsonschema.Schema{Title: s.Title, Description: s.Description, Format: s.Format, Pattern: s.Pattern,
		Enum: s.Enum, Minimum: s.Min, Maximum: s.Max, MultipleOf: s.MultipleOf, Required: s.Required}
	if s.Type != nil {
		if types := s.Type.Slice(); len(types) == 1 {
			out.Type = types[0]
		} else {
			out.Types = types
		}
	}
	if s.Default != nil {
		out.Default, _ = json.Marshal(s.Default)
	}
	out.MinLength, out.MaxLength = lowBound(s.MinLength), highBound(s.MaxLength)
	out.MinItems, out.MaxItems = lowBound(s.MinItems), highBound(s.MaxItems)
	out.MinProperties, out.MaxProperties = lowBound(s.MinProps), highBound(s.MaxProps)
	if s.Items != nil && s.Items.Value != nil {
		out.Items = convert(s.Items.Value)
	}
	if len(s.Properties) > 0 {
		out.Properties = map[string]*jsonschema.Schema{}
		for name, p := range s.Properties {
			if p != nil && p.Value != nil {
				out.Properties[name] = convert(p.Value)
			}
		}
		out.PropertyOrder = order(out.Properties)
	}
	switch ap := s.AdditionalProperties; {
	case ap.Schema != nil && ap.Schema.Value != nil:
		out.AdditionalProperties = convert(ap.Schema.Value)
	case ap.Has != nil && !*ap.Has:
		out.AdditionalProperties = &jsonschema.Schema{Not: &jsonschema.Schema{}}
	case ap.Has != nil && *ap.Has:
		out.AdditionalProperties = &jsonschema.Schema{}
	}
	return out
}

func lowBound(n uint64) *int {
	if n == 0 {
		return nil
	}
	v := int(n)
	return &v
}

func highBound(n *uint64) *int {
	if n == nil {
		return nil
	}
	v := int(*n)
	return &v
}

func without(list []string, name string) []string {
	var out []string
	for _, s := range list {
		if s != name {
			out = append(out, s)
		}
	}
	return out
}

// order lists property names alphabetically, so a schema renders the same
// every time.
func order(props map[string]*jsonschema.Schema) []string {
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
