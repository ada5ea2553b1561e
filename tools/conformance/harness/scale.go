package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/memoryd/memoryd/conformance"
)

// withStack builds the images, starts the stack, runs f against it and
// removes the stack whatever happens (Ctrl-C included). Every container's
// log goes to reports when f or the start failed, or when keepLogs says so.
func withStack(ctx context.Context, root string, o Options, f func(*Stack) (keepLogs bool, err error)) (err error) {
	if !o.Build {
		return fmt.Errorf("--stack scale builds its images (cached by their inputs); --no-build does not apply")
	}
	imgs, err := buildStackImages(ctx, root, o.Image)
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := startStack(ctx, imgs)
	keepLogs := err != nil
	defer func() {
		if keepLogs || err != nil {
			if lerr := st.SaveLogs(ctx, o.Reports); lerr != nil && err == nil {
				err = lerr
			}
			fmt.Fprintf(o.Out, "harness: the stack's logs are in %s/stack-*.log\n", o.Reports)
		}
		if serr := st.Stop(ctx); serr != nil && err == nil {
			err = serr
		}
	}()
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "harness: stack up in %s (postgres %s, weaviate %s, memoryd %s)\n",
		time.Since(start).Round(time.Millisecond), imgs.postgres, imgs.weaviate, imgs.memoryd)
	keepLogs, err = f(st)
	return err
}

// conformStack runs the suite against the production stack: node A is the
// base URL, node B the second node of the cluster profile.
func conformStack(ctx context.Context, root string, o Options) (rep *conformance.Report, err error) {
	if err := os.MkdirAll(o.Reports, 0o755); err != nil {
		return nil, err
	}
	err = withStack(ctx, root, o, func(st *Stack) (bool, error) {
		cfg := conformance.Config{BaseURL: st.A.BaseURL, BaseURLB: st.B.BaseURL, WorkspaceA: "conf-a", WorkspaceB: "conf-b",
			Profiles: o.Profiles, Run: o.Run, Out: o.Out}
		var err error
		if cfg.KeyA, err = st.A.CreateKey(ctx, cfg.WorkspaceA); err != nil {
			return true, err
		}
		if cfg.KeyB, err = st.A.CreateKey(ctx, cfg.WorkspaceB); err != nil {
			return true, err
		}
		if err := conformance.Probe(ctx, cfg); err != nil {
			return true, err
		}
		suite, err := conformance.New(cfg)
		if err != nil {
			return true, err
		}
		fmt.Fprintf(o.Out, "harness: node A %s, node B %s, run %s\n", st.A.BaseURL, st.B.BaseURL, suite.RunID())
		rep = suite.Run(ctx, conformance.Checks())
		printCounts(o, rep)
		return rep.Failed(), writeReportsAs(rep, o.Reports, "conformance-stack")
	})
	return rep, err
}

// printCounts prints the outcome counts of the whole run and per profile.
func printCounts(o Options, rep *conformance.Report) {
	per := map[conformance.Profile]map[conformance.Outcome]int{}
	for _, r := range rep.Results {
		if per[r.Profile] == nil {
			per[r.Profile] = map[conformance.Outcome]int{}
		}
		per[r.Profile][r.Outcome]++
	}
	fmt.Fprintln(o.Out)
	for _, p := range o.Profiles {
		c := per[p]
		fmt.Fprintf(o.Out, "%-8s %d pass, %d fail, %d warn, %d skip\n", p, c[conformance.Pass], c[conformance.Fail], c[conformance.Warn], c[conformance.Skip])
	}
	fmt.Fprintf(o.Out, "total    %d pass, %d fail, %d warn, %d skip in %s\n", rep.Counts[conformance.Pass],
		rep.Counts[conformance.Fail], rep.Counts[conformance.Warn], rep.Counts[conformance.Skip], rep.Duration.Round(time.Millisecond))
}

// Up starts the stack, prints where it answers and a key, and waits for
// ctx to end (Ctrl-C), then removes it.
func Up(ctx context.Context, o Options) error {
	loopbackOnly()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if err := ensureDockerd(ctx, root); err != nil {
		return err
	}
	return withStack(ctx, root, o, func(st *Stack) (bool, error) {
		key, err := st.A.CreateKey(ctx, "default")
		if err != nil {
			return true, err
		}
		fmt.Fprintf(o.Out, "\nmemoryd stack is up; Ctrl-C stops it and removes its containers and data.\n\n"+
			"  node A    %s\n  node B    %s\n  API key   %s   (workspace default; valid on both nodes)\n  weaviate  %s\n\n"+
			"  export MEMORYD_URL=%s MEMORYD_URL_B=%s MEMORYD_KEY=%s\n\n",
			st.A.BaseURL, st.B.BaseURL, key, st.Weaviate, st.A.BaseURL, st.B.BaseURL, key)
		<-ctx.Done()
		fmt.Fprintln(o.Out, "harness: stopping the stack")
		return false, nil
	})
}
