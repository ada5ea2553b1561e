-- Nothing finds messages by (status, next_at): an endpoint's queue is read
-- through webhook_messages_queue. Without statistics SQLite chose this
-- index for a run's lease, scanning every endpoint's due messages, and
-- every status change rewrote an entry of it.
DROP INDEX webhook_messages_due;
