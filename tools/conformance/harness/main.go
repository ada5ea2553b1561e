// Command harness runs the conformance suite against the memoryd Docker
// image: it makes sure dockerd runs (tools/docker/ensure-dockerd.sh), builds
// the FROM scratch image (tools/docker/build-image.sh), starts it with
// testcontainers-go on a loopback port, creates two keys inside the
// container, runs the suite in-process, writes JUnit and JSON reports and
// removes the container.
//
//	go run ./tools/conformance/harness [--profile core,stream] [--run REGEX] [--reports DIR]
//
// Exit status: 0 when no MUST check failed, 1 when one did, 2 when the
// harness itself could not run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/memoryd/memoryd/conformance"
)

// Options say what to build and run.
type Options struct {
	Image    string // tag to build and run
	Build    bool   // build the image first
	Profiles []conformance.Profile
	Run      *regexp.Regexp
	Reports  string // directory of the reports and the container log
	Out      io.Writer
}

func main() {
	loopbackOnly()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	o, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		return 2
	}
	rep, err := Conform(ctx, o)
	if err != nil {
		slog.Error("harness", "err", err)
		return 2
	}
	if rep.Failed() {
		return 1
	}
	return 0
}

func parseFlags(args []string) (Options, error) {
	o := Options{Out: os.Stdout}
	fs := flag.NewFlagSet("harness", flag.ContinueOnError)
	profiles := fs.String("profile", "core,stream", "comma-separated profiles: core, stream, limits")
	runRE := fs.String("run", "", "only run checks whose ID matches this regular expression")
	fs.StringVar(&o.Image, "image", "memoryd:conformance", "image tag to build and run")
	noBuild := fs.Bool("no-build", false, "run the existing image instead of building it")
	fs.StringVar(&o.Reports, "reports", "reports", "directory for conformance-docker.{xml,json} and memoryd-docker.log")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.Build = !*noBuild
	for _, p := range strings.Split(*profiles, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.Profiles = append(o.Profiles, conformance.Profile(p))
		}
	}
	if *runRE != "" {
		re, err := regexp.Compile(*runRE)
		if err != nil {
			return o, fmt.Errorf("--run: %w", err)
		}
		o.Run = re
	}
	return o, nil
}

// Conform builds and starts the image, runs the suite against it and
// writes the reports. The container is removed whatever happens.
func Conform(ctx context.Context, o Options) (rep *conformance.Report, err error) {
	loopbackOnly()
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	if err := ensureDockerd(ctx, root); err != nil {
		return nil, err
	}
	if o.Build {
		if err := buildImage(ctx, root, o.Image); err != nil {
			return nil, err
		}
	}
	srv, err := startServer(ctx, o.Image)
	if err != nil {
		return nil, err
	}
	defer func() {
		if lerr := srv.SaveLogs(context.WithoutCancel(ctx), filepath.Join(o.Reports, "memoryd-docker.log")); lerr != nil && err == nil {
			err = lerr
		}
		if serr := srv.Stop(ctx); serr != nil && err == nil {
			err = serr
		}
	}()
	if err := os.MkdirAll(o.Reports, 0o755); err != nil {
		return nil, err
	}
	cfg := conformance.Config{BaseURL: srv.BaseURL, WorkspaceA: "conf-a", WorkspaceB: "conf-b",
		Profiles: o.Profiles, Run: o.Run, Out: o.Out}
	if cfg.KeyA, err = srv.CreateKey(ctx, cfg.WorkspaceA); err != nil {
		return nil, err
	}
	if cfg.KeyB, err = srv.CreateKey(ctx, cfg.WorkspaceB); err != nil {
		return nil, err
	}
	suite, err := conformance.New(cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "harness: %s at %s, run %s\n", o.Image, srv.BaseURL, suite.RunID())
	rep = suite.Run(ctx, conformance.Checks())
	fmt.Fprintf(o.Out, "\n%d pass, %d fail, %d warn, %d skip in %s\n", rep.Counts[conformance.Pass],
		rep.Counts[conformance.Fail], rep.Counts[conformance.Warn], rep.Counts[conformance.Skip], rep.Duration.Round(1e6))
	return rep, writeReports(rep, o.Reports)
}

func writeReports(rep *conformance.Report, dir string) error {
	for name, write := range map[string]func(io.Writer) error{
		"conformance-docker.xml":  rep.WriteJUnit,
		"conformance-docker.json": rep.WriteJSON,
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}
