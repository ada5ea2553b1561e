package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	"github.com/memoryd/memoryd/spec"
)

// WebhookMessageSchemas maps the name of each AsyncAPI webhook message
// (the messages whose payload is WebhookMessage with a typed data) to the
// events.yaml schema of its data.
func WebhookMessageSchemas() (map[string]string, error) {
	data, err := fs.ReadFile(spec.Files, "asyncapi.yaml")
	if err != nil {
		return nil, err
	}
	type ref struct {
		Ref string `yaml:"$ref"`
	}
	var doc struct {
		Components struct {
			Messages map[string]struct {
				Name    string `yaml:"name"`
				Payload struct {
					AllOf []struct {
						Ref        string `yaml:"$ref"`
						Properties struct {
							Data ref `yaml:"data"`
						} `yaml:"properties"`
					} `yaml:"allOf"`
				} `yaml:"payload"`
			} `yaml:"messages"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	const prefix = "./schemas/events.yaml#/components/schemas/"
	out := map[string]string{}
	for _, m := range doc.Components.Messages {
		envelope, dataRef := false, ""
		for _, part := range m.Payload.AllOf {
			envelope = envelope || part.Ref == prefix+"WebhookMessage"
			if r, ok := strings.CutPrefix(part.Properties.Data.Ref, prefix); ok {
				dataRef = r
			}
		}
		if envelope && dataRef != "" {
			out[m.Name] = dataRef
		}
	}
	return out, nil
}

var webhookSchemas struct {
	once sync.Once
	m    map[string]string
	err  error
}

// validateWebhookBody checks a delivery body against AsyncAPI: the
// WebhookMessage envelope, a type that is a webhook message, and data
// against that message's schema. It returns the decoded envelope.
func (s *Spec) validateWebhookBody(body []byte) (WebhookMessage, error) {
	var msg WebhookMessage
	webhookSchemas.once.Do(func() { webhookSchemas.m, webhookSchemas.err = WebhookMessageSchemas() })
	if webhookSchemas.err != nil {
		return msg, webhookSchemas.err
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return msg, fmt.Errorf("body is not JSON: %v", err)
	}
	env := s.Events.Components.Schemas["WebhookMessage"]
	if env == nil || env.Value == nil {
		return msg, errors.New("schema WebhookMessage missing from schemas/events.yaml")
	}
	if err := env.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		return msg, fmt.Errorf("body violates WebhookMessage: %v", err)
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return msg, err
	}
	name, ok := webhookSchemas.m[msg.Type]
	if !ok {
		return msg, fmt.Errorf("type %q is not a webhook message of asyncapi.yaml", msg.Type)
	}
	ds := s.Events.Components.Schemas[name]
	if ds == nil || ds.Value == nil {
		return msg, errors.New("schema " + name + " missing from schemas/events.yaml")
	}
	var data any
	_ = json.Unmarshal(msg.Data, &data)
	if err := ds.Value.VisitJSON(data, openapi3.MultiErrors()); err != nil {
		return msg, fmt.Errorf("%s data violates %s: %v", msg.Type, name, err)
	}
	return msg, nil
}

// WebhookMessage is the body of every delivery.
type WebhookMessage struct {
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Fields decodes data into a map.
func (m WebhookMessage) Fields() map[string]any {
	var out map[string]any
	_ = json.Unmarshal(m.Data, &out)
	return out
}
