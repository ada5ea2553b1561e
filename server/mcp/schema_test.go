package mcp_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/memoryd/memoryd/spec"
)

// keywords are the schema keywords a tool argument must share with the
// API field it mirrors.
var keywords = []string{"type", "description", "format", "pattern", "enum", "default", "minimum", "maximum",
	"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "required"}

// TestInputSchemasMatchTheSpec reads spec/openapi.yaml on its own (not
// through the code that derives the schemas) and checks every tool's
// input schema, as a client lists it, against the request schema of the
// endpoint the tool mirrors: the same names, types, limits and
// descriptions, nested objects included, and no field left out but the
// client vector.
func TestInputSchemasMatchTheSpec(t *testing.T) {
	doc := loadSpec(t)
	comp := func(name string) map[string]any {
		return at(t, doc, "components", "schemas", name).(map[string]any)
	}
	id := resolve(t, doc, comp("MemoryID"))
	props := func(name string) map[string]any {
		out := map[string]any{}
		for k, v := range comp(name)["properties"].(map[string]any) {
			if k != "embedding" {
				out[k] = resolve(t, doc, v)
			}
		}
		return out
	}
	want := map[string]map[string]any{
		"store":  props("CreateMemoryRequest"),
		"search": props("SearchRequest"),
		"update": props("UpdateMemoryRequest"),
		"get":    {"id": id},
		"delete": {"id": id},
		"list":   listParams(t, doc),
	}
	want["update"]["id"] = id

	cs, _ := stdio(t)
	tools, err := cs.ListTools(ctxFor(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		var got map[string]any
		remarshal(t, tool.InputSchema, &got)
		if got["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties %v, want false (unknown arguments refused, as in the API)",
				tool.Name, got["additionalProperties"])
		}
		gotProps, _ := got["properties"].(map[string]any)
		wantProps := want[tool.Name]
		if wantProps == nil {
			t.Errorf("unexpected tool %s", tool.Name)
			continue
		}
		if !slices.Equal(sortedKeys(gotProps), sortedKeys(wantProps)) {
			t.Errorf("%s: arguments %v, want %v", tool.Name, sortedKeys(gotProps), sortedKeys(wantProps))
		}
		for name, w := range wantProps {
			if g, ok := gotProps[name]; ok {
				same(t, tool.Name+"."+name, g.(map[string]any), w.(map[string]any), doc)
			}
		}
	}
	// The required arguments: the body's, with the id in REST's path, and
	// the query (search by a client vector is not offered).
	for name, req := range map[string][]string{"store": {"text"}, "update": {"id"}, "get": {"id"},
		"delete": {"id"}, "search": {"query"}, "list": nil} {
		for _, tool := range tools.Tools {
			var got struct{ Required []string }
			remarshal(t, tool.InputSchema, &got)
			if tool.Name == name && !slices.Equal(got.Required, req) {
				t.Errorf("%s: required %v, want %v", name, got.Required, req)
			}
		}
	}
}

// same compares the keywords of a tool argument and its spec field, then
// their items, properties and additionalProperties.
func same(t *testing.T, path string, got, want map[string]any, doc map[string]any) {
	t.Helper()
	for _, k := range keywords {
		if g, w := canon(got[k]), canon(want[k]); g != w {
			t.Errorf("%s: %s is %s, the spec says %s", path, k, g, w)
		}
	}
	if w, ok := want["items"]; ok {
		g, _ := got["items"].(map[string]any)
		same(t, path+"[]", g, resolve(t, doc, w), doc)
	}
	wp, _ := want["properties"].(map[string]any)
	gp, _ := got["properties"].(map[string]any)
	if !slices.Equal(sortedKeys(gp), sortedKeys(wp)) {
		t.Errorf("%s: properties %v, the spec says %v", path, sortedKeys(gp), sortedKeys(wp))
	}
	for k, w := range wp {
		if g, ok := gp[k].(map[string]any); ok {
			same(t, path+"."+k, g, resolve(t, doc, w), doc)
		}
	}
	switch w := want["additionalProperties"].(type) {
	case map[string]any:
		g, _ := got["additionalProperties"].(map[string]any)
		same(t, path+"{}", g, resolve(t, doc, w), doc)
	case bool:
		// A JSON Schema "true" may also be written {}.
		g := got["additionalProperties"]
		if m, ok := g.(map[string]any); ok && len(m) == 0 {
			g = true
		}
		if g != w {
			t.Errorf("%s: additionalProperties %v, the spec says %v", path, g, w)
		}
	}
}

// listParams is GET /memory's query parameters as one object's
// properties: each one's schema with the parameter's description.
func listParams(t *testing.T, doc map[string]any) map[string]any {
	out := map[string]any{}
	for _, p := range at(t, doc, "paths", "/memory", "get", "parameters").([]any) {
		param := resolve(t, doc, p)
		if param["in"] != "query" || param["name"] == "include_embedding" {
			continue
		}
		s := resolve(t, doc, param["schema"])
		s["description"] = param["description"]
		out[param["name"].(string)] = s
	}
	return out
}

func loadSpec(t *testing.T) map[string]any {
	t.Helper()
	b, err := spec.Files.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// resolve follows a local $ref and returns a copy of the schema.
func resolve(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not a schema: %v", v)
	}
	if ref, ok := m["$ref"].(string); ok {
		path := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
		return resolve(t, doc, at(t, doc, path...))
	}
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func at(t *testing.T, doc map[string]any, path ...string) any {
	t.Helper()
	var v any = doc
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok || m[p] == nil {
			t.Fatalf("spec has no %v", path)
		}
		v = m[p]
	}
	return v
}

// canon renders a keyword's value comparably: YAML reads 100 as an int,
// JSON as a float64.
func canon(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
