package memproc

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// A built memoryd starts on a free port with a working key, and Stop
// removes its files.
func TestStartServesAndStopCleansUp(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "memoryd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/memoryd/memoryd/server/cmd/memoryd").CombinedOutput(); err != nil {
		t.Fatalf("building memoryd: %v\n%s", err, out)
	}
	s, err := Start(bin, []string{"w"}, []string{"--embedder", "hash"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.Base+"/api/v1/memory", nil)
	req.Header.Set("Authorization", "Bearer "+s.Key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /memory with the key: %d, want 200", res.StatusCode)
	}
	if s.CPU() <= 0 {
		t.Fatal("no CPU time read for a server that started")
	}
	s.Stop()
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Fatalf("the server's directory is still there after Stop: %v", err)
	}
}
