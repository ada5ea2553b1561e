package weaviate

import (
	"context"
	"crypto/sha1"
	"fmt"
	"strings"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/filters"
	"github.com/weaviate/weaviate/entities/models"

	memoryd "github.com/memoryd/memoryd/server"
)

// batchSize bounds the objects of one batch request (Weaviate's clients
// default to 100-200; larger batches gain little and hold a request
// longer).
const batchSize = 200

// Upsert stores vec under id, replacing id's previous vector.
func (x *Index) Upsert(workspace, id string, vec []float32) error {
	return x.UpsertDocs(workspace, []Doc{{ID: id, Vector: vec}})
}

// UpsertBatch stores many vectors in batched requests; see UpsertDocs.
func (x *Index) UpsertBatch(workspace string, ids []string, vecs [][]float32) error {
	if len(ids) != len(vecs) {
		return fmt.Errorf("weaviate: %d ids for %d vectors", len(ids), len(vecs))
	}
	docs := make([]Doc, len(ids))
	for i := range ids {
		docs[i] = Doc{ID: ids[i], Vector: vecs[i]}
	}
	return x.UpsertDocs(workspace, docs)
}

// UpsertDocs stores docs (vector and filter attributes) in batches of
// batchSize, replacing earlier versions; of docs with the same id, the
// last wins. Every doc is checked before any is written. A failure may
// leave some batches written; retrying the same docs is safe, since
// object ids are derived from (workspace, id).
//
// A single doc joins the workspace's other single writes (coalesce.go).
func (x *Index) UpsertDocs(workspace string, docs []Doc) error {
	for _, d := range docs {
		if err := x.checkVector(d.Vector, "vector"); err != nil {
			return err
		}
	}
	if len(docs) == 1 {
		return x.upsertOne(workspace, docs[0])
	}
	docs = lastOfEach(docs)
	for start := 0; start < len(docs); start += batchSize {
		if err := x.retry("upsert", func(ctx context.Context) error {
			_, err := x.writeObjects(ctx, workspace, docs[start:min(start+batchSize, len(docs))], false)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// lastOfEach keeps the last doc of each id, in order: one batch must not
// carry two objects with one object id.
func lastOfEach(docs []Doc) []Doc {
	last := make(map[string]int, len(docs))
	for i, d := range docs {
		last[d.ID] = i
	}
	if len(last) == len(docs) {
		return docs
	}
	out := make([]Doc, 0, len(last))
	for i, d := range docs {
		if last[d.ID] == i {
			out = append(out, d)
		}
	}
	return out
}

// retry runs op under the request limit, and once more after Weaviate
// said the collection or tenant is missing (it was wiped while we believed
// it existed: ensureTenant must create them again) or that the collection
// lacks multi-tenancy (auto-schema made it; repairClass replaces it).
func (x *Index) retry(name string, op func(ctx context.Context) error) error {
	err := x.do(name, op)
	switch {
	case err == nil:
	case isClassMissing(err) || isTenantMissing(err):
		x.forget()
		err = x.do(name, op)
	case isWrongClass(err):
		if err := x.do("repair collection", x.repairClass); err != nil {
			return err
		}
		err = x.do(name, op)
	}
	return err
}

// How long do retries an op while Weaviate has a collection in its
// schema whose data it has not loaded (isLoading).
const (
	loadingWait = 3 * time.Second
	loadingPoll = 100 * time.Millisecond
)

// do runs op under the request limit. Until Weaviate has said it is
// ready (at first, and again after it failed to answer), do asks its
// readiness check first: a restarting Weaviate serves requests before it
// has loaded its schema and shards, and answers them as if collections
// and tenants were missing (empty searches, zero counts, the marker gone)
// or loses the writes it takes then.
func (x *Index) do(name string, op func(ctx context.Context) error) error {
	if x.unready.Load() {
		if err := x.Ping(context.Background()); err != nil {
			return err
		}
		x.unready.Store(false)
	}
	ctx, cancel := x.limit(context.Background(), name)
	defer cancel()
	err := op(ctx)
	for start := time.Now(); isLoading(err) && time.Since(start) < loadingWait && ctx.Err() == nil; {
		// Just created, or loading after a restart: a moment, usually.
		time.Sleep(loadingPoll)
		err = op(ctx)
	}
	if memoryd.ErrorCode(err) == memoryd.EUNAVAILABLE {
		x.unready.Store(true)
	}
	return err
}

// writeObjects writes one batch request of docs. When Weaviate answered,
// objErrs holds each doc's error (nil when stored) and err the first of
// them; when the request failed, objErrs is nil. waited: callers wait for
// this request (see below).
func (x *Index) writeObjects(ctx context.Context, workspace string, docs []Doc, waited bool) (objErrs []error, err error) {
	tenant, err := x.ensureTenant(ctx, workspace)
	if err != nil {
		return nil, err
	}
	objs := make([]*models.Object, len(docs))
	for i, d := range docs {
		objs[i] = &models.Object{
			Class: x.cfg.Class, Tenant: tenant, ID: objectID(workspace, d.ID),
			Vector: d.Vector, Properties: d.properties(),
		}
	}
	c := x.client
	if waited && x.rest != nil {
		// API writes wait for this: REST notices a vanished Weaviate
		// within deadPeerTimeout, gRPC only at the request limit.
		c = x.rest
	}
	res, err := c.Batch().ObjectsBatcher().WithObjects(objs...).Do(ctx)
	if err != nil && c != x.rest && x.rest != nil && isUnavailable(ctx, err) {
		// gRPC waits out its reconnect backoff (up to minutes) after an
		// outage even when Weaviate is back; REST connects afresh.
		res, err = x.rest.Batch().ObjectsBatcher().WithObjects(objs...).Do(ctx)
	}
	if err != nil {
		return nil, classify(ctx, "batch", err)
	}
	objErrs = make([]error, len(docs))
	for i, r := range res {
		if r.Result != nil && r.Result.Errors != nil && len(r.Result.Errors.Error) > 0 && i < len(docs) {
			objErrs[i] = classify(ctx, "batch", fmt.Errorf("memory %q: %s", docs[i].ID, r.Result.Errors.Error[0].Message))
			if err == nil {
				err = objErrs[i]
			}
		}
	}
	return objErrs, err
}

// Delete removes id's vector; memoryd.ErrNotFound when there is none.
// (Weaviate's delete by object id succeeds for absent objects, so this is
// a delete by filter, which reports its matches.)
func (x *Index) Delete(workspace, id string) error {
	n, err := x.deleteIDs(workspace, []string{id})
	if err == nil && n == 0 {
		return memoryd.ErrNotFound
	}
	return err
}

// DeleteBatch removes the vectors of ids; absent ones are ignored.
func (x *Index) DeleteBatch(workspace string, ids []string) error {
	_, err := x.deleteIDs(workspace, ids)
	return err
}

// deleteIDs deletes by id in batches and returns how many objects matched.
func (x *Index) deleteIDs(workspace string, ids []string) (int, error) {
	deleted := 0
	for start := 0; start < len(ids); start += batchSize {
		chunk := ids[start:min(start+batchSize, len(ids))]
		err := x.do("delete", func(ctx context.Context) error {
			res, err := x.client.Batch().ObjectsBatchDeleter().WithClassName(x.cfg.Class).
				WithTenant(tenantName(workspace)).WithOutput("minimal").WithWhere(idFilter(chunk)).Do(ctx)
			switch {
			case err == nil && res != nil && res.Results != nil:
				if res.Results.Failed > 0 {
					return fmt.Errorf("weaviate delete: %d of %d objects failed", res.Results.Failed, res.Results.Matches)
				}
				deleted += int(res.Results.Matches)
			case err == nil:
			case isTenantMissing(err), isClassMissing(err):
			default:
				return classify(ctx, "delete", err)
			}
			return nil
		})
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// idFilter matches the objects whose memoryId is one of ids.
func idFilter(ids []string) *filters.WhereBuilder {
	return filters.Where().WithPath([]string{propID}).WithOperator(filters.ContainsAny).WithValueText(ids...)
}

// idSpace namespaces object ids (a name-based UUID, RFC 9562 version 5).
var idSpace = [16]byte{0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x64, 0x2e, 0x77, 0x65, 0x61, 0x76, 0x69, 0x61, 0x74, 0x65}

// objectID is the object UUID of (workspace, id): the same on every node
// and every replay, so writes are idempotent.
func objectID(workspace, id string) strfmt.UUID {
	h := sha1.New()
	h.Write(idSpace[:])
	h.Write([]byte(workspace))
	h.Write([]byte{0})
	h.Write([]byte(id))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	const hexd = "0123456789abcdef"
	var b strings.Builder
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b.WriteByte('-')
		}
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&0xf])
	}
	return strfmt.UUID(b.String())
}
