package service

// Limits on what a request may carry, checked before anything is written
// or queried (400 INVALID_REQUEST beyond them; the text limit is 413).
// spec/openapi.yaml documents each one.
//
// They exist so that every stored row stays within what both databases can
// store, filter and read back (SQLite's JSON functions fail on a whole
// workspace once one row nests too deep), and every filter stays within
// what the databases can plan (each tag or metadata filter adds a term to
// one SQL expression, whose depth SQLite bounds).
const (
	// MaxIDLength is the longest client-chosen memory id, in bytes (ids are
	// ASCII).
	MaxIDLength = 128
	// MaxMetadataDepth is how deeply metadata may nest objects and arrays;
	// the metadata object itself is level 1.
	MaxMetadataDepth = 32
	// MaxMetadataBytes is the largest metadata, as compact JSON.
	MaxMetadataBytes = 16 << 10
	// MaxMetadataKeys is the most top-level keys metadata may have.
	MaxMetadataKeys = 256
	// MaxLabelChars bounds metadata.type, metadata.source and each tag, in
	// characters; they are indexed.
	MaxLabelChars = 256
	// MaxTags is the most tags one memory may carry.
	MaxTags = 100

	// MaxFilterTags is the most tags one list or search may filter on.
	MaxFilterTags = 64
	// MaxFilterMetadata is the most metadata keys one list or search may
	// filter on.
	MaxFilterMetadata = 64
	// MaxFilterChars bounds each filter string (type, source, a tag, a
	// metadata key or value), in characters.
	MaxFilterChars = 256

	// MaxQueryChars is the longest search query text, in characters.
	MaxQueryChars = 4096
	// MaxSearchLimit is the most results one search may ask for.
	MaxSearchLimit = 100
	// MaxEventQueryBytes is how much of the query text a search.performed
	// event carries: the log keeps every event for its retention window,
	// and subscribers receive each one.
	MaxEventQueryBytes = 1024
)
