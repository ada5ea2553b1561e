package sqlstore

// SendLatest delivers seq on a wake-up channel without blocking: a
// pending, older hint is replaced, since a reader only needs to know that
// something is new (it reads by position).
func SendLatest(ch chan int64, seq int64) {
	for {
		select {
		case ch <- seq:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}
