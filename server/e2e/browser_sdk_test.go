package e2e

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sdkFiles builds the TypeScript client (sdk/typescript/scripts/ensure.sh
// installs its pinned packages and compiles it) and serves, read-only, its
// compiled modules and the runtime packages they import.
func sdkFiles(t testing.TB) http.Handler {
	t.Helper()
	sdk := filepath.Join(filepath.Dir(filepath.Dir(browserTools(t))), "sdk", "typescript")
	if out, err := exec.Command("bash", filepath.Join(sdk, "scripts", "ensure.sh"), "--build").CombinedOutput(); err != nil {
		t.Fatalf("sdk/typescript/scripts/ensure.sh --build: %v\n%s", err, out)
	}
	served := []string{"dist/", "node_modules/eventsource/dist/", "node_modules/eventsource-parser/dist/", "node_modules/openapi-fetch/dist/"}
	fs := http.FileServer(http.Dir(sdk))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := false
		for _, p := range served {
			ok = ok || strings.HasPrefix(r.URL.Path, p)
		}
		if !ok || strings.Contains(r.URL.Path, "..") {
			http.NotFound(w, r)
			return
		}
		if strings.HasSuffix(r.URL.Path, ".js") || strings.HasSuffix(r.URL.Path, ".mjs") {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		}
		fs.ServeHTTP(w, r)
	})
}

// sdkPage follows the stream with the TypeScript client's stream()
// iterator, authenticated by the ticket of its URL, and records what it
// yields in the shape pageLog reads.
const sdkPage = `<!doctype html>
<meta charset="utf-8">
<title>memoryd live stream (TypeScript client)</title>
<script type="importmap">
{"imports": {
  "@memoryd/client": "/sdk/dist/index.js",
  "eventsource": "/sdk/node_modules/eventsource/dist/index.js",
  "eventsource-parser": "/sdk/node_modules/eventsource-parser/dist/index.js",
  "openapi-fetch": "/sdk/node_modules/openapi-fetch/dist/index.mjs"
}}
</script>
<script type="module">
import { MemoryClient } from '@memoryd/client';
const ticket = new URLSearchParams(location.search).get('ticket');
const stream = new MemoryClient({ baseUrl: location.origin }).stream({ ticket });
window.events = [];
window.failure = null;
(async () => {
  try {
    for await (const ev of stream) window.events.push({ type: ev.type, id: ev.id, data: ev.data });
  } catch (e) {
    window.failure = String(e);
    console.error('stream failed: ' + e);
  }
})();
Object.defineProperty(window, 'drops', { get: () => stream.drops });
window.count = (prefix) => window.events.filter((e) => e.type.startsWith(prefix)).length;
window.result = () => ({ events: window.events, opens: stream.connections, drops: stream.drops });
window.summary = () => ({ opens: stream.connections, drops: stream.drops, failure: window.failure,
  events: window.events.length,
  last: window.events.slice(-6).map((e) => e.type + ' ' + e.id + ' ' + (e.data.id ?? e.data.position ?? '')) });
</script>
`
