package batch

// Queued is the number of calls waiting for a batch (tests wait on it to
// know a caller has reached the queue).
func (e *Embedder) Queued() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.queue)
}
