// Command load drives a running memoryd over HTTP and reports throughput
// and latency percentiles:
//
//	go run ./tools/load -key $KEY -mode creates -clients 16 -duration 10s
//	go run ./tools/load -key $KEY -mode all
//	go run ./tools/load -key $KEY -mode creates -rate 5000
//
// Modes: creates (POST /memory with ~20-word texts), gets (GET /memory/{id}
// over ids created first, untimed), search (POST /memory/search), and all
// (creates, then gets and search over what creates stored).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

type options struct {
	url      string
	key      string
	mode     string
	clients  int
	duration time.Duration
	warmup   time.Duration
	words    int
	seed     int
	search   string
	http     string
	rate     float64
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080", "memoryd base URL (without /api/v1)")
	flag.StringVar(&o.key, "key", os.Getenv("MEMORYD_API_KEY"), "API key ($MEMORYD_API_KEY)")
	flag.StringVar(&o.mode, "mode", "creates", "creates, gets, search or all")
	flag.IntVar(&o.clients, "clients", 16, "concurrent clients")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long each measured phase runs")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured run before each phase (connections, caches)")
	flag.IntVar(&o.words, "words", 20, "words per memory text")
	flag.IntVar(&o.seed, "seed", 2000, "memories created (untimed) before gets/search when no creates phase ran (search: 0 for none)")
	flag.StringVar(&o.search, "search-mode", "semantic", "search mode: semantic, keyword or hybrid")
	flag.Float64Var(&o.rate, "rate", 0, "requests a second in all, paced, latency counted from each request's slot (0: as fast as the clients go)")
	flag.StringVar(&o.http, "http", "raw", "client: raw (HTTP/1.1 written and parsed in place, light on the shared CPU) or std (net/http)")
	flag.Parse()
	if o.key == "" {
		fmt.Fprintln(os.Stderr, "load: an API key is needed (-key or $MEMORYD_API_KEY)")
		os.Exit(2)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	c, err := newClient(o.url, o.key, o.clients, o.http)
	if err != nil {
		return err
	}
	fmt.Printf("target %s, %d clients, %s per phase", o.url, o.clients, o.duration)
	if o.rate > 0 {
		fmt.Printf(", paced at %.0f requests/s", o.rate)
	}
	fmt.Println()
	var ids *idSet
	modes := strings.Split(o.mode, ",")
	if o.mode == "all" {
		modes = []string{"creates", "gets", "search"}
	}
	for _, m := range modes {
		switch m {
		case "creates":
			ids = &idSet{}
			phase(ctx, o, "warmup creates", o.warmup, createOp(c, o.words, nil))
			r := phase(ctx, o, "creates", o.duration, createOp(c, o.words, ids))
			r.print()
		case "gets", "search":
			// A search needs no ids: -seed 0 measures searches on what the
			// workspace holds already, with no creates just before them.
			if (ids == nil || ids.len() == 0) && !(m == "search" && o.seed == 0) {
				var err error
				if ids, err = seed(ctx, c, o); err != nil {
					return err
				}
			}
			op := getOp(c, ids)
			if m == "search" {
				op = searchOp(c, o.search, o.words)
			}
			phase(ctx, o, "warmup "+m, o.warmup, op)
			phase(ctx, o, m, o.duration, op).print()
		default:
			return fmt.Errorf("unknown mode %q", m)
		}
	}
	return nil
}

// seed creates o.seed memories (untimed) for the read phases.
func seed(ctx context.Context, c *client, o options) (*idSet, error) {
	ids := &idSet{}
	op := createOp(c, o.words, ids)
	res := phaseN(ctx, o.clients, o.seed, op)
	if ids.len() == 0 {
		return nil, fmt.Errorf("seeding: no memory created (%d errors, first: %s)", res.errors, res.firstErr)
	}
	fmt.Printf("seeded %d memories\n", ids.len())
	return ids, nil
}
