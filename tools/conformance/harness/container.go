package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/wait"
)

// dbPath is the database of the image (MEMORYD_DB in tools/docker/Dockerfile);
// /data is the image's volume.
const dbPath = "sqlite:///data/memoryd.db"

// loopbackOnly configures testcontainers before its first use (it reads
// its settings once): no reaper container (nothing is pulled here) and
// every container address is 127.0.0.1. This machine runs inside a
// container itself (/.dockerenv), where testcontainers would otherwise
// guess a gateway address as the host; only loopback may be a target.
func loopbackOnly() {
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
}

// repoRoot is the directory of go.mod above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// script runs one of the repository's shell scripts, its output going to
// stderr, and returns its stdout. When ctx ends, the script's whole process
// group is killed: bash alone would leave its go build or docker build
// running, holding stdout open.
func script(ctx context.Context, root string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", args...)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// ensureDockerd makes sure dockerd runs (installing docker.io if needed).
func ensureDockerd(ctx context.Context, root string) error {
	return within(ctx, dockerdLimit, "starting dockerd (tools/docker/ensure-dockerd.sh)", func(ctx context.Context) error {
		_, err := script(ctx, root, "tools/docker/ensure-dockerd.sh")
		return err
	})
}

// buildImage builds the FROM scratch image.
func buildImage(ctx context.Context, root, tag string) error {
	return within(ctx, buildLimit, "image build (tools/docker/build-image.sh)", func(ctx context.Context) error {
		_, err := script(ctx, root, "tools/docker/build-image.sh", tag)
		return err
	})
}

// apiPort is where the image listens (MEMORYD_ADDR in the Dockerfile).
const apiPort = "8080/tcp"

// publishOnLoopback binds the API's host port on 127.0.0.1 only (Docker
// would otherwise publish it on every interface).
func publishOnLoopback(hc *container.HostConfig) { publishPortOnLoopback(apiPort)(hc) }

// publishPortOnLoopback binds port's host port on 127.0.0.1 only.
func publishPortOnLoopback(port string) func(*container.HostConfig) {
	return func(hc *container.HostConfig) {
		hc.PortBindings = network.PortMap{network.MustParsePort(port): {
			{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "0"}}}
	}
}

// Server is a memoryd container and its API address.
type Server struct {
	C       *testcontainers.DockerContainer
	BaseURL string // http://127.0.0.1:PORT
	DB      string // its database, for memoryd keys inside the container
}

// startServer runs the image with a short minimum heartbeat (so the
// heartbeat check takes seconds) and waits for /api/v1/health. The port
// is published on 127.0.0.1 only.
func startServer(ctx context.Context, image string) (*Server, error) {
	var c *testcontainers.DockerContainer
	err := within(ctx, startLimit, "container start (until /api/v1/health answers)", func(ctx context.Context) (err error) {
		c, err = runContainer(ctx, image)
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &Server{C: c, DB: dbPath}
	if err := s.resolveURL(ctx); err != nil {
		s.Stop(ctx)
		return nil, err
	}
	return s, nil
}

// resolveURL sets BaseURL from the container's published API port, which
// must be on loopback.
func (s *Server) resolveURL(ctx context.Context) error {
	c := s.C
	host, err := c.Host(ctx)
	if err == nil && host != "127.0.0.1" {
		err = fmt.Errorf("container host is %q, not loopback", host)
	}
	if err != nil {
		return err
	}
	port, err := c.MappedPort(ctx, apiPort)
	if err != nil {
		return err
	}
	s.BaseURL = fmt.Sprintf("http://%s:%s", host, port.Port())
	return nil
}

// runContainer starts the image and waits for its health endpoint. The
// wait strategy's own timeout is longer than startLimit, so the limit that
// runs out is the one that names itself.
func runContainer(ctx context.Context, image string) (*testcontainers.DockerContainer, error) {
	c, err := testcontainers.Run(ctx, image,
		testcontainers.WithExposedPorts(apiPort),
		testcontainers.WithHostConfigModifier(publishOnLoopback),
		testcontainers.WithEnv(map[string]string{
			"MEMORYD_STREAM_MIN_HEARTBEAT": "1s",
			// The webhooks profile's receiver is plain http on this
			// machine's address on the Docker network.
			"MEMORYD_WEBHOOKS_ALLOW_PRIVATE": "true",
			"MEMORYD_LOG_LEVEL":              "info",
		}),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/api/v1/health").WithPort(apiPort).
			WithStartupTimeout(startLimit+time.Minute).WithPollInterval(200*time.Millisecond)),
	)
	if err != nil {
		if c != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopLimit)
			_ = c.Terminate(stopCtx)
			cancel()
		}
		return nil, fmt.Errorf("starting %s: %w", image, err)
	}
	return c, nil
}

// CreateKey runs `memoryd keys create` inside the container and returns
// the new key.
func (s *Server) CreateKey(ctx context.Context, workspace string) (string, error) {
	cmd := []string{"/memoryd", "keys", "create", "--db", s.DB, "--workspace", workspace}
	var key string
	err := within(ctx, keyLimit, "keys create in the container", func(ctx context.Context) error {
		code, out, err := s.C.Exec(ctx, cmd, tcexec.Multiplexed())
		if err != nil {
			return fmt.Errorf("exec %v: %w", cmd, err)
		}
		text, _ := io.ReadAll(out)
		if code != 0 {
			return fmt.Errorf("exec %v: exit %d: %s", cmd, code, text)
		}
		key, err = keyFrom(text)
		return err
	})
	return key, err
}

// keyFrom picks the key out of `keys create` output: stdout carries only
// the key, stderr a "created ..." sentence, and Exec merges the two.
func keyFrom(out []byte) (string, error) {
	var keys []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.ContainsAny(line, " \t") {
			keys = append(keys, line)
		}
	}
	if len(keys) != 1 {
		return "", fmt.Errorf("no single key in the output of keys create: %q", out)
	}
	return keys[0], nil
}

// SaveLogs writes the container's log to path.
func (s *Server) SaveLogs(ctx context.Context, path string) error {
	return saveLogs(ctx, s.C, path)
}

// saveLogs writes a container's log to path.
func saveLogs(ctx context.Context, c *testcontainers.DockerContainer, path string) error {
	return within(ctx, logsLimit, "saving the container log", func(ctx context.Context) error {
		return copyLogs(ctx, c, path)
	})
}

func copyLogs(ctx context.Context, c *testcontainers.DockerContainer, path string) error {
	rc, err := c.Logs(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Stop removes the container (and its anonymous /data volume).
func (s *Server) Stop(ctx context.Context) error {
	return within(context.WithoutCancel(ctx), stopLimit, "container removal", func(ctx context.Context) error {
		return s.C.Terminate(ctx)
	})
}
