package weaviate

import (
	"github.com/weaviate/weaviate-go-client/v4/weaviate/filters"

	memoryd "github.com/memoryd/memoryd/server"
)

// filterWhere is f as a Weaviate where-filter on the properties UpsertDocs
// stores (nil for an empty filter), with the stores' semantics: type and
// source equal, every tag present, metadata keys equal as JSON scalars,
// created in [CreatedAfter, CreatedBefore).
func filterWhere(f memoryd.Filter) (*filters.WhereBuilder, error) {
	var ops []*filters.WhereBuilder
	eq := func(prop, v string) {
		ops = append(ops, filters.Where().WithPath([]string{prop}).WithOperator(filters.Equal).WithValueText(v))
	}
	if f.Type != "" {
		eq(propType, f.Type)
	}
	if f.Source != "" {
		eq(propSource, f.Source)
	}
	if len(f.Tags) > 0 {
		ops = append(ops, filters.Where().WithPath([]string{propTags}).WithOperator(filters.ContainsAll).WithValueText(f.Tags...))
	}
	if len(f.Metadata) > 0 {
		entries := make([]string, 0, len(f.Metadata))
		for k, v := range f.Metadata {
			e, ok := metaEntry(k, v)
			if !ok {
				return nil, memoryd.Errorf(memoryd.EINVALID, "metadata filter %q must be a string, number, boolean or null", k)
			}
			entries = append(entries, e)
		}
		ops = append(ops, filters.Where().WithPath([]string{propMeta}).WithOperator(filters.ContainsAll).WithValueText(entries...))
	}
	if f.CreatedAfter != nil {
		ops = append(ops, filters.Where().WithPath([]string{propCreated}).WithOperator(filters.GreaterThanEqual).WithValueDate(f.CreatedAfter.UTC()))
	}
	if f.CreatedBefore != nil {
		ops = append(ops, filters.Where().WithPath([]string{propCreated}).WithOperator(filters.LessThan).WithValueDate(f.CreatedBefore.UTC()))
	}
	switch len(ops) {
	case 0:
		return nil, nil
	case 1:
		return ops[0], nil
	}
	return filters.Where().WithOperator(filters.And).WithOperands(ops), nil
}
