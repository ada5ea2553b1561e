// Package webhooks delivers a workspace's memory events to the URLs its
// users register, signed per Standard Webhooks (https://www.standardwebhooks.com).
//
// Webhooks are one more consumer of the durable event log. A change's
// events (memory.created/updated/deleted, and embedding.generated when
// the server computed the vector) are appended in the transaction of the
// change, so nothing is sent for a change that rolled back and nothing
// is lost for one that committed.
//
// Delivery has two steps, both on the database:
//
//  1. Fan-out. A Deliverer follows the log from a position kept in the
//     database (meta "webhooks.position"), woken by the store's commit
//     notifications and polling at a bounded interval. For each batch it
//     inserts one message per matching enabled endpoint into
//     webhook_messages and moves the position, in one transaction. The
//     move is a compare-and-set on the old position, so with several
//     nodes one fan-out of a batch wins and the others re-read; message
//     ids derive from endpoint and log position, so a repeated fan-out
//     queues nothing twice. Batches with no webhook event (every search
//     appends search.performed) move the position in memory only; it is
//     written with the next webhook event or after a poll interval. A
//     commit's wake-up reads only the log; the poll also re-reads the
//     position and looks for due messages.
//  2. Dispatch. Each endpoint's pending messages go one at a time, in
//     log order: only the oldest pending message of an endpoint is due.
//     A node takes it with a lease (a conditional UPDATE of lease_until,
//     which works the same on SQLite and PostgreSQL and needs no held
//     connection), attempts it with its own goroutine and time limit, and
//     records the attempt and the message's next state in one
//     transaction, if it still holds the lease. So one message is
//     attempted by one node at a time, a slow endpoint holds only its
//     own queue, pending retries are rows (they survive a restart or a
//     kill -9: the lease runs out and another attempt follows), and a
//     crash between the POST and its record repeats the POST (at least
//     once; receivers deduplicate by webhook-id, the same on every
//     attempt).
//
// The work of dispatch grows with the endpoints, not with their
// backlogs: a poll finds each enabled endpoint's head with one probe of
// the index of pending messages (endpoint_id, seq, id; delivered and
// failed ones leave it). A busy endpoint is served in runs: the
// transaction that records an attempt also leases the endpoint's next
// messages, up to Config.MaxRun, as far as each is due and free. The
// goroutine POSTs a run's messages one at a time, each only after the one
// before it was delivered, and hands each attempt to the finisher
// (finish.go) without waiting for its commit. While a run has messages
// left, one of those records at a time also extends it with the messages
// queued after its last (Lease.After), so a busy endpoint does not wait
// for a commit between runs; a run down to its last message with no
// extension coming waits for that message's record, which leases the
// next run from the endpoint's head (up to Config.MaxChain messages in a
// row, then the slot goes back to the oldest due message of any
// endpoint). A failed attempt ends its run: the rest of the run, the
// extension's messages included, is released in the same record and
// waits behind the retry. The finisher records what has queued in one
// write transaction, for many endpoints' attempts at once. A kill -9
// during a run repeats the POSTs whose record had not committed, once the
// run's lease runs out.
//
// A fan-out woken by a commit looks for due messages only when it queued
// some for an endpoint with no run under way here: a run takes its
// endpoint's new messages itself, and one that ends wakes a full step.
//
// A run reads its endpoint when it starts, again after any change made
// through this node (Manager calls Deliverer.Wake), so a disabled or
// deleted endpoint gets nothing after the attempt in flight, and every
// Config.MaxRun messages, so a change made through another node reaches
// it within that many.
//
// Delivered and failed messages and their attempts are deleted after
// Config.Retention (7 days), in bounded batches (retention.go).
//
// Retries follow Config.Schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
// 10 h by default) with ±20 % jitter; a 2xx answer delivers, 410 Gone
// disables the endpoint, anything else (a status, a timeout, a refused
// address) is retried until the schedule is exhausted and the message is
// marked failed, and the endpoint's next message goes.
//
// River (github.com/riverqueue/river) was considered for step 2. It would
// still need step 1 (the log is the source of truth, and jobs must be
// inserted from it, not by the writer), its own schema and migrations
// beside ours on both engines, and per-endpoint ordering, which its
// queues do not give (unique jobs or one queue per endpoint would have to
// stand in). The lease on a message row gives at-least-once, ordering,
// restart survival and one attempt at a time across nodes with a handful
// of statements on tables we already migrate, so the log consumer with
// leases is the simpler design that meets the rules.
//
// Safety: Guard refuses URLs that are not https or resolve to loopback,
// private, link-local (cloud metadata), multicast or other special
// addresses, at registration and again in the dialer of every attempt
// (DNS rebinding gains nothing), unless the operator allows private
// addresses (memoryd serve --webhooks-allow-private).
package webhooks
