package client

import gen "github.com/memoryd/memoryd/gen/client"

// The API's types, generated from spec/openapi.yaml.
type (
	Memory         = gen.Memory
	StoreResult    = gen.StoreResult
	UpdateResult   = gen.UpdateResult
	DeleteResult   = gen.DeleteResult
	SearchResponse = gen.SearchResponse
	SearchResult   = gen.SearchResult
	SearchFilters  = gen.SearchFilters
	SearchMode     = gen.SearchRequestMode
)

// The search modes.
const (
	Semantic = gen.SearchRequestModeSemantic
	Keyword  = gen.SearchRequestModeKeyword
	Hybrid   = gen.SearchRequestModeHybrid
)

// MemoryInput is a memory to store with Upsert.
type MemoryInput struct {
	// ID names the memory; empty lets the server choose one. A memory
	// with this id that exists is replaced.
	ID       string
	Text     string
	Metadata map[string]any
	// Embedding is the memory's vector; nil lets the server compute it.
	Embedding []float32
}

// Patch changes a memory with Update; nil fields are left as they are.
type Patch struct {
	Text      *string
	Metadata  map[string]any
	Embedding []float32
}

// ListOptions select and page the memories List returns.
type ListOptions struct {
	// PageSize is how many memories one request fetches (server default
	// when zero).
	PageSize int
	Type     string
	Source   string
	// Tags: memories holding every one of them.
	Tags []string
	// Metadata: exact match on top-level metadata keys.
	Metadata         map[string]string
	IncludeEmbedding bool
}

// SearchOptions are a search's query and knobs; zero values take the
// server's defaults.
type SearchOptions struct {
	Query     string
	Limit     int
	Threshold *float32
	Mode      SearchMode
	Filters   *SearchFilters
	Embedding []float32
}
