package postgres

import (
	"context"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/sqlstore"
)

var _ memoryd.BatchPutter = (*Store)(nil)

// PutMemories puts every memory of ms in one transaction.
func (s *Store) PutMemories(ctx context.Context, ms []*memoryd.Memory, mkEvent func(i int, prev *memoryd.Memory) (*memoryd.Event, error)) ([]bool, []*memoryd.Event, error) {
	rows, err := sqlstore.Rows(ms)
	if err != nil {
		return nil, nil, err
	}
	var created []bool
	var evs []*memoryd.Event
	err = s.write(ctx, func(ctx context.Context, tx *pgTx) error {
		var err error
		created, evs, err = sqlstore.PutAll(ctx, tx, rows, ms, mkEvent)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	s.batchPut(len(ms))
	return created, evs, nil
}
