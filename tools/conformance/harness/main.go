// Command harness runs the conformance suite against the memoryd Docker
// image: it makes sure dockerd runs (tools/docker/ensure-dockerd.sh), builds
// the FROM scratch image (tools/docker/build-image.sh), starts it with
// testcontainers-go on a loopback port, creates two keys inside the
// container, runs the suite in-process, writes JUnit and JSON reports and
// removes the container.
//
//	go run ./tools/conformance/harness [--profile core,stream] [--run REGEX] [--reports DIR]
//
// With --stack scale it runs the production stack instead (PostgreSQL,
// Weaviate and two memoryd nodes on a Docker network of their own, see
// tools/conformance/stack) and the suite against node A with node B as the
// second node (profiles core, stream and cluster by default). With --up as
// well it only starts the stack, prints both nodes' URLs and an API key,
// and removes it all on Ctrl-C. With --drills instead it runs the fault
// drills (tools/drills) against the stack and exits 1 when one fails.
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
	"github.com/memoryd/memoryd/tools/drills"
)

// Options say what to build and run.
type Options struct {
	Image    string // tag to build and run
	Build    bool   // build the image first
	Profiles []conformance.Profile
	Run      *regexp.Regexp
	Reports  string // directory of the reports and the container log
	Out      io.Writer
	// Stack is "" (one memoryd container on SQLite) or "scale" (the
	// production stack).
	Stack string
	Up    bool // start the stack and wait for Ctrl-C; run no check
	// Drills runs the fault drills against the stack instead of the suite.
	Drills bool
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
	if o.Drills {
		if err := runDrills(ctx, o); err != nil {
			slog.Error("harness: drills", "err", err)
			return 1
		}
		return 0
	}
	if o.Up {
		if err := Up(ctx, o); err != nil {
			slog.Error("harness", "err", err)
			return 2
		}
		return 0
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
	profiles := fs.String("profile", "", "comma-separated profiles: core, stream, limits, cluster, webhooks (default core,stream; with --stack scale core,stream,cluster)")
	fs.StringVar(&o.Stack, "stack", "", `"scale": run the production stack (PostgreSQL, Weaviate, two memoryd nodes) instead of one container`)
	fs.BoolVar(&o.Up, "up", false, "with --stack scale: start the stack, print its URLs and a key, stop it on Ctrl-C")
	fs.BoolVar(&o.Drills, "drills", false, "with --stack scale: run the fault drills ("+strings.Join(drills.Names(), ", ")+"; --run selects by name) instead of the suite")
	runRE := fs.String("run", "", "only run checks whose ID matches this regular expression")
	fs.StringVar(&o.Image, "image", "memoryd:conformance", "image tag to build and run")
	noBuild := fs.Bool("no-build", false, "run the existing image instead of building it")
	fs.StringVar(&o.Reports, "reports", "reports", "directory for conformance-docker.{xml,json} and memoryd-docker.log")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.Build = !*noBuild
	switch o.Stack {
	case "", "scale":
	default:
		return o, fmt.Errorf("--stack %q: want scale", o.Stack)
	}
	if o.Up && o.Stack == "" {
		return o, fmt.Errorf("--up needs --stack scale")
	}
	if o.Drills && (o.Stack == "" || o.Up) {
		return o, fmt.Errorf("--drills needs --stack scale (and no --up)")
	}
	if *profiles == "" {
		*profiles = "core,stream"
		if o.Stack == "scale" {
			*profiles = "core,stream,cluster"
		}
	}
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
	if o.Stack == "scale" {
		return conformStack(ctx, root, o)
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
	if err := webhookReceiver(ctx, srv.C, &cfg); err != nil {
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
	return writeReportsAs(rep, dir, "conformance-docker")
}

// writeReportsAs writes dir/NAME.xml (JUnit) and dir/NAME.json.
func writeReportsAs(rep *conformance.Report, dir, name string) error {
	for name, write := range map[string]func(io.Writer) error{
		name + ".xml":  rep.WriteJUnit,
		name + ".json": rep.WriteJSON,
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
