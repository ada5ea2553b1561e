package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/webhooks"
)

// The webhook tables (migration 0002): endpoints, the messages queued for
// them, the attempts log, and the fan-out's position in meta.

var _ webhooks.Store = (*Base)(nil)

var errNoEndpoint = &memoryd.Error{Code: memoryd.ENOTFOUND, Message: "Webhook endpoint not found"}
var errNoMessage = &memoryd.Error{Code: memoryd.ENOTFOUND, Message: "Webhook message not found"}

const positionKey = "webhooks.position"

const endpointColumns = "id, workspace, url, events, enabled, disabled_reason, secret, old_secret, old_secret_until, created_at, updated_at"

type endpointRow struct {
	ID, Workspace, URL, Events string
	Enabled                    int
	DisabledReason             string
	Secret, OldSecret          string
	OldSecretUntil             int64
	CreatedAt, UpdatedAt       int64
}

func (r *endpointRow) dest() []any {
	return []any{&r.ID, &r.Workspace, &r.URL, &r.Events, &r.Enabled, &r.DisabledReason, &r.Secret, &r.OldSecret,
		&r.OldSecretUntil, &r.CreatedAt, &r.UpdatedAt}
}

func (r *endpointRow) endpoint() (*webhooks.Endpoint, error) {
	e := &webhooks.Endpoint{ID: r.ID, Workspace: r.Workspace, URL: r.URL, Enabled: r.Enabled != 0,
		DisabledReason: r.DisabledReason, Secret: r.Secret, OldSecret: r.OldSecret,
		CreatedAt: FromMicros(r.CreatedAt), UpdatedAt: FromMicros(r.UpdatedAt)}
	if r.OldSecretUntil != 0 {
		e.OldSecretUntil = FromMicros(r.OldSecretUntil)
	}
	if err := json.Unmarshal([]byte(r.Events), &e.Events); err != nil {
		return nil, fmt.Errorf("store: decode webhook %s: %w", r.ID, err)
	}
	return e, nil
}

func endpointArgs(e *webhooks.Endpoint) []any {
	ev, _ := json.Marshal(e.Events)
	var until int64
	if !e.OldSecretUntil.IsZero() {
		until = Micros(e.OldSecretUntil)
	}
	return []any{e.ID, e.Workspace, e.URL, string(ev), boolInt(e.Enabled), e.DisabledReason, e.Secret, e.OldSecret,
		until, Micros(e.CreatedAt), Micros(e.UpdatedAt)}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateEndpoint stores a new endpoint; ErrConflict if its id exists.
func (b *Base) CreateEndpoint(ctx context.Context, e *webhooks.Endpoint) error {
	_, err := b.W.ExecContext(ctx, "INSERT INTO webhook_endpoints ("+endpointColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		endpointArgs(e)...)
	if err != nil {
		if b.D.IsUniqueViolation(err) {
			return memoryd.ErrConflict
		}
		return b.Fail(fmt.Errorf("store: create webhook: %w", err))
	}
	b.Wrote()
	return nil
}

// endpointsSQL reads the endpoints that match where.
func endpointsSQL(where string) string {
	return "SELECT " + endpointColumns + " FROM webhook_endpoints WHERE " + where + " ORDER BY created_at, id"
}

// WebhookHotReads are the reads an engine may prepare once
// (Base.PrepareReads): every delivery reads its endpoint.
var WebhookHotReads = []string{endpointsSQL("id = ?")}

func (b *Base) queryEndpoints(ctx context.Context, db bun.IDB, where string, args ...any) ([]*webhooks.Endpoint, error) {
	q := endpointsSQL(where)
	var rows *sql.Rows
	var err error
	if p, ok := b.preparedReads[q]; ok && db == bun.IDB(b.R) {
		rows, err = p.QueryContext(ctx, args...)
	} else {
		rows, err = db.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, b.Fail(fmt.Errorf("store: read webhooks: %w", err))
	}
	defer rows.Close()
	var out []*webhooks.Endpoint
	for rows.Next() {
		var r endpointRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		e, err := r.endpoint()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ListEndpoints returns the workspace's endpoints, oldest first.
func (b *Base) ListEndpoints(ctx context.Context, workspace string) ([]*webhooks.Endpoint, error) {
	return b.queryEndpoints(ctx, b.R, "workspace = ?", workspace)
}

// GetEndpoint reads one endpoint of the workspace.
func (b *Base) GetEndpoint(ctx context.Context, workspace, id string) (*webhooks.Endpoint, error) {
	es, err := b.queryEndpoints(ctx, b.R, "workspace = ? AND id = ?", workspace, id)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, errNoEndpoint
	}
	return es[0], nil
}

// EndpointByID reads an endpoint whatever its workspace.
func (b *Base) EndpointByID(ctx context.Context, id string) (*webhooks.Endpoint, error) {
	es, err := b.queryEndpoints(ctx, b.R, "id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, errNoEndpoint
	}
	return es[0], nil
}

// UpdateEndpoint stores e's mutable fields.
func (b *Base) UpdateEndpoint(ctx context.Context, e *webhooks.Endpoint) error {
	a := endpointArgs(e)
	res, err := b.W.ExecContext(ctx, `UPDATE webhook_endpoints SET url = ?, events = ?, enabled = ?, disabled_reason = ?,
secret = ?, old_secret = ?, old_secret_until = ?, updated_at = ? WHERE workspace = ? AND id = ?`,
		a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[10], e.Workspace, e.ID)
	return b.changedOne(res, err, "update webhook", errNoEndpoint)
}

func (b *Base) changedOne(res sql.Result, err error, what string, missing error) error {
	if err != nil {
		return b.Fail(fmt.Errorf("store: %s: %w", what, err))
	}
	b.Wrote()
	if n, _ := res.RowsAffected(); n == 0 {
		return missing
	}
	return nil
}

// DeleteEndpoint removes the endpoint, its messages and its attempts.
func (b *Base) DeleteEndpoint(ctx context.Context, workspace, id string) error {
	err := b.W.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM webhook_endpoints WHERE workspace = ? AND id = ?", workspace, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoEndpoint
		}
		for _, q := range []string{"DELETE FROM webhook_messages WHERE endpoint_id = ?", "DELETE FROM webhook_attempts WHERE endpoint_id = ?"} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errNoEndpoint) {
		return errNoEndpoint
	}
	if err != nil {
		return b.Fail(fmt.Errorf("store: delete webhook: %w", err))
	}
	b.Wrote()
	return nil
}

// HasEndpoints reports whether any endpoint is registered, enabled or not.
func (b *Base) HasEndpoints(ctx context.Context) (bool, error) {
	var n int
	err := b.R.QueryRowContext(ctx, "SELECT 1 FROM webhook_endpoints LIMIT 1").Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, b.Fail(fmt.Errorf("store: read webhooks: %w", err))
	}
	return true, nil
}

// WebhookPosition reads the fan-out's position.
func (b *Base) WebhookPosition(ctx context.Context) (int64, bool, error) {
	var v string
	err := b.R.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", positionKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, b.Fail(fmt.Errorf("store: read webhook position: %w", err))
	}
	seq, err := strconv.ParseInt(v, 10, 64)
	return seq, err == nil, err
}

// InitWebhookPosition sets the position unless one is set.
func (b *Base) InitWebhookPosition(ctx context.Context, seq int64) error {
	_, err := b.W.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
		positionKey, strconv.FormatInt(seq, 10))
	if err != nil {
		return b.Fail(fmt.Errorf("store: init webhook position: %w", err))
	}
	return nil
}

const messageInsertSQL = `INSERT INTO webhook_messages (id, endpoint_id, seq, type, body, status, attempts, next_at, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`

func messageArgs(m *webhooks.Message) []any {
	return []any{m.ID, m.EndpointID, m.Seq, m.Type, string(m.Body), m.Status, m.Attempts, Micros(m.NextAt), Micros(m.CreatedAt)}
}

// FanOut queues the messages of evs and moves the position, atomically.
func (b *Base) FanOut(ctx context.Context, from, to int64, evs []*memoryd.Event,
	build func(*webhooks.Endpoint, *memoryd.Event) (*webhooks.Message, error)) error {
	err := b.W.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The compare-and-set first: on PostgreSQL it locks the row, so
		// a second node's fan-out of the same events waits and then
		// finds the position moved.
		res, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = ? AND value = ?",
			strconv.FormatInt(to, 10), positionKey, strconv.FormatInt(from, 10))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return webhooks.ErrMoved
		}
		return b.queueFor(ctx, tx, evs, build)
	})
	if errors.Is(err, webhooks.ErrMoved) {
		return err
	}
	if err != nil {
		return b.Fail(fmt.Errorf("store: webhook fan-out: %w", err))
	}
	return nil
}

// queueFor inserts the message of every event for every enabled endpoint
// of its workspace that wants its type. An endpoint gets only events
// appended after it was created.
func (b *Base) queueFor(ctx context.Context, tx bun.Tx, evs []*memoryd.Event,
	build func(*webhooks.Endpoint, *memoryd.Event) (*webhooks.Message, error)) error {
	byWS := map[string][]*webhooks.Endpoint{}
	for _, ev := range evs {
		eps, ok := byWS[ev.Workspace]
		if !ok {
			var err error
			if eps, err = b.queryEndpoints(ctx, tx, "workspace = ? AND enabled = 1", ev.Workspace); err != nil {
				return err
			}
			byWS[ev.Workspace] = eps
		}
		for _, ep := range eps {
			if !ep.Wants(ev.Type) || ev.CreatedAt.Before(ep.CreatedAt) {
				continue
			}
			m, err := build(ep, ev)
			if err != nil {
				return err
			}
			if _, err := b.txExec(ctx, tx, messageInsertSQL, messageArgs(m)...); err != nil {
				return err
			}
		}
	}
	return nil
}

// EnqueueMessage queues one message.
func (b *Base) EnqueueMessage(ctx context.Context, m *webhooks.Message) error {
	_, err := b.W.ExecContext(ctx, messageInsertSQL, messageArgs(m)...)
	if err != nil {
		return b.Fail(fmt.Errorf("store: queue webhook message: %w", err))
	}
	b.Wrote()
	return nil
}

const messageColumns = "m.id, m.endpoint_id, m.seq, m.type, m.body, m.status, m.attempts, m.next_at, m.created_at"

// DueMessages returns the head message of each enabled endpoint that is
// due and not leased.
func (b *Base) DueMessages(ctx context.Context, now time.Time, limit int) ([]*webhooks.Message, error) {
	at := Micros(now)
	// One probe of webhook_messages_pending per enabled endpoint finds its
	// head: the work grows with the endpoints, never with their backlogs.
	rows, err := b.R.QueryContext(ctx, `SELECT `+messageColumns+` FROM webhook_endpoints e
JOIN webhook_messages m ON m.id = (SELECT p.id FROM webhook_messages p
	WHERE p.endpoint_id = e.id AND p.status = 'pending' ORDER BY p.seq, p.id LIMIT 1)
WHERE e.enabled = 1 AND m.next_at <= ? AND m.lease_until <= ?
ORDER BY m.next_at LIMIT ?`, at, at, limit)
	if err != nil {
		return nil, b.Fail(fmt.Errorf("store: due webhook messages: %w", err))
	}
	return scanMessages(rows)
}

func scanMessages(rows *sql.Rows) ([]*webhooks.Message, error) {
	defer rows.Close()
	var out []*webhooks.Message
	for rows.Next() {
		var m webhooks.Message
		var body string
		var next, created int64
		if err := rows.Scan(&m.ID, &m.EndpointID, &m.Seq, &m.Type, &body, &m.Status, &m.Attempts, &next, &created); err != nil {
			return nil, err
		}
		m.Body, m.NextAt, m.CreatedAt = []byte(body), FromMicros(next), FromMicros(created)
		out = append(out, &m)
	}
	return out, rows.Err()
}

// LeaseMessage takes a pending message for owner.
func (b *Base) LeaseMessage(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	res, err := b.W.ExecContext(ctx, `UPDATE webhook_messages SET lease_owner = ?, lease_until = ?
WHERE id = ? AND status = 'pending' AND lease_until <= ?`, owner, Micros(until), id, Micros(now))
	if err != nil {
		return false, b.Fail(fmt.Errorf("store: lease webhook message: %w", err))
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishAttempts records the attempts and their messages' new states in
// one transaction (one commit for many endpoints' attempts), leasing each
// endpoint's next run when asked to.
func (b *Base) FinishAttempts(ctx context.Context, owner string, fs []webhooks.Finish) ([]webhooks.Finished, error) {
	out := make([]webhooks.Finished, len(fs))
	err := b.W.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		clear(out)
		for i, f := range fs {
			if err := b.release(ctx, tx, owner, f.Release); err != nil {
				return err
			}
			if f.Attempt == nil {
				continue
			}
			err := b.finish(ctx, tx, owner, f.Attempt, f.Outcome)
			if errors.Is(err, webhooks.ErrLost) {
				out[i].Err = err // this one wrote nothing; the others go on
				continue
			}
			if err != nil {
				return err
			}
			if f.Next != nil && f.Outcome.Disable == "" {
				if out[i].Next, err = b.leaseRun(ctx, tx, f.Attempt.EndpointID, owner, f.Next); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, b.Fail(fmt.Errorf("store: finish webhook attempts: %w", err))
	}
	b.Wrote()
	return out, nil
}

// The statements every delivery runs (WebhookHotSQL).
const (
	finishMessageSQL = `UPDATE webhook_messages SET status = ?, attempts = ?, next_at = ?, lease_owner = '', lease_until = 0
WHERE id = ? AND lease_owner = ?`
	insertAttemptSQL = `INSERT INTO webhook_attempts (id, endpoint_id, message_id, event_type, attempt, attempted_at,
status_code, latency_us, error, response_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	runHeadSQL = `SELECT id, seq, next_at, lease_until FROM webhook_messages
WHERE endpoint_id = ? AND status = 'pending' AND seq >= ? AND (seq > ? OR id > ?) ORDER BY seq, id LIMIT ?`
	leaseRunSQL = `UPDATE webhook_messages SET lease_owner = ?, lease_until = ?
WHERE endpoint_id = ? AND status = 'pending' AND seq >= ? AND (seq > ? OR id > ?) AND seq <= ? AND (seq < ? OR id <= ?)
AND next_at <= ? AND lease_until <= ?
RETURNING ` + messageTableColumns
	releaseSQL = `UPDATE webhook_messages SET lease_owner = '', lease_until = 0
WHERE id = ? AND lease_owner = ? AND status = 'pending'`
	messageTableColumns = "id, endpoint_id, seq, type, body, status, attempts, next_at, created_at"
)

// WebhookHotSQL are the statements an engine may prepare once
// (Base.Prepare): they run for every delivery or run of deliveries.
var WebhookHotSQL = []string{finishMessageSQL, insertAttemptSQL, runHeadSQL, leaseRunSQL, messageInsertSQL}

func (b *Base) finish(ctx context.Context, tx bun.Tx, owner string, a *webhooks.Attempt, o webhooks.Outcome) error {
	res, err := b.txExec(ctx, tx, finishMessageSQL, o.Status, a.N, Micros(o.NextAt), a.MessageID, owner)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return webhooks.ErrLost
	}
	_, err = b.txExec(ctx, tx, insertAttemptSQL,
		a.ID, a.EndpointID, a.MessageID, a.EventType, a.N, Micros(a.At), a.StatusCode, a.Latency.Microseconds(),
		a.Error, a.ResponseBody)
	if err != nil || o.Disable == "" {
		return err
	}
	_, err = tx.ExecContext(ctx, "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?",
		o.Disable, Micros(a.At), a.EndpointID)
	return err
}

// release ends owner's leases of the pending messages ids.
func (b *Base) release(ctx context.Context, tx bun.Tx, owner string, ids []string) error {
	for _, id := range ids {
		if _, err := b.txExec(ctx, tx, releaseSQL, id, owner); err != nil {
			return err
		}
	}
	return nil
}

// leaseRun leases the endpoint's oldest pending messages, up to l.Max, as
// far as each is due and free: the run stops before the first that is
// not, so a message is never attempted ahead of an older pending one.
func (b *Base) leaseRun(ctx context.Context, tx bun.Tx, endpointID, owner string, l *webhooks.Lease) ([]*webhooks.Message, error) {
	at := Micros(l.Now)
	// The run starts after (seq, id) `from`: the head's run after
	// everything, an extension after the run it extends.
	from := runRow{seq: math.MinInt64}
	if l.After != nil {
		from = runRow{seq: l.After.Seq, id: l.After.ID}
	}
	want, err := b.runHead(ctx, tx, endpointID, max(l.Max, 1), at, from)
	if err != nil || len(want) == 0 {
		return nil, err
	}
	last := want[len(want)-1]
	// The range from < (seq, id) <= last, spelled so an index range on
	// seq serves it: the scan is the run, not the endpoint's backlog.
	rows, err := b.txQuery(ctx, tx, leaseRunSQL, owner, Micros(l.Until), endpointID, from.seq, from.seq, from.id,
		last.seq, last.seq, last.id, at, at)
	if err != nil {
		return nil, err
	}
	got, err := scanMessages(rows)
	if err != nil {
		return nil, err
	}
	// On PostgreSQL another node may have changed rows between the read
	// and the update: keep the part that is still the head's run.
	slices.SortFunc(got, func(x, y *webhooks.Message) int {
		return cmp.Or(cmp.Compare(x.Seq, y.Seq), strings.Compare(x.ID, y.ID))
	})
	n := 0
	for n < len(got) && n < len(want) && got[n].ID == want[n].id {
		n++
	}
	var extra []string
	for _, m := range got[n:] {
		extra = append(extra, m.ID)
	}
	return got[:n], b.release(ctx, tx, owner, extra)
}

type runRow struct {
	id  string
	seq int64
}

// runHead reads the endpoint's up to limit oldest pending messages after
// `from` and returns the leading ones that are due and free at `at`.
func (b *Base) runHead(ctx context.Context, tx bun.Tx, endpointID string, limit int, at int64, from runRow) ([]runRow, error) {
	rows, err := b.txQuery(ctx, tx, runHeadSQL, endpointID, from.seq, from.seq, from.id, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []runRow
	for rows.Next() {
		var r runRow
		var next, lease int64
		if err := rows.Scan(&r.id, &r.seq, &next, &lease); err != nil {
			return nil, err
		}
		if next > at || lease > at {
			break
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Redeliver makes the message pending and due now, with a fresh schedule.
func (b *Base) Redeliver(ctx context.Context, endpointID, messageID string, now time.Time) error {
	// The lease goes too: an attempt still in flight then records nothing
	// (ErrLost) instead of marking the message delivered over this request.
	res, err := b.W.ExecContext(ctx, `UPDATE webhook_messages SET status = 'pending', attempts = 0, next_at = ?,
lease_owner = '', lease_until = 0 WHERE endpoint_id = ? AND id = ?`, Micros(now), endpointID, messageID)
	return b.changedOne(res, err, "redeliver webhook message", errNoMessage)
}

// ListAttempts returns the endpoint's newest attempts first.
func (b *Base) ListAttempts(ctx context.Context, endpointID string, limit int) ([]*webhooks.Attempt, error) {
	rows, err := b.R.QueryContext(ctx, `SELECT id, endpoint_id, message_id, event_type, attempt, attempted_at, status_code,
latency_us, error, response_body FROM webhook_attempts WHERE endpoint_id = ? ORDER BY attempted_at DESC, id DESC LIMIT ?`,
		endpointID, limit)
	if err != nil {
		return nil, b.Fail(fmt.Errorf("store: read webhook attempts: %w", err))
	}
	defer rows.Close()
	var out []*webhooks.Attempt
	for rows.Next() {
		var a webhooks.Attempt
		var at, lat int64
		if err := rows.Scan(&a.ID, &a.EndpointID, &a.MessageID, &a.EventType, &a.N, &at, &a.StatusCode, &lat,
			&a.Error, &a.ResponseBody); err != nil {
			return nil, err
		}
		a.At, a.Latency = FromMicros(at), time.Duration(lat)*time.Microsecond
		out = append(out, &a)
	}
	return out, rows.Err()
}

// PruneDeliveries deletes up to limit finished messages queued before
// `before` and up to limit attempts made before it. Bounded deletes keep
// each transaction short beside the writes of the API.
func (b *Base) PruneDeliveries(ctx context.Context, before time.Time, limit int) (int64, error) {
	at := Micros(before)
	var n int64
	for _, q := range []string{
		`DELETE FROM webhook_messages WHERE id IN (SELECT id FROM webhook_messages
WHERE created_at < ? AND status <> 'pending' ORDER BY created_at LIMIT ?)`,
		`DELETE FROM webhook_attempts WHERE id IN (SELECT id FROM webhook_attempts
WHERE attempted_at < ? ORDER BY attempted_at LIMIT ?)`,
	} {
		res, err := b.W.ExecContext(ctx, q, at, limit)
		if err != nil {
			return n, b.Fail(fmt.Errorf("store: prune webhook deliveries: %w", err))
		}
		k, _ := res.RowsAffected()
		n += k
	}
	if n > 0 {
		b.Wrote()
	}
	return n, nil
}
