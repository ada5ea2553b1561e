// Package drills runs the production stack's fault drills: node A killed
// (kill -9) under writing clients that fail over to node B, PostgreSQL
// restarted under load, and Weaviate killed and restarted under load. Each
// drill drives the stack through its public API only (plus the event log
// read from PostgreSQL, to know the order the streams must follow),
// prints its figures and returns an error naming what did not hold.
//
// The stack itself (containers, their faults) comes from the caller
// through Env; tools/conformance/harness runs the drills with
// `--stack scale --drills` (`make drills`).
package drills

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Faults are the stack operations a drill needs.
type Faults interface {
	// KillNodeA sends SIGKILL to node A's container.
	KillNodeA(ctx context.Context) error
	// StartNodeA starts node A again, waits until it is ready and returns
	// its (possibly new) base URL.
	StartNodeA(ctx context.Context) (string, error)
	// StopPostgres stops PostgreSQL (its stop signal, a fast shutdown);
	// StartPostgres starts it again and waits until it accepts connections.
	StopPostgres(ctx context.Context) error
	StartPostgres(ctx context.Context) error
	// PostgresDSN is how this machine reaches the database now.
	PostgresDSN(ctx context.Context) (string, error)
	// KillWeaviate sends SIGKILL to Weaviate; StartWeaviate starts it
	// again and waits until it is ready.
	KillWeaviate(ctx context.Context) error
	StartWeaviate(ctx context.Context) error
}

// Env is the running stack.
type Env struct {
	A, B string // the nodes' base URLs (http://host:port)
	// Key creates an API key for a workspace (valid on both nodes).
	Key    func(ctx context.Context, workspace string) (string, error)
	Faults Faults
	Out    io.Writer
}

// A drill is one fault scenario.
type drill struct {
	name string
	run  func(ctx context.Context, env *Env) error
}

var all = []drill{
	{"kill-node-a", killNodeA},
	{"postgres-restart", postgresRestart},
	{"weaviate-restart", weaviateRestart},
}

// Names lists the drills in the order Run runs them.
func Names() []string {
	var out []string
	for _, d := range all {
		out = append(out, d.name)
	}
	return out
}

// Run runs the drills whose names pass keep (all when keep is nil), one
// after the other, and returns every drill's failure.
func Run(ctx context.Context, env *Env, keep func(string) bool) error {
	var errs []error
	for _, d := range all {
		if keep != nil && !keep(d.name) {
			continue
		}
		start := time.Now()
		fmt.Fprintf(env.Out, "\ndrill %s\n", d.name)
		err := within(ctx, drillLimit, "drill "+d.name, func(ctx context.Context) error { return d.run(ctx, env) })
		status := "PASS"
		if err != nil {
			status = "FAIL: " + err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", d.name, err))
		}
		fmt.Fprintf(env.Out, "drill %s %s (%s)\n", d.name, status, time.Since(start).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}
