package webhooks

import (
	"context"
	"errors"
)

// maxFinishBatch bounds how many attempts one transaction records.
const maxFinishBatch = 128

// finishQueue is how many records may wait for the finisher: attempts
// recorded behind their POSTs queue here, and a full queue holds the
// POSTs back.
const finishQueue = 1024

// finishReq is an attempt waiting to be recorded, and where its result
// goes (nil: nowhere).
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
		d.recordBatch(ctx, batch)
	}
}

// recordBatch writes one batch and answers each request.
func (d *Deliverer) recordBatch(ctx context.Context, batch []finishReq) {
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
		if r.reply != nil {
			r.reply <- res[i]
		} else {
			d.warnUnrecorded(r.f, res[i].Err)
		}
	}
}

// record queues f for the finisher without waiting for it.
func (d *Deliverer) record(f Finish) {
	d.finishes <- finishReq{f: f}
}

// recordReplied queues f for the finisher; what recording it did arrives
// on the channel returned.
func (d *Deliverer) recordReplied(f Finish) chan Finished {
	r := finishReq{f: f, reply: make(chan Finished, 1)}
	d.finishes <- r
	return r.reply
}

// finish records f through the finisher, after every record queued
// before it, and returns the messages it leased, if any.
func (d *Deliverer) finish(f Finish) []*Message {
	res := <-d.recordReplied(f)
	d.warnUnrecorded(f, res.Err)
	return res.Next
}

// warnUnrecorded logs a record that failed; a lost lease is not news
// (another node or a redelivery took the message).
func (d *Deliverer) warnUnrecorded(f Finish, err error) {
	if err != nil && !errors.Is(err, ErrLost) && f.Attempt != nil {
		d.lg.Warn("webhooks: recording an attempt failed", "message", f.Attempt.MessageID, "err", err)
	}
}
