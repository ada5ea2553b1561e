-- An endpoint's queue is its pending messages: delivered and failed ones
-- are found only by id, by age (retention) or with their endpoint (its
-- deletion). With the finished ones out of the queue's index a delivery
-- deletes one entry of an index the size of the backlog, instead of
-- moving an entry within one that holds every message kept; the
-- endpoint's index never changes after the message is queued.
-- Statements are separated by blank lines (the runner splits on them).
CREATE INDEX webhook_messages_pending ON webhook_messages (endpoint_id, seq, id) WHERE status = 'pending';

CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id);

DROP INDEX webhook_messages_queue;
