package postgres

import (
	"context"
	"strconv"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// notifyChannel is the NOTIFY channel that wakes log tailers.
const notifyChannel = "memoryd_events"

// Listen returns a channel that receives the position of newly appended
// events (a wake-up hint; readers still read by position) until ctx ends.
// It follows NOTIFY, so writes of other nodes wake it too.
func (s *Store) Listen(ctx context.Context) (<-chan int64, error) {
	ln := pgdriver.NewListener(s.R)
	if err := ln.Listen(ctx, notifyChannel); err != nil {
		ln.Close()
		return nil, s.Fail(err)
	}
	out := make(chan int64, 1)
	go func() {
		defer close(out)
		defer ln.Close()
		ch := ln.Channel(pgdriver.WithChannelSize(1024))
		for {
			select {
			case <-ctx.Done():
				return
			case n, ok := <-ch:
				if !ok {
					return
				}
				seq, _ := strconv.ParseInt(n.Payload, 10, 64)
				sqlstore.SendLatest(out, seq)
			}
		}
	}()
	return out, nil
}
