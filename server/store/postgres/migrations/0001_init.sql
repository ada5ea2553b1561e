-- Statements are separated by blank lines (the runner splits on them).
CREATE TABLE memories (
	rid BIGSERIAL PRIMARY KEY,
	workspace TEXT NOT NULL,
	id TEXT NOT NULL,
	text TEXT NOT NULL,
	metadata JSONB NOT NULL DEFAULT '{}',
	type TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',
	embedding BYTEA,
	embedding_model TEXT NOT NULL DEFAULT '',
	dims INTEGER NOT NULL DEFAULT 0,
	tokens INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	updated_by TEXT NOT NULL DEFAULT '',
	UNIQUE (workspace, id)
);

CREATE INDEX memories_ws_created ON memories (workspace, created_at DESC, id DESC);

CREATE INDEX memories_ws_type ON memories (workspace, type);

CREATE INDEX memories_ws_source ON memories (workspace, source);

CREATE TABLE memory_tags (
	rid BIGINT NOT NULL,
	tag TEXT NOT NULL,
	PRIMARY KEY (tag, rid)
);

CREATE INDEX memory_tags_rid ON memory_tags (rid);

CREATE INDEX memories_fts ON memories USING GIN (to_tsvector('simple', text));

CREATE TABLE events (
	seq BIGINT PRIMARY KEY,
	workspace TEXT NOT NULL,
	type TEXT NOT NULL,
	payload TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE INDEX events_ws_seq ON events (workspace, seq);

CREATE TABLE event_counter (
	id INTEGER PRIMARY KEY,
	seq BIGINT NOT NULL
);

INSERT INTO event_counter (id, seq) VALUES (1, 0);

CREATE TABLE meta (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE api_keys (
	id TEXT PRIMARY KEY,
	hash BYTEA NOT NULL UNIQUE,
	workspaces TEXT NOT NULL,
	tier TEXT NOT NULL DEFAULT '',
	user_name TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	revoked_at BIGINT
);
