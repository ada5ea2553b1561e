package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The time limits of the harness's steps. Each leaves room for a cold,
// busy two-core machine: empty build caches, apt installing docker.io,
// other builds and tests sharing the cores. A limit that runs out names
// its step (see within).
const (
	// tools/docker/ensure-dockerd.sh: may apt-get install docker.io, then
	// waits for dockerd to answer.
	dockerdLimit = 10 * time.Minute
	// tools/docker/build-image.sh: a go build of memoryd that may find no
	// build cache (it builds with -trimpath, so it shares no cache entries
	// with go test), then a docker build of a FROM scratch image.
	buildLimit = 15 * time.Minute
	// From `docker run` until /api/v1/health answers.
	startLimit = 3 * time.Minute
	// One `memoryd keys create` inside the container.
	keyLimit = 2 * time.Minute
	// Saving the container's log, and removing the container.
	logsLimit = 2 * time.Minute
	stopLimit = 2 * time.Minute
)

// limitExceeded is the cause of a step's context when its limit ran out.
type limitExceeded struct {
	step  string
	limit time.Duration
}

func (e *limitExceeded) Error() string {
	return fmt.Sprintf("%s exceeded its %s limit", e.step, e.limit)
}

// within runs f with ctx limited to d. When the limit runs out, the error
// says which step and limit it was, followed by what f returned (often
// only "signal: killed" or "context deadline exceeded").
func within(ctx context.Context, d time.Duration, step string, f func(context.Context) error) error {
	lctx, cancel := context.WithTimeoutCause(ctx, d, &limitExceeded{step: step, limit: d})
	defer cancel()
	err := f(lctx)
	if err == nil {
		return nil
	}
	if le := (*limitExceeded)(nil); errors.As(context.Cause(lctx), &le) {
		return fmt.Errorf("%w (%v)", le, err)
	}
	return err
}
