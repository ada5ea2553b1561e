package weaviate

import (
	"context"
	"errors"
	"strings"

	"github.com/weaviate/weaviate/entities/models"
)

// markerTenant holds one object that says "this collection was filled
// from the database". tenantName never yields it: there a '_' is always
// followed by '_', 'd' or 'h'.
const markerTenant = "_memoryd"

// Mark records in Weaviate that the collection holds the database's
// vectors (after a full load or re-index). Marked tells whether the
// record is still there: a Weaviate wiped or replaced while memoryd runs
// loses it, even when writes have since created the collection again.
func (x *Index) Mark(context.Context) error {
	return x.retry("mark", func(ctx context.Context) error {
		if err := x.ensureClass(ctx); err != nil {
			return err
		}
		err := x.client.Schema().TenantsCreator().WithClassName(x.cfg.Class).
			WithTenants(models.Tenant{Name: markerTenant}).Do(ctx)
		if err != nil && !strings.Contains(err.Error(), "already exists") {
			return classify(ctx, "create marker tenant", err)
		}
		obj := &models.Object{Class: x.cfg.Class, Tenant: markerTenant, ID: objectID("", "marker"),
			Properties: map[string]any{propID: "marker"}}
		res, err := x.client.Batch().ObjectsBatcher().WithObjects(obj).Do(ctx)
		if err != nil {
			return classify(ctx, "mark", err)
		}
		for _, r := range res {
			if r.Result != nil && r.Result.Errors != nil && len(r.Result.Errors.Error) > 0 {
				return classify(ctx, "mark", errors.New(r.Result.Errors.Error[0].Message))
			}
		}
		return nil
	})
}

// Marked reports whether Mark's record is in Weaviate.
func (x *Index) Marked(context.Context) (bool, error) {
	n, err := x.countTenant(markerTenant)
	return n > 0, err
}
