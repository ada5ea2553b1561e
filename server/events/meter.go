package events

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// meter accumulates HTTP response times and 5xx answers over one snapshot
// period, for system.health.
type meter struct {
	mu     sync.Mutex
	n      int64
	errors int64
	total  time.Duration
}

func (m *meter) observe(status int, d time.Duration) {
	m.mu.Lock()
	m.n++
	m.total += d
	if status >= 500 {
		m.errors++
	}
	m.mu.Unlock()
}

// take returns the period's request count, mean duration and 5xx percent,
// and starts a new period.
func (m *meter) take() (n int64, mean time.Duration, errPct float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n = m.n
	if n > 0 {
		mean = m.total / time.Duration(n)
		errPct = 100 * float64(m.errors) / float64(n)
	}
	m.n, m.errors, m.total = 0, 0, 0
	return n, mean, errPct
}

// Measure wraps the API's handler to feed system.health's response_time and
// error_rate. Streams are left out: they last as long as the client wants.
func (s *Stream) Measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/stream") {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			// A panic further down is a 500 to the client.
			if v := recover(); v != nil {
				s.meter.observe(http.StatusInternalServerError, time.Since(start))
				panic(v)
			}
			s.meter.observe(rec.status, time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
