// Command whdrill measures memoryd's webhook deliveries on loopback: a
// kill -9 drill (at-least-once across a crash, duplicates counted) and a
// latency/throughput benchmark with a scale check of registered endpoints,
// and the benchmark's floor on this machine: the same creates, with the
// same deliveries sent by this tool itself (signed, one at a time per
// endpoint, as soon as each create is acknowledged) instead of by
// memoryd's durable queue.
// It runs memoryd itself on a temporary SQLite database; run it from the
// repository root:
//
//	go run ./tools/whdrill -mode drill
//	go run ./tools/whdrill -mode bench
//	go run ./tools/whdrill -mode floor
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"
)

type options struct {
	mode, bin    string
	events       []string
	creates      int
	rate         float64
	failFor      time.Duration
	wait         time.Duration
	endpoints    int
	duration     time.Duration
	scale        int
	scaleCreates int
	keep         bool
	timeline     bool
}

func main() {
	var o options
	var events string
	flag.StringVar(&o.mode, "mode", "drill", "drill, bench or floor")
	flag.StringVar(&o.bin, "memoryd", "", "memoryd binary (default: go build ./server/cmd/memoryd)")
	flag.StringVar(&events, "events", "memory.created", "comma-separated event types each endpoint subscribes to")
	flag.IntVar(&o.creates, "creates", 1000, "drill: acknowledged creates to reach")
	flag.Float64Var(&o.rate, "rate", 0, "creates per second (default: drill 200, bench and floor 500)")
	flag.DurationVar(&o.failFor, "fail-for", 60*time.Second, "drill: how long endpoint 0 answers 500")
	flag.DurationVar(&o.wait, "wait", 0, "how long to wait for deliveries after the creates (default: drill 8m, past the\nfailing endpoint's retry after 5 min; bench and floor 3m)")
	flag.IntVar(&o.endpoints, "endpoints", 10, "bench and floor: endpoints")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "bench and floor: how long creates are sent")
	flag.IntVar(&o.scale, "scale", 1000, "bench: endpoints registered afterwards for the RSS/threads reading (0: skip)")
	flag.IntVar(&o.scaleCreates, "scale-creates", 2, "bench: creates per scale workspace fanned out to its endpoints")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (database, memoryd.log)")
	flag.BoolVar(&o.timeline, "timeline", false, "bench and floor: also print the latency of each second's creates")
	flag.Parse()
	o.events = strings.Split(events, ",")
	if o.rate <= 0 {
		o.rate = map[string]float64{"drill": 200, "bench": 500, "floor": 500}[o.mode]
	}
	if o.wait <= 0 {
		o.wait = map[string]time.Duration{"drill": 8 * time.Minute, "bench": 3 * time.Minute, "floor": 3 * time.Minute}[o.mode]
	}
	if err := run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, o options) error {
	if o.mode != "drill" && o.mode != "bench" && o.mode != "floor" {
		return fmt.Errorf("-mode must be drill, bench or floor, not %q", o.mode)
	}
	dir, err := os.MkdirTemp("", "whdrill-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("whdrill: keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin, err := buildMemoryd(o.bin, dir)
	if err != nil {
		return err
	}
	s, err := newServer(bin, dir)
	if err != nil {
		return err
	}
	if err := s.start(ctx); err != nil {
		return err
	}
	defer s.stop()
	key, err := s.firstKey(10 * time.Second)
	if err != nil {
		return err
	}
	c := newClient(s.base(), key)
	fmt.Printf("whdrill: memoryd on %s, events %v\n", s.addr, o.events)
	switch o.mode {
	case "drill":
		return drill(ctx, o, s, c)
	case "floor":
		return floor(ctx, o, s, c)
	}
	return bench(ctx, o, s, c)
}
