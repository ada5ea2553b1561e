package service

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Line is one memory of an NDJSON export, and what an import reads.
// Cursor is the memory's export position: an export resumed with it
// starts right after this memory.
type Line struct {
	ID               string         `json:"id"`
	Text             string         `json:"text"`
	Metadata         map[string]any `json:"metadata"`
	Embedding        []float32      `json:"embedding,omitempty"`
	EmbeddingModel   string         `json:"embedding_model"`
	VectorDimensions int            `json:"vector_dimensions"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
	CreatedBy        string         `json:"created_by,omitempty"`
	UpdatedBy        string         `json:"updated_by,omitempty"`
	Cursor           string         `json:"cursor,omitempty"`
}

// exportPage is how many memories an export reads at once.
const exportPage = 500

// Export writes every memory of the actor's workspace stored after the
// position after ("" for all) to w, one Line per line, vectors included,
// in storage order. progress, when set, gets the count so far.
func (s *Service) Export(ctx context.Context, a Actor, after string, w io.Writer, progress func(n int)) (int, error) {
	ex, ok := s.store.(memoryd.Exporter)
	if !ok {
		return 0, errors.New("service: the store cannot export")
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	for {
		ms, pos, err := ex.ExportMemories(ctx, a.Workspace, after, exportPage)
		if err != nil {
			return n, err
		}
		if len(ms) == 0 {
			return n, nil
		}
		for i, m := range ms {
			if err := enc.Encode(lineOf(m, pos[i])); err != nil {
				return n, err
			}
		}
		n += len(ms)
		after = pos[len(pos)-1]
		if progress != nil {
			progress(n)
		}
	}
}

func lineOf(m *memoryd.Memory, cursor string) Line {
	md := m.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return Line{ID: m.ID, Text: m.Text, Metadata: md, Embedding: m.Embedding, EmbeddingModel: m.EmbeddingModel,
		VectorDimensions: len(m.Embedding), CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
		CreatedBy: m.CreatedBy, UpdatedBy: m.UpdatedBy, Cursor: cursor}
}

// CheckExportCursor refuses a position the store cannot have issued
// before an export starts writing.
func (s *Service) CheckExportCursor(ctx context.Context, a Actor, after string) error {
	ex, ok := s.store.(memoryd.Exporter)
	if !ok {
		return errors.New("service: the store cannot export")
	}
	_, _, err := ex.ExportMemories(ctx, a.Workspace, after, 1)
	return err
}
