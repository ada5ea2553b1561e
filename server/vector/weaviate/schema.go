package weaviate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/weaviate/weaviate-go-client/v4/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"
)

// Properties of each object. memoryId is the memory's id (what searches
// return and id lists filter on); the others are the attributes a
// memoryd.Filter tests, stored by UpsertDocs (docs.go).
const (
	propID      = "memoryId"
	propType    = "type"
	propSource  = "source"
	propTags    = "tags"
	propMeta    = "meta"
	propCreated = "createdAt"
)

// class is the collection's definition: multi-tenant, vectors supplied
// by us, cosine distance, exact-match (field-tokenized) filterable
// properties and no full-text index (keyword search stays in the store).
func (x *Index) class() *models.Class {
	yes, no := true, false
	text := func(name string, array bool) *models.Property {
		dt := "text"
		if array {
			dt = "text[]"
		}
		return &models.Property{Name: name, DataType: []string{dt}, Tokenization: "field",
			IndexFilterable: &yes, IndexSearchable: &no}
	}
	return &models.Class{
		Class:           x.cfg.Class,
		Description:     "memoryd memory vectors, one tenant per workspace",
		Vectorizer:      "none",
		VectorIndexType: "hnsw",
		// Weaviate searches the allowed objects exactly when a filter
		// leaves fewer than flatSearchCutoff of them, which SearchIDs'
		// batches always do.
		VectorIndexConfig: map[string]any{"distance": "cosine", "flatSearchCutoff": 40000},
		MultiTenancyConfig: &models.MultiTenancyConfig{
			Enabled: true, AutoTenantCreation: true, AutoTenantActivation: true,
		},
		Properties: []*models.Property{
			text(propID, false), text(propType, false), text(propSource, false),
			text(propTags, true), text(propMeta, true),
			{Name: propCreated, DataType: []string{"date"}, IndexFilterable: &yes, IndexRangeFilters: &yes},
		},
	}
}

// ensureClass creates the collection unless it is known to exist.
// Another node may create it concurrently: a failed create is fine when
// the collection then exists.
func (x *Index) ensureClass(ctx context.Context) error {
	x.mu.Lock()
	known := x.schema
	x.mu.Unlock()
	if known {
		return nil
	}
	// One creation at a time in this process; the others then find it.
	x.createMu.Lock()
	defer x.createMu.Unlock()
	x.mu.Lock()
	known = x.schema
	x.mu.Unlock()
	if known {
		return nil
	}
	exists, err := x.client.Schema().ClassExistenceChecker().WithClassName(x.cfg.Class).Do(ctx)
	if err != nil {
		return classify(ctx, "schema", err)
	}
	if !exists {
		err := x.client.Schema().ClassCreator().WithClass(x.class()).Do(ctx)
		if err != nil {
			exists, err2 := x.client.Schema().ClassExistenceChecker().WithClassName(x.cfg.Class).Do(ctx)
			if err2 != nil || !exists {
				return classify(ctx, "create collection", err)
			}
		}
	}
	x.mu.Lock()
	x.schema = true
	x.mu.Unlock()
	return nil
}

// ensureTenant creates workspace's tenant unless it is known to exist.
// Creating an existing tenant is not an error in Weaviate, so concurrent
// nodes need no coordination.
func (x *Index) ensureTenant(ctx context.Context, workspace string) (string, error) {
	name := tenantName(workspace)
	x.mu.Lock()
	_, known := x.tenants[name]
	x.mu.Unlock()
	if known {
		return name, nil
	}
	if err := x.ensureClass(ctx); err != nil {
		return "", err
	}
	err := x.client.Schema().TenantsCreator().WithClassName(x.cfg.Class).
		WithTenants(models.Tenant{Name: name}).Do(ctx)
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return "", classify(ctx, "create tenant", err)
	}
	x.mu.Lock()
	x.tenants[name] = struct{}{}
	x.mu.Unlock()
	return name, nil
}

// repairClass handles a collection of our name without multi-tenancy:
// Weaviate's auto-schema creates one when a write reaches a wiped Weaviate
// before we recreate the collection. Empty, it is replaced by ours; with
// objects it is someone else's, which is an error for the operator.
func (x *Index) repairClass(ctx context.Context) error {
	c, err := x.client.Schema().ClassGetter().WithClassName(x.cfg.Class).Do(ctx)
	if err != nil {
		return classify(ctx, "repair collection", err)
	}
	if c.MultiTenancyConfig != nil && c.MultiTenancyConfig.Enabled {
		return nil
	}
	resp, err := x.client.GraphQL().Aggregate().WithClassName(x.cfg.Class).
		WithFields(graphql.Field{Name: "meta", Fields: []graphql.Field{{Name: "count"}}}).Do(ctx)
	if err == nil {
		err = gqlError(resp)
	}
	var rows []struct {
		Meta struct {
			Count int `json:"count"`
		} `json:"meta"`
	}
	if err == nil {
		err = decodeData(resp, "Aggregate", x.cfg.Class, &rows)
	}
	if err != nil {
		return classify(ctx, "repair collection", err)
	}
	if len(rows) > 0 && rows[0].Meta.Count > 0 {
		return fmt.Errorf("weaviate: collection %s exists without multi-tenancy and holds %d objects; "+
			"memoryd needs a collection of its own (Config.Class)", x.cfg.Class, rows[0].Meta.Count)
	}
	if err := x.client.Schema().ClassDeleter().WithClassName(x.cfg.Class).Do(ctx); err != nil {
		return classify(ctx, "repair collection", err)
	}
	x.forget()
	return nil
}

// forget drops what the index believes exists, after Weaviate said the
// collection or a tenant is missing (it was wiped or restored): the next
// write creates them again.
func (x *Index) forget() {
	x.mu.Lock()
	x.schema = false
	clear(x.tenants)
	x.mu.Unlock()
}

// tenantName maps a workspace to a Weaviate tenant name (which allows
// only [A-Za-z0-9_-], 1 to 64 characters) one to one. Workspaces are
// [A-Za-z0-9_.-], up to 128: '_' is written "__" and '.' "_d", so names
// stay readable; a name that is then too long (or empty, or has other
// characters) becomes "_h" and 40 hex digits of its SHA-256, which no
// escaped name can equal (there '_' is always followed by '_' or 'd').
func tenantName(workspace string) string {
	var b strings.Builder
	for i := 0; i < len(workspace); i++ {
		switch c := workspace[i]; {
		case c == '_':
			b.WriteString("__")
		case c == '.':
			b.WriteString("_d")
		case c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			b.WriteByte(c)
		default:
			return hashedName(workspace)
		}
	}
	if b.Len() == 0 || b.Len() > 64 {
		return hashedName(workspace)
	}
	return b.String()
}

func hashedName(workspace string) string {
	sum := sha256.Sum256([]byte(workspace))
	return fmt.Sprintf("_h%s", hex.EncodeToString(sum[:20]))
}
