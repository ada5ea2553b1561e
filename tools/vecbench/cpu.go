package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on
// Linux whatever the kernel's own tick).
const clockTick = 10 * time.Millisecond

// proc is a process whose CPU time a row reports: tree adds its children
// (PostgreSQL runs a process per connection).
type proc struct {
	name string
	pid  int
	tree bool
}

// cpuTime is the CPU time p has used: user and system time of the process
// and of its waited-for children, and with tree those of its live
// children too. A process that cannot be read counts 0.
func cpuTime(p proc) time.Duration {
	self, _, _ := readStat(fmt.Sprintf("/proc/%d/stat", p.pid))
	total := self
	if !p.tree {
		return total
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		cpu, ppid, ok := readStat(f)
		if ok && ppid == p.pid {
			total += cpu
		}
	}
	return total
}

// readStat returns utime+stime+cutime+cstime and the parent of one
// /proc/PID/stat file.
func readStat(path string) (cpu time.Duration, ppid int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	// The command name is in parentheses and may hold spaces: fields are
	// counted after the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return 0, 0, false
	}
	// f[0] is field 3 (state): ppid is field 4, utime..cstime 14-17.
	ppid, _ = strconv.Atoi(f[1])
	var ticks int64
	for _, s := range f[11:15] {
		n, _ := strconv.ParseInt(s, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * clockTick, ppid, true
}

// cpuMeter reports the CPU time each process used between two snapshots.
type cpuMeter struct {
	procs []proc
	start []time.Duration
}

func newCPUMeter(procs []proc) *cpuMeter {
	m := &cpuMeter{procs: procs, start: make([]time.Duration, len(procs))}
	for i, p := range procs {
		m.start[i] = cpuTime(p)
	}
	return m
}

// perOp is each process's CPU time since the meter began, divided by n.
func (m *cpuMeter) perOp(n int) []time.Duration {
	out := make([]time.Duration, len(m.procs))
	for i, p := range m.procs {
		out[i] = (cpuTime(p) - m.start[i]) / time.Duration(n)
	}
	return out
}
