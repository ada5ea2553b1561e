package indexer

import (
	"context"
	"time"
)

// hold reports whether this node feeds the index now. Taking the gate, it
// first resumes from the saved position (or brings the index to the
// tables' state when there is none it can use).
func (c *Consumer) hold(ctx context.Context) (bool, error) {
	if !c.held && time.Since(c.triedAt) < c.cfg.PollInterval {
		// Not the feeder: wake-ups come with every commit, asking for
		// the gate at each would cost the database a query per commit.
		return false, nil
	}
	c.triedAt = time.Now()
	ok, err := c.gate.Hold(ctx)
	if err != nil || !ok {
		if c.held {
			c.lg.InfoContext(ctx, "this node no longer feeds the vector index", "position", c.Position(), "err", err)
		}
		c.held = false
		return false, err
	}
	if c.held {
		return true, nil
	}
	if err := c.resume(ctx); err != nil {
		return false, err
	}
	c.held = true
	c.lg.InfoContext(ctx, "this node feeds the vector index", "position", c.Position())
	return true, nil
}

// resume sets the position to the saved one when the log still holds
// everything after it; otherwise it loads the index (for a shared index:
// compares it with the tables and applies the differences) and continues
// from the head read before.
func (c *Consumer) resume(ctx context.Context) error {
	first, last, err := c.log.EventBounds(ctx)
	if err != nil {
		return err
	}
	p, ok, err := c.cursor.Load(ctx)
	if err != nil {
		return err
	}
	c.checkedAt = time.Time{} // check for a wipe before feeding
	if ok && p.Epoch == c.epoch && !lost(p.Seq, first, last) {
		c.pos.Store(p.Seq)
		return nil
	}
	c.lg.InfoContext(ctx, "no usable saved position for the vector index; comparing it with the memories table",
		"saved", ok, "head", last)
	if err := c.load(ctx); err != nil {
		return err
	}
	return c.advance(ctx, last)
}

// load brings the index to the tables' state (LoadIndex) and, for an
// index with a Marker, records that it did.
func (c *Consumer) load(ctx context.Context) error {
	start := time.Now()
	n, err := c.target.LoadIndex(ctx)
	if err != nil {
		return err
	}
	if c.marker != nil {
		if err := c.marker.Mark(ctx); err != nil {
			return err
		}
		c.checkedAt = time.Now()
	}
	c.lg.InfoContext(ctx, "vector index matches the memories table", "applied", n, "duration", time.Since(start))
	return nil
}

// checkWiped re-indexes the index from the tables when its Marker is gone
// (Weaviate wiped or replaced while memoryd runs), at most every
// Config.WipeCheck.
func (c *Consumer) checkWiped(ctx context.Context) error {
	if c.marker == nil || time.Since(c.checkedAt) < c.cfg.WipeCheck {
		return nil
	}
	ok, err := c.marker.Marked(ctx)
	if err != nil {
		return err
	}
	c.checkedAt = time.Now()
	if ok {
		return nil
	}
	// The position stays: the events after it are applied next, as
	// they would have been.
	c.lg.WarnContext(ctx, "vector index lost what was loaded into it (wiped or replaced); re-indexing it from the memories table",
		"position", c.Position())
	if err := c.load(ctx); err != nil {
		c.checkedAt = time.Time{}
		return err
	}
	return nil
}
