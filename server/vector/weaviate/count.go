package weaviate

import (
	"context"
	"log/slog"

	"github.com/weaviate/weaviate-go-client/v4/weaviate/graphql"
)

// pageSize is the ids one cursor page of IDs reads.
const pageSize = 1000

// Len returns the number of vectors in workspace; 0 when Weaviate cannot
// be asked (the error is logged; Count reports it).
func (x *Index) Len(workspace string) int {
	n, err := x.Count(workspace)
	if err != nil {
		slog.Error("weaviate: counting a workspace's vectors", "workspace", workspace, "err", err)
	}
	return n
}

// Count returns the number of vectors in workspace (an aggregate of its
// tenant; 0 for a workspace without one).
func (x *Index) Count(workspace string) (int, error) {
	return x.countTenant(tenantName(workspace))
}

// countTenant counts the objects of tenant; 0 when it or the collection
// does not exist.
func (x *Index) countTenant(tenant string) (int, error) {
	var n int
	err := x.do("count", func(ctx context.Context) error {
		resp, err := x.client.GraphQL().Aggregate().WithClassName(x.cfg.Class).WithTenant(tenant).
			WithFields(graphql.Field{Name: "meta", Fields: []graphql.Field{{Name: "count"}}}).Do(ctx)
		if err == nil {
			err = gqlError(resp)
		}
		if err == nil {
			var rows []struct {
				Meta struct {
					Count int `json:"count"`
				} `json:"meta"`
			}
			if err = decodeData(resp, "Aggregate", x.cfg.Class, &rows); err == nil && len(rows) > 0 {
				n = rows[0].Meta.Count
			}
		}
		// A collection that lacks multi-tenancy (auto-schema made it after
		// a wipe; the next write replaces it) holds none of our tenants.
		if err != nil && !isTenantMissing(err) && !isClassMissing(err) && !isUntenanted(err) {
			return classify(ctx, "count", err)
		}
		return nil
	})
	return n, err
}

// IDs lists workspace's memory ids, in object-id order, with Weaviate's
// cursor (pages of pageSize, each under the request limit).
func (x *Index) IDs(workspace string) ([]string, error) {
	var ids []string
	after := ""
	for {
		var rows []struct {
			ID         string `json:"memoryId"`
			Additional struct {
				ID string `json:"id"`
			} `json:"_additional"`
		}
		err := x.do("list ids", func(ctx context.Context) error {
			q := x.client.GraphQL().Get().WithClassName(x.cfg.Class).WithTenant(tenantName(workspace)).
				WithLimit(pageSize).
				WithFields(graphql.Field{Name: propID}, graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "id"}}})
			if after != "" {
				q = q.WithAfter(after)
			}
			resp, err := q.Do(ctx)
			if err == nil {
				err = gqlError(resp)
			}
			if err == nil {
				err = decodeData(resp, "Get", x.cfg.Class, &rows)
			}
			if err != nil && !isTenantMissing(err) && !isClassMissing(err) {
				return classify(ctx, "list ids", err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		if len(rows) < pageSize {
			return ids, nil
		}
		after = rows[len(rows)-1].Additional.ID
	}
}
