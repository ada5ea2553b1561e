package webhooks

import "context"

// pruneBatch bounds the rows one prune statement deletes.
const pruneBatch = 1000

// prune deletes the finished messages and attempts older than the
// retention, a bounded batch at a time, so the delivery log does not grow
// forever. Pending messages are kept whatever their age.
func (d *Deliverer) prune(ctx context.Context) {
	before := d.now().Add(-d.cfg.Retention)
	for ctx.Err() == nil {
		n, err := d.store.PruneDeliveries(ctx, before, pruneBatch)
		if err != nil {
			if ctx.Err() == nil {
				d.lg.WarnContext(ctx, "webhooks: pruning the delivery log failed; retrying at the next prune", "err", err)
			}
			return
		}
		if n < pruneBatch {
			return
		}
	}
}
