package weaviate

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/weaviate/weaviate-go-client/v4/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"

	memoryd "github.com/memoryd/memoryd/server"
)

// Id lists are sent in batches of idsPerQuery (a where-filter of that many
// values stays a small request, and under flatSearchCutoff, so Weaviate
// ranks each batch exactly), idQueries of them at a time.
const (
	idsPerQuery = 1000
	idQueries   = 4
)

// Search returns up to k ids of workspace most similar to query, best
// first. allow, when non-nil, restricts the candidates: a func cannot be
// sent to Weaviate, so the workspace's ids are listed, allow picks among
// them and SearchIDs ranks those (a scan of every id: callers that know
// the filter's ids or conditions should call SearchIDs or SearchFilter).
func (x *Index) Search(workspace string, query []float32, k int, allow func(id string) bool) ([]memoryd.Scored, error) {
	if err := x.checkVector(query, "query vector"); err != nil {
		return nil, err
	}
	if k <= 0 {
		return []memoryd.Scored{}, nil
	}
	if allow == nil {
		return x.nearest(workspace, query, k, nil)
	}
	all, err := x.IDs(workspace)
	if err != nil {
		return nil, err
	}
	ids := all[:0]
	for _, id := range all {
		if allow(id) {
			ids = append(ids, id)
		}
	}
	return x.SearchIDs(workspace, query, k, ids)
}

// SearchIDs ranks only the given ids (unknown ones are ignored): each
// batch of idsPerQuery ids is ranked exactly inside Weaviate and the
// batches' top k are merged, so the result is the true top k of the list.
func (x *Index) SearchIDs(workspace string, query []float32, k int, ids []string) ([]memoryd.Scored, error) {
	if err := x.checkVector(query, "query vector"); err != nil {
		return nil, err
	}
	ids = unique(ids)
	if k <= 0 || len(ids) == 0 {
		return []memoryd.Scored{}, nil
	}
	var (
		mu       sync.Mutex
		merged   []memoryd.Scored
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, idQueries)
	)
	for start := 0; start < len(ids); start += idsPerQuery {
		chunk := ids[start:min(start+idsPerQuery, len(ids))]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			hits, err := x.nearest(workspace, query, min(k, len(chunk)), idFilter(chunk))
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			merged = append(merged, hits...)
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	sortHits(merged)
	return merged[:min(k, len(merged))], nil
}

// SearchFilter ranks the workspace's vectors that match f, with f's
// conditions evaluated inside Weaviate on the attributes UpsertDocs
// stored, before ranking: k hits whenever k match, however selective the
// filter. Under flatSearchCutoff matches Weaviate ranks them exactly;
// above it, by its filtered graph search (approximate, as unfiltered
// searches are).
func (x *Index) SearchFilter(workspace string, query []float32, k int, f memoryd.Filter) ([]memoryd.Scored, error) {
	if err := x.checkVector(query, "query vector"); err != nil {
		return nil, err
	}
	where, err := filterWhere(f)
	if err != nil {
		return nil, err
	}
	if k <= 0 {
		return []memoryd.Scored{}, nil
	}
	return x.nearest(workspace, query, k, where)
}

// nearest runs one nearVector query of workspace's tenant; a workspace
// that has no tenant yet has no vectors.
func (x *Index) nearest(workspace string, query []float32, k int, where *filters.WhereBuilder) ([]memoryd.Scored, error) {
	var hits []memoryd.Scored
	err := x.do("search", func(ctx context.Context) error {
		var err error
		if where == nil && x.grpc != nil {
			hits, err = x.grpc.search(ctx, x.cfg.Class, tenantName(workspace), query, min(k, maxResults))
		} else {
			hits, err = x.nearestGraphQL(ctx, workspace, query, k, where)
		}
		if err != nil {
			if isTenantMissing(err) || isClassMissing(err) {
				hits = nil
				return nil
			}
			return classify(ctx, "search", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if hits == nil {
		hits = []memoryd.Scored{}
	}
	sortHits(hits)
	return hits, nil
}

// nearestGraphQL is nearest's query as GraphQL, for filtered searches
// and Weaviate without gRPC.
func (x *Index) nearestGraphQL(ctx context.Context, workspace string, query []float32, k int,
	where *filters.WhereBuilder) ([]memoryd.Scored, error) {
	q := x.client.GraphQL().Get().WithClassName(x.cfg.Class).WithTenant(tenantName(workspace)).
		WithNearVector(x.client.GraphQL().NearVectorArgBuilder().WithVector(query)).
		WithLimit(min(k, maxResults)).
		WithFields(graphql.Field{Name: propID}, graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "distance"}}})
	if where != nil {
		q = q.WithWhere(where)
	}
	resp, err := q.Do(ctx)
	if err != nil {
		return nil, err
	}
	return x.parseHits(resp)
}

type hitRow struct {
	ID         string `json:"memoryId"`
	Additional struct {
		Distance float64 `json:"distance"`
	} `json:"_additional"`
}

// parseHits reads a Get answer; scores are cosine similarity, 1 - the
// cosine distance Weaviate reports.
func (x *Index) parseHits(resp *models.GraphQLResponse) ([]memoryd.Scored, error) {
	if err := gqlError(resp); err != nil {
		return nil, err
	}
	var rows []hitRow
	if err := decodeData(resp, "Get", x.cfg.Class, &rows); err != nil {
		return nil, err
	}
	out := make([]memoryd.Scored, len(rows))
	for i, r := range rows {
		out[i] = memoryd.Scored{ID: r.ID, Score: float32(1 - r.Additional.Distance)}
	}
	return out, nil
}

// gqlError is the answer's first GraphQL error.
func gqlError(resp *models.GraphQLResponse) error {
	if resp == nil {
		return fmt.Errorf("empty GraphQL answer")
	}
	if len(resp.Errors) > 0 && resp.Errors[0] != nil {
		return fmt.Errorf("graphql: %s", resp.Errors[0].Message)
	}
	return nil
}

// decodeData decodes resp.Data[op][class] into out.
func decodeData(resp *models.GraphQLResponse, op, class string, out any) error {
	byClass, ok := resp.Data[op].(map[string]any)
	if !ok {
		return fmt.Errorf("graphql: no %s in the answer", op)
	}
	raw, err := json.Marshal(byClass[class])
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// sortHits orders best first, ties by id so merges are deterministic.
func sortHits(h []memoryd.Scored) {
	slices.SortFunc(h, func(a, b memoryd.Scored) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

func unique(ids []string) []string {
	seen := make(map[string]struct{}, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}
