package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// Guard decides which addresses deliveries may reach. Without
// AllowPrivate it refuses loopback, private, link-local (which holds the
// cloud metadata address 169.254.169.254), multicast, unspecified and
// every other special-purpose address (the IANA registries, as
// code.dny.dev/ssrf keeps them), and plain http. It checks at
// registration (the names the URL resolves to now) and again at every
// connection, in the dialer, on the address actually dialled: a name
// that resolves elsewhere later (DNS rebinding) gains nothing.
type Guard struct {
	// AllowPrivate lets any address and plain http through (tests,
	// local development: memoryd serve --webhooks-allow-private).
	AllowPrivate bool
	// Lookup resolves a host at registration; net.DefaultResolver's by
	// default. Tests replace it.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)

	g *ssrf.Guardian
}

// NewGuard returns a Guard; allowPrivate turns every check off.
func NewGuard(allowPrivate bool) *Guard {
	return &Guard{AllowPrivate: allowPrivate,
		// Any port: the URL names one; the address is what matters.
		g: ssrf.New(ssrf.WithAnyPort(), ssrf.WithDeniedV4Prefixes(metadataPrefixes...))}
}

// metadataPrefixes are cloud metadata addresses outside the special
// registries (the 169.254.0.0/16 ones are link-local, already refused).
var metadataPrefixes = []netip.Prefix{
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
}

// ErrRefused is wrapped by every refusal of an address or URL.
var ErrRefused = errors.New("refused webhook address")

// CheckURL validates raw for registration: http(s) with a host, https
// unless private addresses are allowed, no user info, and every address
// its host resolves to allowed.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%w: not an absolute URL", ErrRefused)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && g.AllowPrivate:
	case u.Scheme == "http":
		return fmt.Errorf("%w: the URL must use https", ErrRefused)
	default:
		return fmt.Errorf("%w: the URL must use https", ErrRefused)
	}
	if u.User != nil {
		return fmt.Errorf("%w: the URL must not carry user info", ErrRefused)
	}
	if g.AllowPrivate {
		return nil
	}
	addrs, err := g.lookup(ctx, u.Hostname())
	if err != nil {
		return fmt.Errorf("%w: host %q does not resolve", ErrRefused, u.Hostname())
	}
	for _, a := range addrs {
		if err := g.checkAddr(a); err != nil {
			return fmt.Errorf("%w: %s resolves to %s, a %s address", ErrRefused, u.Hostname(), a, classOf(a))
		}
	}
	return nil
}

func (g *Guard) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	if g.Lookup != nil {
		return g.Lookup(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

func (g *Guard) checkAddr(a netip.Addr) error {
	return g.g.SafeAddr(a.Unmap())
}

// classOf names why an address is refused, for the error message.
func classOf(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "loopback"
	case a == netip.MustParseAddr("169.254.169.254") || a == netip.MustParseAddr("fd00:ec2::254"):
		return "cloud metadata"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsPrivate():
		return "private"
	case a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		return "multicast"
	case a.IsUnspecified():
		return "unspecified"
	}
	return "special-purpose"
}

// control is the dialer's Control: it runs on the resolved address of
// every connection, before it is made.
func (g *Guard) control(network, address string, _ syscall.RawConn) error {
	if g.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrRefused, address)
	}
	if err := g.checkAddr(ap.Addr()); err != nil {
		return fmt.Errorf("%w: %s is a %s address", ErrRefused, ap.Addr(), classOf(ap.Addr()))
	}
	return nil
}

// Client returns the HTTP client deliveries use: its dialer checks every
// address, proxies from the environment are not used (a proxy would
// make the check see the proxy's address), redirects are not followed
// (a 3xx is a failed attempt), and each attempt has timeout.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, Control: g.control}
	tr := &http.Transport{DialContext: d.DialContext, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 4,
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
