package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// memoryRow is a memories row. Times are Unix microseconds so both
// databases order and compare them the same way.
type memoryRow struct {
	RID            int64  `bun:"rid"`
	Workspace      string `bun:"workspace"`
	ID             string `bun:"id"`
	Text           string `bun:"text"`
	Metadata       string `bun:"metadata"`
	Type           string `bun:"type"`
	Source         string `bun:"source"`
	Embedding      []byte `bun:"embedding"`
	EmbeddingModel string `bun:"embedding_model"`
	Dims           int    `bun:"dims"`
	Tokens         int    `bun:"tokens"`
	CreatedAt      int64  `bun:"created_at"`
	UpdatedAt      int64  `bun:"updated_at"`
	CreatedBy      string `bun:"created_by"`
	UpdatedBy      string `bun:"updated_by"`
}

const memoryColumns = "m.rid, m.workspace, m.id, m.text, m.metadata, m.type, m.source, m.embedding, m.embedding_model, m.dims, m.tokens, m.created_at, m.updated_at, m.created_by, m.updated_by"

func toRow(m *memoryd.Memory) (*memoryRow, error) {
	md := m.Metadata
	if md == nil {
		md = map[string]any{}
	}
	mdJSON, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("store: encode metadata: %w", err)
	}
	return &memoryRow{
		Workspace: m.Workspace, ID: m.ID, Text: m.Text, Metadata: string(mdJSON),
		Type: m.Type(), Source: m.Source(),
		Embedding: encodeVector(m.Embedding), EmbeddingModel: m.EmbeddingModel, Dims: len(m.Embedding), Tokens: m.Tokens,
		CreatedAt: micros(m.CreatedAt), UpdatedAt: micros(m.UpdatedAt), CreatedBy: m.CreatedBy, UpdatedBy: m.UpdatedBy,
	}, nil
}

func (r *memoryRow) memory() (*memoryd.Memory, error) {
	m := &memoryd.Memory{
		ID: r.ID, Workspace: r.Workspace, Text: r.Text,
		Embedding: decodeVector(r.Embedding), EmbeddingModel: r.EmbeddingModel, Tokens: r.Tokens,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt), CreatedBy: r.CreatedBy, UpdatedBy: r.UpdatedBy,
	}
	if err := json.Unmarshal([]byte(r.Metadata), &m.Metadata); err != nil {
		return nil, fmt.Errorf("store: decode metadata of %s: %w", r.ID, err)
	}
	return m, nil
}

// encodeVector packs a vector as little-endian float32s.
func encodeVector(v []float32) []byte {
	if v == nil {
		return nil
	}
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
