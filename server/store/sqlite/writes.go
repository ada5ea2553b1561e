package sqlite

import (
	"cmp"
	"context"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// PutMemory inserts m or replaces the memory with the same id.
func (s *Store) PutMemory(ctx context.Context, m *memoryd.Memory, mkEvent func(prev *memoryd.Memory) (*memoryd.Event, error)) (bool, *memoryd.Event, error) {
	// Encoded by the caller's goroutine: the single writer is the
	// bottleneck, so it gets only the statements to run.
	row, err := sqlstore.ToRow(m)
	if err != nil {
		return false, nil, err
	}
	var created bool
	var ev *memoryd.Event
	err = s.write(ctx, func(ctx context.Context, tx *groupTx) (*memoryd.Event, error) {
		var err error
		created, ev, err = sqlstore.Put(ctx, tx, row, m, mkEvent)
		return ev, err
	})
	if err != nil {
		return false, nil, err
	}
	return created, ev, nil
}

// UpdateMemory applies update to the stored version and saves the result.
func (s *Store) UpdateMemory(ctx context.Context, workspace, id string, update func(cur *memoryd.Memory) (*memoryd.Event, error)) (*memoryd.Memory, *memoryd.Event, error) {
	var cur *memoryd.Memory
	var ev *memoryd.Event
	err := s.write(ctx, func(ctx context.Context, tx *groupTx) (*memoryd.Event, error) {
		var err error
		cur, ev, err = sqlstore.Update(ctx, tx, workspace, id, update)
		return ev, err
	})
	if err != nil {
		return nil, nil, err
	}
	return cur, ev, nil
}

// DeleteMemory removes a memory and appends its event.
func (s *Store) DeleteMemory(ctx context.Context, workspace, id string, mkEvent func(prev *memoryd.Memory) (*memoryd.Event, error)) (*memoryd.Event, error) {
	var ev *memoryd.Event
	err := s.write(ctx, func(ctx context.Context, tx *groupTx) (*memoryd.Event, error) {
		var err error
		ev, err = sqlstore.Delete(ctx, tx, workspace, id, mkEvent)
		return ev, err
	})
	return ev, err
}

// AppendEvent appends an event that comes with no change.
func (s *Store) AppendEvent(ctx context.Context, ev *memoryd.Event) error {
	return s.write(ctx, appendFn(ev))
}

// AppendEvents appends events that come with no change, in order. They
// are queued for the writer back to back, so they commit together (in
// groups of up to maxGroup, each its own commit).
func (s *Store) AppendEvents(ctx context.Context, evs []*memoryd.Event) error {
	reqs := make([]*writeReq, 0, len(evs))
	var err error
	for _, ev := range evs {
		r, serr := s.submit(ctx, appendFn(ev))
		if serr != nil {
			err = serr
			break
		}
		reqs = append(reqs, r)
	}
	for _, r := range reqs {
		err = cmp.Or(err, s.wait(r))
	}
	return err
}

func appendFn(ev *memoryd.Event) writeFn {
	return func(ctx context.Context, tx *groupTx) (*memoryd.Event, error) {
		return ev, tx.AppendEvent(ctx, ev)
	}
}
