package events_test

import (
	"bytes"
	"syscall"
	"time"
)

// collectArrivals calls got(s, i, at) when stream s has read its i-th
// memory.created event (i < n), at the wall-clock time at (Unix ns). The
// streams are read by one goroutine through epoll, so the benchmark's
// clients take as little of the machine's CPU from the server as they can:
// one read per readiness, no goroutine per stream.
func collectArrivals(streams []rawStream, n int, got func(s, i int, at int64)) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		collectArrivalsEach(streams, n, got)
		return
	}
	defer syscall.Close(epfd)
	counters := make([]arrivalCounter, len(streams))
	fds := make([]int, len(streams))
	left := len(streams)
	now := time.Now().UnixNano()
	for s, st := range streams {
		rc, err := st.Conn.(syscall.Conn).SyscallConn()
		if err != nil {
			panic(err)
		}
		_ = rc.Control(func(fd uintptr) { fds[s] = int(fd) })
		counters[s].feed(st.rest, n, func(i int) { got(s, i, now) })
		if counters[s].count >= n {
			left--
			continue
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(s)}
		if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, fds[s], &ev); err != nil {
			panic(err)
		}
	}
	evs := make([]syscall.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	for left > 0 {
		k, err := syscall.EpollWait(epfd, evs, -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			panic(err)
		}
		now := time.Now().UnixNano()
		for _, ev := range evs[:k] {
			s := int(ev.Fd)
			m, err := syscall.Read(fds[s], buf)
			if err == syscall.EAGAIN {
				continue
			}
			if m > 0 {
				counters[s].feed(buf[:m], n, func(i int) { got(s, i, now) })
			}
			if m <= 0 || counters[s].count >= n {
				_ = syscall.EpollCtl(epfd, syscall.EPOLL_CTL_DEL, fds[s], nil)
				left--
			}
		}
	}
	for _, st := range streams {
		st.Close()
	}
}

var createdLine = []byte("\nevent: memory.created\n")

// arrivalCounter counts memory.created events in a raw (chunked) stream:
// a frame never straddles two chunks, so the event line is contiguous,
// but it may straddle two reads, hence the carried tail.
type arrivalCounter struct {
	count int
	tail  []byte
}

func (a *arrivalCounter) feed(b []byte, n int, got func(i int)) {
	data := append(a.tail, b...)
	for rest := data; a.count < n; {
		i := bytes.Index(rest, createdLine)
		if i < 0 {
			break
		}
		got(a.count)
		a.count++
		rest = rest[i+len(createdLine):]
	}
	keep := min(len(data), len(createdLine)-1)
	a.tail = append(a.tail[:0], data[len(data)-keep:]...)
}
