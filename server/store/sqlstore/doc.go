// Package sqlstore holds what the SQLite and PostgreSQL stores share: the
// row codec, filters, lists, keyword search, keys, the event log's reads,
// migrations and the changes themselves (Put, Update, Delete), written
// against Tx, one engine's write transaction. Each engine package supplies
// a Dialect for the SQL that differs and runs the changes its own way.
package sqlstore
