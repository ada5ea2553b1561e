package drills

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The drills' time limits. Each leaves room for a cold, busy two-core
// machine; a limit that runs out names itself (see within).
const (
	// One whole drill, faults and checks included.
	drillLimit = 4 * time.Minute
	// One API request (a write, a search, a page of the list).
	requestLimit = 15 * time.Second
	// After a fault is repaired, until every client is served again.
	recoverLimit = 90 * time.Second
	// Until a stream has delivered the log up to its head.
	catchUpLimit = 60 * time.Second
	// A fault operation (kill, stop, start with its readiness wait).
	faultLimit = 3 * time.Minute
)

// limitExceeded is the cause of a step's context when its limit ran out.
type limitExceeded struct {
	step  string
	limit time.Duration
}

func (e *limitExceeded) Error() string {
	return fmt.Sprintf("%s exceeded its %s limit", e.step, e.limit)
}

// within runs f with ctx limited to d; when the limit runs out the error
// names the step and the limit.
func within(ctx context.Context, d time.Duration, step string, f func(context.Context) error) error {
	lctx, cancel := context.WithTimeoutCause(ctx, d, &limitExceeded{step: step, limit: d})
	defer cancel()
	err := f(lctx)
	if err == nil {
		return nil
	}
	if le := (*limitExceeded)(nil); errors.As(context.Cause(lctx), &le) {
		return fmt.Errorf("%w (%v)", le, err)
	}
	return err
}

// poll calls f every interval until it reports done, or the limit runs out.
func poll(ctx context.Context, limit time.Duration, step string, interval time.Duration, f func(context.Context) (bool, error)) error {
	return within(ctx, limit, step, func(ctx context.Context) error {
		var last error
		for {
			done, err := f(ctx)
			if done {
				return nil
			}
			last = err
			select {
			case <-ctx.Done():
				if last != nil {
					return fmt.Errorf("%w; last: %v", ctx.Err(), last)
				}
				return ctx.Err()
			case <-time.After(interval):
			}
		}
	})
}
