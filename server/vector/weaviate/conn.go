package weaviate

import (
	"net"
	"net/http"
	"time"
)

// deadPeerTimeout is how long data sent to Weaviate may stay
// unacknowledged before the connection counts as dead. A Weaviate whose
// host vanished (a killed container, a crashed machine, a partition)
// sends no reset, so a request on a pooled connection would otherwise
// wait for the whole request limit; /ready, semantic search and the
// writes' own upserts then hang instead of answering that the index is
// away. A live Weaviate, however busy, acknowledges at the TCP level at
// once, so this does not shorten slow requests.
const deadPeerTimeout = 3 * time.Second

// httpClient is the REST client's: connections that notice a dead peer
// within deadPeerTimeout, sending or idle.
func httpClient(timeout time.Duration) *http.Client {
	d := &net.Dialer{
		Timeout: 10 * time.Second,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second,
			Interval: time.Second, Count: 3},
		Control: setUserTimeout,
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = d.DialContext
	t.MaxIdleConnsPerHost = 64 // every request goes to one host
	return &http.Client{Transport: t, Timeout: timeout}
}
