package sqlite

import (
	"context"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/sqlstore"
)

var _ memoryd.BatchPutter = (*Store)(nil)

// PutMemories puts every memory of ms in one transaction: one change of
// the single writer, committed with whatever else is queued.
func (s *Store) PutMemories(ctx context.Context, ms []*memoryd.Memory, mkEvent func(i int, prev *memoryd.Memory) (*memoryd.Event, error)) ([]bool, []*memoryd.Event, error) {
	rows, err := sqlstore.Rows(ms)
	if err != nil {
		return nil, nil, err
	}
	var created []bool
	var evs []*memoryd.Event
	err = s.write(ctx, func(ctx context.Context, tx *groupTx) (*memoryd.Event, error) {
		var err error
		created, evs, err = sqlstore.PutAll(ctx, tx, rows, ms, mkEvent)
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		return published(evs), nil
	})
	if err != nil {
		return nil, nil, err
	}
	return created, evs, nil
}

// published returns the one event through which the writer publishes a
// batch's events, in log order: the writer hands a change's event and
// its With to the recent window and wakes the tailers with the last. It
// is a copy, so the callers' events keep their own With.
func published(evs []*memoryd.Event) *memoryd.Event {
	first := *evs[0]
	first.With = append([]*memoryd.Event(nil), evs[0].With...)
	for _, ev := range evs[1:] {
		first.With = append(first.With, ev)
		first.With = append(first.With, ev.With...)
	}
	return &first
}
