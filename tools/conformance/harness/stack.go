package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/memoryd/memoryd/tools/conformance/stack"
)

// stackImages are the images of the stack, built here (no registry).
type stackImages struct {
	postgres, weaviate, memoryd string
}

// buildStackImages builds (or finds cached) the stack's images: memoryd's
// FROM scratch image under memorydTag, PostgreSQL from this machine's
// Debian packages and Weaviate from the cached static weaviate-server,
// both tagged by a hash of their inputs.
func buildStackImages(ctx context.Context, root, memorydTag string) (stackImages, error) {
	imgs := stackImages{memoryd: memorydTag}
	if err := buildImage(ctx, root, memorydTag); err != nil {
		return imgs, err
	}
	for _, b := range []struct {
		script string
		tag    *string
	}{
		{"tools/docker/postgres/build.sh", &imgs.postgres},
		{"tools/docker/weaviate/build.sh", &imgs.weaviate},
	} {
		err := within(ctx, buildLimit, "image build ("+b.script+")", func(ctx context.Context) (err error) {
			*b.tag, err = script(ctx, root, b.script)
			return err
		})
		if err != nil {
			return imgs, err
		}
	}
	return imgs, nil
}

// Stack is the running production stack: PostgreSQL, Weaviate and two
// memoryd nodes on a network of their own.
type Stack struct {
	net        *testcontainers.DockerNetwork
	containers []*testcontainers.DockerContainer
	names      []string
	A, B       *Server
	Weaviate   string // http://127.0.0.1:PORT
}

// readiness is what each service must answer before the next one starts.
// The strategies' own timeouts are longer than startLimit, so the limit
// that runs out is the one that names itself.
func readiness(name string) wait.Strategy {
	switch name {
	case stack.Postgres:
		// Over TCP: the official image's first-start server listens on its
		// socket only.
		return wait.ForExec([]string{"pg_isready", "-h", "127.0.0.1", "-U", stack.DBUser}).
			WithStartupTimeout(startLimit + time.Minute).WithPollInterval(200 * time.Millisecond)
	case stack.Weaviate:
		return wait.ForHTTP("/v1/.well-known/ready").WithPort("8080/tcp").
			WithStartupTimeout(startLimit + time.Minute).WithPollInterval(200 * time.Millisecond)
	}
	// /ready answers 200 once the node reaches its database.
	return wait.ForHTTP("/api/v1/ready").WithPort(apiPort).
		WithStartupTimeout(startLimit + time.Minute).WithPollInterval(200 * time.Millisecond)
}

// startStack creates the network and starts the services one by one, each
// ready before the next (the nodes need the database; node B starts after
// node A has migrated it). On an error it returns what did start, for the
// caller to save the logs of and stop.
func startStack(ctx context.Context, imgs stackImages) (*Stack, error) {
	s := &Stack{}
	err := within(ctx, startLimit, "creating the stack's network", func(ctx context.Context) (err error) {
		s.net, err = tcnetwork.New(ctx)
		return err
	})
	if err != nil {
		return s, err
	}
	image := map[string]string{stack.Postgres: imgs.postgres, stack.Weaviate: imgs.weaviate,
		stack.NodeA: imgs.memoryd, stack.NodeB: imgs.memoryd}
	for _, svc := range stack.Services() {
		var c *testcontainers.DockerContainer
		err := within(ctx, startLimit, "starting "+svc.Name+" (until it is ready)", func(ctx context.Context) (err error) {
			c, err = runService(ctx, s.net, svc, image[svc.Name])
			return err
		})
		if c != nil {
			s.containers, s.names = append(s.containers, c), append(s.names, svc.Name)
		}
		if err != nil {
			return s, fmt.Errorf("%s: %w", svc.Name, err)
		}
		if err := s.attach(ctx, svc, c); err != nil {
			return s, err
		}
	}
	return s, nil
}

// attach records where a started service answers on the host.
func (s *Stack) attach(ctx context.Context, svc stack.Service, c *testcontainers.DockerContainer) error {
	switch svc.Name {
	case stack.NodeA, stack.NodeB:
		srv := &Server{C: c, DB: svc.Env["MEMORYD_DB"]}
		if err := srv.resolveURL(ctx); err != nil {
			return err
		}
		if svc.Name == stack.NodeA {
			s.A = srv
		} else {
			s.B = srv
		}
	case stack.Weaviate:
		port, err := c.MappedPort(ctx, svc.Port)
		if err != nil {
			return err
		}
		s.Weaviate = "http://127.0.0.1:" + port.Port()
	}
	return nil
}

// runService starts one service of the stack on nw, reachable there under
// its name, its port published on loopback, and waits until it is ready.
func runService(ctx context.Context, nw *testcontainers.DockerNetwork, svc stack.Service, image string) (*testcontainers.DockerContainer, error) {
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(svc.Port),
		testcontainers.WithHostConfigModifier(publishPortOnLoopback(svc.Port)),
		testcontainers.WithEnv(svc.Env),
		tcnetwork.WithNetwork([]string{svc.Name}, nw),
		testcontainers.WithWaitStrategy(readiness(svc.Name)),
	}
	if svc.Cmd != nil {
		opts = append(opts, testcontainers.WithCmd(svc.Cmd...))
	}
	c, err := testcontainers.Run(ctx, image, opts...)
	if err != nil {
		return c, fmt.Errorf("starting %s: %w", image, err)
	}
	return c, nil
}

// SaveLogs writes each container's log to dir/stack-NAME.log.
func (s *Stack) SaveLogs(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	for i, c := range s.containers {
		errs = append(errs, saveLogs(context.WithoutCancel(ctx), c, filepath.Join(dir, "stack-"+s.names[i]+".log")))
	}
	return errors.Join(errs...)
}

// Stop removes the containers (newest first, with their anonymous
// volumes) and the network, also when ctx was cancelled (Ctrl-C).
func (s *Stack) Stop(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for i := len(s.containers) - 1; i >= 0; i-- {
		c := s.containers[i]
		errs = append(errs, within(ctx, stopLimit, "removing "+s.names[i], func(ctx context.Context) error {
			return c.Terminate(ctx)
		}))
	}
	if s.net != nil {
		errs = append(errs, within(ctx, stopLimit, "removing the stack's network", func(ctx context.Context) error {
			return s.net.Remove(ctx)
		}))
	}
	return errors.Join(errs...)
}
