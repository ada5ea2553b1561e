package weaviate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"

	"github.com/weaviate/weaviate-go-client/v4/weaviate/fault"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	memoryd "github.com/memoryd/memoryd/server"
)

// errUnavailable is what callers see when Weaviate does not answer; the
// cause stays wrapped for the logs.
var errUnavailable = memoryd.Errorf(memoryd.EUNAVAILABLE, "Vector index unavailable")

// errNotReady: Weaviate answers, but not yet as ready (it is starting).
var errNotReady = away{memoryd.Errorf(memoryd.EUNAVAILABLE, "Vector index is not ready")}

// away wraps the errors that say Weaviate did not answer or was not
// ready. (errors.Is cannot tell them: a *memoryd.Error matches any error
// of its code, the database's EUNAVAILABLE too.)
type away struct{ error }

func (a away) Unwrap() error { return a.error }

// WentAway reports whether err says Weaviate did not answer or was not
// ready: it may have restarted, and lost writes it had acknowledged.
// The index feeder then compares it with the database (indexer.Marker).
func (x *Index) WentAway(err error) bool {
	return errors.As(err, new(away))
}

// classify turns a client error into a memoryd error: EUNAVAILABLE when
// Weaviate did not answer (refused, timed out, 5xx), EINVALID for a
// dimension Weaviate rejects, otherwise an internal error. The original
// error stays in the chain.
func classify(ctx context.Context, op string, err error) error {
	if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", cause, err)
	}
	switch {
	case isDimensionError(err.Error()):
		return fmt.Errorf("weaviate %s: %w: %w", op,
			memoryd.Errorf(memoryd.EINVALID, "Vector dimension does not match the workspace's vectors"), err)
	case isUnavailable(ctx, err):
		return away{fmt.Errorf("weaviate %s: %w: %w", op, errUnavailable, err)}
	}
	return fmt.Errorf("weaviate %s: %w", op, err)
}

func isUnavailable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if code, ok := httpStatus(err); ok {
		return code <= 0 || code >= 500 // no HTTP answer at all, or a server error
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if isLoading(err) {
		return true // for longer than do waits: Weaviate is starting
	}
	switch status.Code(unwrapStatus(err)) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return true
	}
	return false
}

// httpStatus is the HTTP status of the innermost client error in err's
// chain that has one (the client wraps a 422 in an error of status -1 and
// does not implement Unwrap), or <= 0 when none does; ok is false when
// err holds no client error.
func httpStatus(err error) (code int, ok bool) {
	var ce *fault.WeaviateClientError
	if !errors.As(err, &ce) {
		return 0, false
	}
	code = ce.StatusCode
	for ce.DerivedFromError != nil {
		var inner *fault.WeaviateClientError
		if !errors.As(ce.DerivedFromError, &inner) {
			break
		}
		ce = inner
		if ce.StatusCode > 0 {
			code = ce.StatusCode
		}
	}
	return code, true
}

// unwrapStatus finds a gRPC status error in err's chain (the client wraps
// them with fmt.Errorf).
func unwrapStatus(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if _, ok := status.FromError(e); ok {
			return e
		}
	}
	return err
}

// isLoading matches Weaviate's answer for a collection that is in its
// schema but whose data it has not loaded: for a moment after the
// collection is created, and after a restart until the shards are loaded.
func isLoading(err error) bool {
	return err != nil && strings.Contains(err.Error(), "non-existing index")
}

// isDimensionError matches Weaviate's messages for a vector whose length
// differs from the shard's: on insert "new node has a vector with length
// 33. Existing nodes have vectors with length 32" (common.
// ErrWrongDimensions), on search "vector lengths don't match".
func isDimensionError(msg string) bool {
	for _, s := range []string{"vector with length", "vector lengths don't match", "vector dimensions do not match"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isTenantMissing matches Weaviate's answer for a tenant (workspace) that
// does not exist yet.
func isTenantMissing(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "tenant not found") || strings.Contains(msg, "tenant") && strings.Contains(msg, "not found")
}

// isClassMissing matches Weaviate's answers for a collection that does not
// exist, or not yet on this node (never created, being created by another
// writer, or Weaviate was wiped). A schema without any collection has no
// GraphQL schema at all.
func isClassMissing(err error) bool {
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"no graphql provider present", "cannot query field", "could not find class"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return (strings.Contains(msg, "class") || strings.Contains(msg, "collection")) && strings.Contains(msg, "not found")
}

// isWrongClass matches Weaviate's answer for a tenant write to a
// collection without multi-tenancy (see repairClass).
func isWrongClass(err error) bool {
	return strings.Contains(err.Error(), "multi-tenancy disabled")
}

// isUntenanted matches Weaviate's answer for a query naming a tenant on a
// collection without multi-tenancy.
func isUntenanted(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), `unknown argument "tenant"`)
}

// checkVector rejects what no index can rank: empty, non-finite, zero
// vectors, and (when Config.Dims is set) another dimension.
func (x *Index) checkVector(vec []float32, what string) error {
	if len(vec) == 0 {
		return memoryd.Errorf(memoryd.EINVALID, "%s is empty", what)
	}
	if x.cfg.Dims > 0 && len(vec) != x.cfg.Dims {
		return memoryd.Errorf(memoryd.EINVALID, "%s has %d dimensions, the index has %d", what, len(vec), x.cfg.Dims)
	}
	var norm float64
	for _, f := range vec {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return memoryd.Errorf(memoryd.EINVALID, "%s has a non-finite component", what)
		}
		norm += float64(f) * float64(f)
	}
	if norm == 0 {
		return memoryd.Errorf(memoryd.EINVALID, "%s is zero", what)
	}
	return nil
}
