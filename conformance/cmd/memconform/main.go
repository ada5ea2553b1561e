// Command memconform runs the memoryd conformance suite against a server.
//
//	memconform --base-url http://localhost:8080 --api-key mk_a --api-key-b mk_b
//
// Exit status: 0 when no MUST check failed, 1 when one did, 2 on bad usage
// or a setup error (nothing answers at the base URL, no API under it, a key
// the server rejects), found by a probe before any check runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/memoryd/memoryd/conformance"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	cfg       conformance.Config
	junit     string
	json      string
	list      bool
	profiles  string
	runFilter string
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("memconform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.cfg.BaseURL, "base-url", os.Getenv("MEMCONFORM_BASE_URL"), "server root, e.g. http://127.0.0.1:8080; the API is under /api/v1 (env MEMCONFORM_BASE_URL)")
	fs.StringVar(&o.cfg.BaseURLB, "base-url-b", os.Getenv("MEMCONFORM_BASE_URL_B"), "root of a second node of the same deployment (same database and keys), for the cluster profile (env MEMCONFORM_BASE_URL_B)")
	fs.StringVar(&o.cfg.KeyA, "api-key", os.Getenv("MEMCONFORM_API_KEY"), "API key A (env MEMCONFORM_API_KEY)")
	fs.StringVar(&o.cfg.KeyB, "api-key-b", os.Getenv("MEMCONFORM_API_KEY_B"), "API key B, of another workspace than A; isolation checks skip without it (env MEMCONFORM_API_KEY_B)")
	fs.StringVar(&o.cfg.WorkspaceA, "workspace-a", "", "X-Workspace-ID to send with key A (optional)")
	fs.StringVar(&o.cfg.WorkspaceB, "workspace-b", "", "X-Workspace-ID to send with key B (optional)")
	fs.StringVar(&o.profiles, "profile", "core,stream", "comma-separated profiles: core, stream, limits, cluster (needs --base-url-b), webhooks (the server must reach --callback-url)")
	fs.StringVar(&o.runFilter, "run", "", "only run checks whose ID matches this regular expression")
	fs.StringVar(&o.junit, "junit", "", "write a JUnit XML report to this file")
	fs.StringVar(&o.json, "json", "", "write a JSON report to this file")
	fs.IntVar(&o.cfg.OversizeBytes, "oversize-bytes", 8<<20, "body size the 413 checks send (must exceed the server's body limit)")
	fs.IntVar(&o.cfg.RateRequests, "rate-requests", 1200, "requests the limits profile sends at most to reach a 429")
	fs.DurationVar(&o.cfg.ClusterWait, "cluster-wait", conformance.DefaultClusterWait, "bound within which a write on one node must be visible on the other (cluster profile)")
	fs.StringVar(&o.cfg.CallbackListen, "callback-listen", "127.0.0.1:0", "where the webhooks profile's receiver listens (host:port; port 0 picks a free one)")
	fs.StringVar(&o.cfg.CallbackURL, "callback-url", "", "URL the server under test is given for the receiver (default http:// + the address listened on; set it when the server runs elsewhere, e.g. in a container)")
	fs.DurationVar(&o.cfg.WebhookRetryWait, "webhook-retry-wait", conformance.DefaultWebhookRetryWait, "how long the webhooks profile waits for the retry of a delivery its receiver answered 500")
	fs.DurationVar(&o.cfg.EventWait, "event-wait", 10*time.Second, "how long stream checks wait for an expected message")
	fs.BoolVar(&o.list, "list", false, "list the checks and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	for _, p := range strings.Split(o.profiles, ",") {
		switch p = strings.TrimSpace(p); {
		case slices.Contains(conformance.Profiles, conformance.Profile(p)):
			o.cfg.Profiles = append(o.cfg.Profiles, conformance.Profile(p))
		case p == "":
		default:
			return nil, fmt.Errorf("unknown profile %q (core, stream, limits, cluster, webhooks)", p)
		}
	}
	if o.runFilter != "" {
		re, err := regexp.Compile(o.runFilter)
		if err != nil {
			return nil, fmt.Errorf("--run: %w", err)
		}
		o.cfg.Run = re
	}
	if !o.list && (o.cfg.BaseURL == "" || o.cfg.KeyA == "") {
		return nil, errors.New("--base-url and --api-key are required")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "memconform:", err)
		}
		return 2
	}
	if o.list {
		for _, c := range conformance.Checks() {
			fmt.Fprintf(stdout, "%-22s %-6s %-6s %-40s %s\n", c.ID, c.Level, c.Profile, c.Ref, c.Title)
		}
		return 0
	}
	base, trimmed, err := conformance.BaseURL(o.cfg.BaseURL)
	if err != nil {
		fmt.Fprintln(stderr, "memconform: --base-url:", err)
		return 2
	}
	if trimmed {
		fmt.Fprintf(stderr, "memconform: --base-url %s ends in /api/v1, which the suite adds itself: using %s\n", o.cfg.BaseURL, base)
	}
	o.cfg.BaseURL = base
	if o.cfg.BaseURLB != "" {
		if o.cfg.BaseURLB, _, err = conformance.BaseURL(o.cfg.BaseURLB); err != nil {
			fmt.Fprintln(stderr, "memconform: --base-url-b:", err)
			return 2
		}
	}
	if err := conformance.Probe(ctx, o.cfg); err != nil {
		fmt.Fprintln(stderr, "memconform: setup error, no check run:", err)
		return 2
	}
	o.cfg.Out = stdout
	suite, err := conformance.New(o.cfg)
	if err != nil {
		fmt.Fprintln(stderr, "memconform:", err)
		return 2
	}
	fmt.Fprintf(stdout, "memconform: %s, run %s, profiles %s\n", o.cfg.BaseURL, suite.RunID(), o.profiles)
	rep := suite.Run(ctx, conformance.Checks())
	fmt.Fprintf(stdout, "\n%d pass, %d fail, %d warn, %d skip in %s\n",
		rep.Counts[conformance.Pass], rep.Counts[conformance.Fail], rep.Counts[conformance.Warn], rep.Counts[conformance.Skip], rep.Duration.Round(1e6))
	if err := writeReports(o, rep); err != nil {
		fmt.Fprintln(stderr, "memconform:", err)
		return 2
	}
	if rep.Failed() {
		return 1
	}
	return 0
}

func writeReports(o *options, rep *conformance.Report) error {
	write := func(path string, f func(io.Writer) error) error {
		if path == "" {
			return nil
		}
		file, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := f(file); err != nil {
			file.Close()
			return err
		}
		return file.Close()
	}
	if err := write(o.junit, rep.WriteJUnit); err != nil {
		return err
	}
	return write(o.json, rep.WriteJSON)
}
