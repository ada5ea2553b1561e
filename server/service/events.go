package service

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/memoryd/memoryd/gen/events"
	memoryd "github.com/memoryd/memoryd/server"
)

// The payloads below are the generated types of spec/schemas/events.yaml,
// so the stream carries exactly what the AsyncAPI document describes.

func memoryEvent(typ string, ws string, payload any, at time.Time) (*memoryd.Event, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return &memoryd.Event{Workspace: ws, Type: typ, Payload: b, CreatedAt: at}, nil
}

func tagsOf(m *memoryd.Memory) []string {
	t := m.Tags()
	if t == nil {
		t = []string{}
	}
	return t
}

func metadataOf(m *memoryd.Memory) map[string]any {
	if m.Metadata == nil {
		return map[string]any{}
	}
	return m.Metadata
}

func createdEvent(m *memoryd.Memory) (*memoryd.Event, error) {
	return memoryEvent(memoryd.EventMemoryCreated, m.Workspace, events.MemoryCreated{
		Id: m.ID, Content: m.Text, Metadata: metadataOf(m), Tags: tagsOf(m),
		CreatedAt: m.CreatedAt, CreatedBy: m.CreatedBy,
	}, m.CreatedAt)
}

func updatedEvent(prev, m *memoryd.Memory) (*memoryd.Event, error) {
	embChanged := !slices.Equal(prev.Embedding, m.Embedding)
	return memoryEvent(memoryd.EventMemoryUpdated, m.Workspace, events.MemoryUpdated{
		Id: m.ID, Content: m.Text, Metadata: metadataOf(m), Tags: tagsOf(m),
		UpdatedAt: m.UpdatedAt, UpdatedBy: m.UpdatedBy,
		Changes: events.MemoryChanges{
			Content:   prev.Text != m.Text,
			Metadata:  !jsonEqual(prev.Metadata, m.Metadata),
			Tags:      !slices.Equal(prev.Tags(), m.Tags()),
			Embedding: &embChanged,
		},
	}, m.UpdatedAt)
}

func deletedEvent(ws, id, by string, at time.Time) (*memoryd.Event, error) {
	return memoryEvent(memoryd.EventMemoryDeleted, ws, events.MemoryDeleted{
		Id: id, DeletedAt: at, DeletedBy: by, Reason: events.UserRequest,
	}, at)
}

// jsonEqual compares two metadata maps as JSON documents.
func jsonEqual(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
