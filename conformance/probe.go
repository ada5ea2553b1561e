package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SetupError is a problem with how the suite was pointed at a server:
// nothing answers at the base URL, no API is under it, or the server
// rejects a key. It is told apart from a server that fails checks (the CLI
// exits 2, not 1), since running the checks would only report each of them
// failing for the same reason.
type SetupError struct{ Msg string }

func (e *SetupError) Error() string { return e.Msg }

func setupErrorf(format string, args ...any) error {
	return &SetupError{Msg: fmt.Sprintf(format, args...)}
}

// apiPath is where the API lives under a base URL.
const apiPath = "/api/v1"

// BaseURL checks a base URL given by a user and returns it without a
// trailing slash and without a trailing /api/v1 (the suite adds that
// itself; a base URL that already ends in it would double the path).
// trimmed reports whether /api/v1 was removed.
func BaseURL(raw string) (base string, trimmed bool, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", false, setupErrorf("base URL %q: %v", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false, setupErrorf("base URL %q: want http://HOST[:PORT] or https://HOST[:PORT], the server's root", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", false, setupErrorf("base URL %q: no query or fragment, only the server's root", raw)
	}
	path := strings.TrimRight(u.Path, "/")
	if strings.HasSuffix(path, apiPath) {
		path, trimmed = strings.TrimSuffix(path, apiPath), true
	}
	u.Path, u.RawPath = path, ""
	return u.String(), trimmed, nil
}

// ProbeLimit bounds each request of Probe: a server that does not answer
// a health check in this time is not one the checks can judge.
const ProbeLimit = 30 * time.Second

// Probe checks, before any check runs, that the configuration can work:
// something answers GET /api/v1/health under the base URL (any status but
// 404 counts: a failing health check is the checks' business), and the
// server accepts each key with its workspace (GET /api/v1/memory is not
// 401 or 403). Every problem it finds is a *SetupError.
func Probe(ctx context.Context, cfg Config) error {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	if err := probeNode(ctx, hc, cfg.BaseURL, cfg.KeyA, cfg.WorkspaceA, cfg.KeyB, cfg.WorkspaceB); err != nil {
		return err
	}
	if cfg.BaseURLB == "" {
		return nil
	}
	if err := probeNode(ctx, hc, cfg.BaseURLB, cfg.KeyA, cfg.WorkspaceA, "", ""); err != nil {
		return setupErrorf("second node (--base-url-b): %v", err)
	}
	return nil
}

// probeNode probes one node with key A and, when given, key B.
func probeNode(ctx context.Context, hc *http.Client, baseURL, keyA, wsA, keyB, wsB string) error {
	base := strings.TrimRight(baseURL, "/")
	status, body, err := probeGet(ctx, hc, base+apiPath+"/health", "", "")
	if err != nil {
		return setupErrorf("nothing answers at %s: %v (is the server running? --base-url is its root, e.g. http://127.0.0.1:8080)", base, err)
	}
	if status == http.StatusNotFound {
		return setupErrorf("GET %s%s/health answered 404 %s: no memoryd API under %s%s (--base-url is the server's root, without %s)",
			base, apiPath, body, base, apiPath, apiPath)
	}
	for _, k := range []struct{ name, key, ws, flag string }{
		{"A", keyA, wsA, "--api-key/--workspace-a"},
		{"B", keyB, wsB, "--api-key-b/--workspace-b"},
	} {
		if k.key == "" {
			continue
		}
		status, body, err := probeGet(ctx, hc, base+apiPath+"/memory?limit=1", k.key, k.ws)
		if err != nil {
			return setupErrorf("GET %s%s/memory with key %s: %v", base, apiPath, k.name, err)
		}
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			return setupErrorf("the server rejects key %s (%s): GET %s%s/memory answered %d %s",
				k.name, k.flag, base, apiPath, status, body)
		}
	}
	return nil
}

// probeGet sends one GET within ProbeLimit and returns the status and the
// start of the body.
func probeGet(ctx context.Context, hc *http.Client, u, key, workspace string) (int, string, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, ProbeLimit,
		fmt.Errorf("no answer within the setup probe's %s limit", ProbeLimit))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if workspace != "" {
		req.Header.Set("X-Workspace-ID", workspace)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return 0, "", cause
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}
