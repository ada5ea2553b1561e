// Package embed selects the configured memoryd.Embedder. The embedders
// themselves live in subpackages: uselite (the default, built-in model),
// hash (deterministic feature hashing, no weights) and openai (any
// OpenAI-compatible /v1/embeddings server); batch coalesces concurrent
// calls into one call of the model (used for use-lite).
package embed

import (
	"fmt"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/batch"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/embed/openai"
	"github.com/memoryd/memoryd/server/embed/uselite"
)

// Embedder names accepted by New.
const (
	NameUSELite = "use-lite"
	NameHash    = "hash"
	NameOpenAI  = "openai"
)

// Config selects and configures an embedder.
type Config struct {
	// Name is "use-lite" (default when empty), "hash" or "openai".
	Name string
	// Dims is the hash embedder's dimension (0: hash.DefaultDims).
	Dims int

	OpenAIBaseURL string
	OpenAIKey     string
	OpenAIModel   string
	// OpenAIDims is the expected dimension; 0 learns it from the first
	// response (openai.Embedder.Probe learns it up front).
	OpenAIDims int
}

// New builds the embedder cfg names.
func New(cfg Config) (memoryd.Embedder, error) {
	switch cfg.Name {
	case "", NameUSELite:
		e, err := uselite.New()
		if err != nil {
			return nil, fmt.Errorf("embedder %s: %w", NameUSELite, err)
		}
		// Concurrent requests share forward passes: a batch costs less
		// CPU per text than single texts, and requests are served in
		// arrival order instead of all slowing down together. One pass at
		// a time, since one pass already uses every core.
		return batch.New(e), nil
	case NameHash:
		return hash.New(cfg.Dims), nil
	case NameOpenAI:
		return openai.New(openai.Config{
			BaseURL: cfg.OpenAIBaseURL,
			APIKey:  cfg.OpenAIKey,
			Model:   cfg.OpenAIModel,
			Dims:    cfg.OpenAIDims,
		})
	default:
		return nil, fmt.Errorf("unknown embedder %q (want %s, %s or %s)", cfg.Name, NameUSELite, NameHash, NameOpenAI)
	}
}
