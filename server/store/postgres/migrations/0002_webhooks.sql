-- Webhook endpoints, their queued messages and the log of attempts.
-- Statements are separated by blank lines (the runner splits on them).
CREATE TABLE webhook_endpoints (
	id TEXT PRIMARY KEY,
	workspace TEXT NOT NULL,
	url TEXT NOT NULL,
	events TEXT NOT NULL,
	enabled INTEGER NOT NULL DEFAULT 1,
	disabled_reason TEXT NOT NULL DEFAULT '',
	secret TEXT NOT NULL,
	old_secret TEXT NOT NULL DEFAULT '',
	old_secret_until BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE INDEX webhook_endpoints_ws ON webhook_endpoints (workspace, created_at);

CREATE TABLE webhook_messages (
	id TEXT PRIMARY KEY,
	endpoint_id TEXT NOT NULL,
	seq BIGINT NOT NULL,
	type TEXT NOT NULL,
	body TEXT NOT NULL,
	status TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_at BIGINT NOT NULL,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);

CREATE INDEX webhook_messages_queue ON webhook_messages (endpoint_id, status, seq, id);

CREATE INDEX webhook_messages_due ON webhook_messages (status, next_at);

CREATE TABLE webhook_attempts (
	id TEXT PRIMARY KEY,
	endpoint_id TEXT NOT NULL,
	message_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	attempt INTEGER NOT NULL,
	attempted_at BIGINT NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	latency_us BIGINT NOT NULL DEFAULT 0,
	error TEXT NOT NULL DEFAULT '',
	response_body TEXT NOT NULL DEFAULT ''
);

CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, attempted_at DESC, id);
