package weaviate

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/sys/unix"
)

// The REST client's connections carry TCP_USER_TIMEOUT, so a request to
// a Weaviate whose host vanished fails after deadPeerTimeout.
func TestConnectionsNoticeDeadPeers(t *testing.T) {
	got := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	c := httpClient(deadPeerTimeout * 10)
	tr := c.Transport.(*http.Transport)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err == nil {
			raw, _ := conn.(*net.TCPConn).SyscallConn()
			_ = raw.Control(func(fd uintptr) {
				v, _ := unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)
				got <- v
			})
		}
		return conn, err
	}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := <-got; v != int(deadPeerTimeout.Milliseconds()) {
		t.Fatalf("TCP_USER_TIMEOUT = %d ms, want %d", v, deadPeerTimeout.Milliseconds())
	}
}
