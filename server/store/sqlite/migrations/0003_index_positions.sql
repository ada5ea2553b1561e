-- The log position of a consumer that feeds a shared, durable index
-- (Weaviate), and which process feeds it: one row per consumer. On
-- SQLite the holder keeps a lease (lease_until, Unix microseconds); on
-- PostgreSQL an advisory lock decides and the holder column is informative.
CREATE TABLE index_positions (
	name TEXT PRIMARY KEY,
	epoch TEXT NOT NULL DEFAULT '',
	seq BIGINT NOT NULL DEFAULT 0,
	saved BOOLEAN NOT NULL DEFAULT FALSE,
	holder TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0
);
