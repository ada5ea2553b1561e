package main

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/memoryd/memoryd/tools/conformance/stack"
	"github.com/memoryd/memoryd/tools/drills"
)

// runDrills starts the stack and runs the fault drills against it (those
// whose name matches --run, all by default). Every container's log is
// kept when a drill fails.
func runDrills(ctx context.Context, o Options) error {
	loopbackOnly()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if err := ensureDockerd(ctx, root); err != nil {
		return err
	}
	return withStack(ctx, root, o, func(st *Stack) (bool, error) {
		env := &drills.Env{A: st.A.BaseURL, B: st.B.BaseURL, Out: o.Out, Faults: stackFaults{st},
			Key: func(ctx context.Context, ws string) (string, error) { return st.A.CreateKey(ctx, ws) }}
		var keep func(string) bool
		if o.Run != nil {
			keep = o.Run.MatchString
		}
		err := drills.Run(ctx, env, keep)
		return err != nil, err
	})
}

// stackFaults are the drills' faults on the running stack.
type stackFaults struct{ st *Stack }

var _ drills.Faults = stackFaults{}

// container returns the stack's container of a service.
func (f stackFaults) container(name string) (*testcontainers.DockerContainer, error) {
	for i, n := range f.st.names {
		if n == name {
			return f.st.containers[i], nil
		}
	}
	return nil, fmt.Errorf("the stack has no %s", name)
}

// kill sends SIGKILL to a service's container, as `docker kill` does.
func (f stackFaults) kill(ctx context.Context, name string) error {
	c, err := f.container(name)
	if err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, "docker", "kill", "--signal", "KILL", c.GetContainerID()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker kill %s: %w: %s", name, err, out)
	}
	// docker kill returns once the signal is sent: wait for the exit, so
	// that what the drill sends next finds the service gone.
	out, err = exec.CommandContext(ctx, "docker", "wait", c.GetContainerID()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker wait %s after the kill: %w: %s", name, err, out)
	}
	return nil
}

// start starts a stopped service again and waits for its readiness.
func (f stackFaults) start(ctx context.Context, name string) error {
	c, err := f.container(name)
	if err != nil {
		return err
	}
	return c.Start(ctx)
}

func (f stackFaults) KillNodeA(ctx context.Context) error { return f.kill(ctx, stack.NodeA) }

// StartNodeA starts node A and returns its new address: Docker publishes
// a restarted container's port anew.
func (f stackFaults) StartNodeA(ctx context.Context) (string, error) {
	if err := f.start(ctx, stack.NodeA); err != nil {
		return "", err
	}
	if err := f.st.A.resolveURL(ctx); err != nil {
		return "", err
	}
	return f.st.A.BaseURL, nil
}

// StopPostgres stops PostgreSQL with its stop signal (a fast shutdown),
// killing it if that takes longer than the grace period.
func (f stackFaults) StopPostgres(ctx context.Context) error {
	c, err := f.container(stack.Postgres)
	if err != nil {
		return err
	}
	grace := 30 * time.Second
	return c.Stop(ctx, &grace)
}

func (f stackFaults) StartPostgres(ctx context.Context) error { return f.start(ctx, stack.Postgres) }

func (f stackFaults) PostgresDSN(ctx context.Context) (string, error) {
	c, err := f.container(stack.Postgres)
	if err != nil {
		return "", err
	}
	port, err := c.MappedPort(ctx, stack.PostgresService().Port)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable",
		stack.DBUser, stack.DBPassword, port.Port(), stack.DBName), nil
}

func (f stackFaults) KillWeaviate(ctx context.Context) error { return f.kill(ctx, stack.Weaviate) }

func (f stackFaults) StartWeaviate(ctx context.Context) error { return f.start(ctx, stack.Weaviate) }
