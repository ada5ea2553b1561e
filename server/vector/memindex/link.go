package memindex

import "time"

const (
	// linkSlice is how much linking the throttled linker does between
	// pauses: long enough that a pause is not mostly timer overhead,
	// short enough that the pauses spread its CPU evenly at the
	// millisecond scale request latencies are measured at.
	linkSlice = 2 * time.Millisecond
	// linkChunk is how many slots each worker of a flat-out linker links
	// per round. A round holds mu shared, and a writer waiting for mu
	// (to grow the arrays or adopt a rebuild) holds up every new reader
	// until the round ends, so rounds stay at a few milliseconds.
	linkChunk = 4
	// rebuildPoll is how often a linker idled by a rebuild looks again.
	rebuildPoll = 10 * time.Millisecond
	// writesPause is how long without a write or a search makes the
	// linker stop holding back: the burst it made room for is over, and
	// no request waits for the CPU it would take.
	writesPause = time.Second
)

// startLinker starts the space's linker goroutine when slots wait to be
// linked and none is running; mu is held (shared is enough) and meta too.
func (s *space) startLinker() {
	if s.private || s.linking || s.graph == nil || s.cfg.linkOff.Load() || s.linked.Load() >= s.n.Load() {
		return
	}
	s.linking = true
	s.bg.Go(s.link)
}

// link is the linker: it links the tail in slot order until it is empty,
// repairs the graph if linking left it risky (graph.repair), then exits
// (an idle workspace keeps no goroutine). While writes or
// searches keep coming it spends at most cfg.duty(tail) of one core:
// after each linkSlice of work it sleeps long enough to make up the
// ratio; once both pause it links flat out. Wall time stands in for CPU time, so
// on a loaded machine it links even less, which is the right direction.
func (s *space) link() {
	var worked time.Duration
	for {
		tail, rebuilding := s.tailState()
		if tail == 0 || s.cfg.linkOff.Load() {
			s.repairGraph()
			if s.stopLinker() {
				return
			}
			continue
		}
		if rebuilding && tail < s.cfg.fastTail {
			// The rebuild links the current tail anew, and what arrives
			// meanwhile becomes the rebuilt copy's tail: linking here
			// would be wasted, unless the tail grows too long to scan.
			time.Sleep(rebuildPoll)
			continue
		}
		duty := s.cfg.duty(tail)
		if s.idle() {
			duty = 1
		}
		if duty >= 1 {
			s.linkSome(s.cfg.linkWorkers())
			worked = 0
			continue
		}
		start := time.Now()
		s.linkSome(1)
		if worked += time.Since(start); worked >= linkSlice {
			time.Sleep(time.Duration(float64(worked) * (1 - duty) / duty))
			worked = 0
		}
	}
}

// repairGraph links what linking left unreachable (graph.repair); the
// linker calls it when it stops, so nothing else links meanwhile.
func (s *space) repairGraph() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.graph != nil {
		s.graph.repair(s, s.linked.Load())
	}
}

// idle reports whether neither writes nor searches came in the last
// writesPause. While searches keep coming the linker keeps to its duty:
// running flat out would take a core from them for what is only a small
// saving per search (the coded tail scan reads 1 byte a dimension):
// under a steady stream of searches that core is what they would queue
// for.
func (s *space) idle() bool {
	now := time.Now()
	return now.Sub(time.Unix(0, s.lastWrite.Load())) > writesPause &&
		now.Sub(time.Unix(0, s.lastSearch.Load())) > writesPause
}

// tailState returns the number of slots waiting to be linked (0 in exact
// mode) and whether a background rebuild is running.
func (s *space) tailState() (tail int, rebuilding bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.meta.Lock()
	rebuilding = s.rebuilding
	s.meta.Unlock()
	if s.graph == nil {
		return 0, rebuilding
	}
	return int(s.n.Load() - s.linked.Load()), rebuilding
}

// stopLinker ends the linker unless slots arrived since it looked (or
// linking was resumed); it reports whether the linker should exit. The
// check and the flag change happen under meta, where upserts append and
// call startLinker, so no slot is left without a linker.
func (s *space) stopLinker() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.meta.Lock()
	defer s.meta.Unlock()
	if s.graph != nil && s.linked.Load() < s.n.Load() && !s.cfg.linkOff.Load() {
		return false
	}
	s.linking = false
	return true
}

// linkSome links the next slots: one when workers is 1, else a chunk
// spread over workers goroutines. Dead slots are skipped, not linked: no
// search can return them, and nothing links to them yet.
func (s *space) linkSome(workers int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.graph
	from, n := s.linked.Load(), s.n.Load()
	if g == nil || from >= n {
		return
	}
	to := from + 1
	if workers > 1 {
		to = min(n, from+int32(workers*linkChunk))
	}
	g.insertAll(s, from, to, workers)
	s.linked.Store(to)
}
