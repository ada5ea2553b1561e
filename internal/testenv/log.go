package testenv

import (
	"io"
	"log/slog"
	"sync"
	"testing"
)

// Logger returns a logger writing to t's log from level up: shown when the
// test fails or runs with -v. Lines logged once the test has ended (by a
// goroutine still winding down) are dropped, since the testing package
// panics on them.
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	w := &testWriter{out: t.Output()}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type testWriter struct {
	mu      sync.Mutex
	out     io.Writer
	stopped bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return len(p), nil
	}
	return w.out.Write(p)
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}
