package events

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procSampler measures the process's CPU and memory use from /proc (Linux;
// elsewhere both read 0).
type procSampler struct {
	mu       sync.Mutex
	lastCPU  float64 // seconds of CPU used by the process
	lastWall time.Time
}

func newProcSampler() *procSampler {
	cpu, _ := processCPU()
	return &procSampler{lastCPU: cpu, lastWall: time.Now()}
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuPercent returns the process's CPU use since the previous call, in
// percent of all cores (0-100).
func (p *procSampler) cpuPercent() float64 {
	cpu, ok := processCPU()
	if !ok {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	wall := now.Sub(p.lastWall).Seconds()
	used := cpu - p.lastCPU
	p.lastCPU, p.lastWall = cpu, now
	if wall <= 0 {
		return 0
	}
	return clamp(100 * used / wall / float64(runtime.NumCPU()))
}

// processCPU reads utime+stime from /proc/self/stat.
func processCPU() (float64, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces; fields count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (ut + st) / clockTicks, true
}

// memoryPercent returns the process's resident memory in percent of the
// machine's memory.
func memoryPercent() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseFloat(f[1], 64)
	total := memTotal()
	if err != nil || total <= 0 {
		return 0
	}
	return clamp(100 * pages * float64(os.Getpagesize()) / total)
}

// memTotal returns MemTotal of /proc/meminfo in bytes.
func memTotal() float64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

func clamp(v float64) float64 { return min(100, max(0, v)) }
