-- Retention of the delivery log: finished messages by age, attempts by age.
-- Statements are separated by blank lines (the runner splits on them).
CREATE INDEX webhook_messages_created ON webhook_messages (created_at);

CREATE INDEX webhook_attempts_at ON webhook_attempts (attempted_at);
