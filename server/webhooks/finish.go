package webhooks

import (
	"context"
	"errors"
)

// maxFinishBatch bounds how many attempts one transaction records.
const maxFinishBatch = 128

// finishReq is an attempt waiting to be recorded, and where its result
// goes.
type finishReq struct {
	f     Finish
	reply chan Finished
}

// startFinisher starts the goroutine that records attempts. Recording is
// a write transaction, and a database commits one at a time: attempts of
// many endpoints that finish while one commit runs are recorded together
// in the next. stop waits for the attempts under way, then for the
// finisher.
func (d *Deliverer) startFinisher(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.finisher(ctx)
	}()
	return func() {
		d.wg.Wait()
		close(d.finishes)
		<-done
	}
}

func (d *Deliverer) finisher(ctx context.Context) {
	for r := range d.finishes {
		batch := append(make([]finishReq, 0, 16), r)
	more:
		for len(batch) < maxFinishBatch {
			select {
			case r, ok := <-d.finishes:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		d.record(ctx, batch)
	}
}

// record writes one batch and answers each request.
func (d *Deliverer) record(ctx context.Context, batch []finishReq) {
	fs := make([]Finish, len(batch))
	for i, r := range batch {
		fs[i] = r.f
	}
	res, err := d.store.FinishAttempts(ctx, d.owner, fs)
	if err != nil {
		d.lg.WarnContext(ctx, "webhooks: recording attempts failed; their messages will be attempted again when their leases end",
			"attempts", len(fs), "err", err)
		res = make([]Finished, len(fs))
	}
	for i, r := range batch {
		r.reply <- res[i]
	}
}

// finish records f through the finisher and returns the endpoint's next
// message, leased, if any.
func (d *Deliverer) finish(f Finish) *Message {
	r := finishReq{f: f, reply: make(chan Finished, 1)}
	d.finishes <- r
	res := <-r.reply
	if res.Err != nil && !errors.Is(res.Err, ErrLost) {
		d.lg.Warn("webhooks: recording an attempt failed", "message", f.Attempt.MessageID, "err", res.Err)
	}
	return res.Next
}
