package sqlstore

import (
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// MemoryRow is a memories row. Times are Unix microseconds so both
// databases order and compare them the same way.
type MemoryRow struct {
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

// MemoryColumns are MemoryRow's columns on the memories alias m, in the
// order ScanMemory reads them.
const MemoryColumns = "m.rid, m.workspace, m.id, m.text, m.metadata, m.type, m.source, m.embedding, m.embedding_model, m.dims, m.tokens, m.created_at, m.updated_at, m.created_by, m.updated_by"

// ToRow encodes m.
func ToRow(m *memoryd.Memory) (*MemoryRow, error) {
	md := m.Metadata
	if md == nil {
		md = map[string]any{}
	}
	mdJSON, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("store: encode metadata: %w", err)
	}
	return &MemoryRow{
		Workspace: m.Workspace, ID: m.ID, Text: m.Text, Metadata: string(mdJSON),
		Type: m.Type(), Source: m.Source(),
		Embedding: EncodeVector(m.Embedding), EmbeddingModel: m.EmbeddingModel, Dims: len(m.Embedding), Tokens: m.Tokens,
		CreatedAt: Micros(m.CreatedAt), UpdatedAt: Micros(m.UpdatedAt), CreatedBy: m.CreatedBy, UpdatedBy: m.UpdatedBy,
	}, nil
}

// Memory decodes r.
func (r *MemoryRow) Memory() (*memoryd.Memory, error) {
	m := &memoryd.Memory{
		ID: r.ID, Workspace: r.Workspace, Text: r.Text,
		Embedding: DecodeVector(r.Embedding), EmbeddingModel: r.EmbeddingModel, Tokens: r.Tokens,
		CreatedAt: FromMicros(r.CreatedAt), UpdatedAt: FromMicros(r.UpdatedAt), CreatedBy: r.CreatedBy, UpdatedBy: r.UpdatedBy,
	}
	if m.Embedding == nil {
		m.VectorDims = r.Dims // a read without the embedding column
	}
	if err := json.Unmarshal([]byte(r.Metadata), &m.Metadata); err != nil {
		return nil, fmt.Errorf("store: decode metadata of %s: %w", r.ID, err)
	}
	return m, nil
}

// InsertArgs are r's values for InsertMemorySQL.
func (r *MemoryRow) InsertArgs() []any {
	return []any{r.Workspace, r.ID, r.Text, r.Metadata, r.Type, r.Source, r.Embedding, r.EmbeddingModel, r.Dims, r.Tokens,
		r.CreatedAt, r.UpdatedAt, r.CreatedBy, r.UpdatedBy}
}

// ScanMemory reads one row of MemoryColumns; sql.ErrNoRows becomes
// memoryd.ErrNotFound.
func ScanMemory(row *sql.Row) (*Stored, error) {
	var r MemoryRow
	err := row.Scan(&r.RID, &r.Workspace, &r.ID, &r.Text, &r.Metadata, &r.Type, &r.Source, &r.Embedding, &r.EmbeddingModel,
		&r.Dims, &r.Tokens, &r.CreatedAt, &r.UpdatedAt, &r.CreatedBy, &r.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, memoryd.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get memory: %w", err)
	}
	m, err := r.Memory()
	if err != nil {
		return nil, err
	}
	return &Stored{Memory: m, RID: r.RID}, nil
}

// Stored is a memory with its row id, needed to rewrite its rows.
type Stored struct {
	*memoryd.Memory
	RID int64
}

// EncodeVector packs a vector as little-endian float32s.
func EncodeVector(v []float32) []byte {
	if v == nil {
		return nil
	}
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// DecodeVector unpacks EncodeVector's bytes.
func DecodeVector(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// Micros is t as stored: Unix microseconds.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// FromMicros is Micros's inverse, in UTC.
func FromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
