package conformance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"go.yaml.in/yaml/v3"

	"github.com/memoryd/memoryd/spec"
)

// Spec is the contract the suite checks against: the OpenAPI document (with
// its servers rewritten to the base URL under test), a router for it, and
// the stream's event payload schemas.
type Spec struct {
	Doc    *openapi3.T
	Router routers.Router
	Events *openapi3.T // schemas/events.yaml

	once       sync.Once
	payloads   map[string]string // SSE event name -> events.yaml schema
	payloadErr error
}

// LoadSpec loads the bundled documents. The OpenAPI servers entry is
// relative (/api/v1), which the router cannot match against absolute
// URLs, so it is replaced by baseURL + "/api/v1".
// Further base URLs (other nodes of the same deployment) are servers too.
func LoadSpec(baseURL string, more ...string) (*Spec, error) {
	doc, err := loadOpenAPI("openapi.yaml")
	if err != nil {
		return nil, err
	}
	doc.Servers = openapi3.Servers{{URL: baseURL + "/api/v1"}}
	for _, u := range more {
		doc.Servers = append(doc.Servers, &openapi3.Server{URL: u + "/api/v1"})
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("conformance: router: %w", err)
	}
	events, err := loadOpenAPI("schemas/events.yaml")
	if err != nil {
		return nil, err
	}
	return &Spec{Doc: doc, Router: router, Events: events}, nil
}

func loadOpenAPI(name string) (*openapi3.T, error) {
	data, err := fs.ReadFile(spec.Files, name)
	if err != nil {
		return nil, fmt.Errorf("conformance: read %s: %w", name, err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("conformance: load %s: %w", name, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("conformance: %s is invalid: %w", name, err)
	}
	return doc, nil
}

// Operation is one documented operation with its response codes.
type Operation struct {
	ID, Method, Path string
	Codes            []int
}

// Operations lists every operation of the OpenAPI document, sorted by id.
func (s *Spec) Operations() []Operation {
	var out []Operation
	for path, item := range s.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			o := Operation{ID: op.OperationID, Method: method, Path: path}
			for code := range op.Responses.Map() {
				if n, err := strconv.Atoi(code); err == nil {
					o.Codes = append(o.Codes, n)
				}
			}
			sort.Ints(o.Codes)
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// AsyncMessages returns the SSE event names of spec/asyncapi.yaml's stream
// messages (nil when the document is absent).
func AsyncMessages() ([]string, error) {
	data, err := fs.ReadFile(spec.Files, "asyncapi.yaml")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names, _, err := asyncMessageNames(data)
	if err != nil {
		return nil, fmt.Errorf("conformance: asyncapi.yaml: %w", err)
	}
	return names, nil
}

// asyncMessageNames returns the message names of an AsyncAPI document and
// its asyncapi version.
func asyncMessageNames(data []byte) (names []string, version string, err error) {
	var doc struct {
		AsyncAPI   string `yaml:"asyncapi"`
		Components struct {
			Messages map[string]struct {
				Name string `yaml:"name"`
			} `yaml:"messages"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, "", err
	}
	for key, m := range doc.Components.Messages {
		name := m.Name
		if name == "" {
			name = key
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, doc.AsyncAPI, nil
}

// AsyncPayloadSchemas maps each AsyncAPI message name to the name of its
// payload schema in schemas/events.yaml.
func AsyncPayloadSchemas() (map[string]string, error) {
	data, err := fs.ReadFile(spec.Files, "asyncapi.yaml")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Components struct {
			Messages map[string]struct {
				Name    string `yaml:"name"`
				Payload struct {
					Ref string `yaml:"$ref"`
				} `yaml:"payload"`
			} `yaml:"messages"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	out := map[string]string{}
	const prefix = "./schemas/events.yaml#/components/schemas/"
	for _, m := range doc.Components.Messages {
		if len(m.Payload.Ref) > len(prefix) && m.Payload.Ref[:len(prefix)] == prefix {
			out[m.Name] = m.Payload.Ref[len(prefix):]
		}
	}
	return out, nil
}

// findRoute finds the documented operation a request was sent to.
func (s *Spec) findRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	return s.Router.FindRoute(req)
}
