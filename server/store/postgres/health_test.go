package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/pgtest"
	memoryd "github.com/memoryd/memoryd/server"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A database that went away answers UNAVAILABLE, reads and writes alike,
// and is not ready.
func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	ctx := context.Background()
	srv, err := pgtest.Start() // its own: this test stops it
	if err != nil {
		t.Fatal(err)
	}
	dsn, err := srv.NewDatabase()
	if err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	s := openT(t, dsn)
	if err := put(s, "before"); err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	srv.Stop()
	if _, err := s.GetMemory(ctx, "w", "before"); memoryd.ErrorCode(err) != memoryd.EUNAVAILABLE {
		t.Errorf("a read: %v, want %s", err, memoryd.EUNAVAILABLE)
	}
	if err := put(s, "after"); memoryd.ErrorCode(err) != memoryd.EUNAVAILABLE {
		t.Errorf("a write: %v, want %s", err, memoryd.EUNAVAILABLE)
	}
	if err := s.Ping(ctx); memoryd.ErrorCode(err) != memoryd.EUNAVAILABLE {
		t.Errorf("Ping: %v, want %s", err, memoryd.EUNAVAILABLE)
	}
}

// A full disk (SQLSTATE 53100) answers UNAVAILABLE and the store is not
// ready until writes go through again. The database's tables live on a
// small tmpfs of their own, which needs root to mount.
func TestFullDiskIsUnavailable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	dir := smallDisk(t, "1m")
	name := fmt.Sprintf("small_%d", time.Now().UnixNano())
	admin := openT(t, dsn) // creates the schema where the database's default is
	admin.FullHold = 0     // readiness tries a write at once
	for _, q := range []string{
		"CREATE TABLESPACE " + name + " LOCATION '" + dir + "'",
		"ALTER TABLE memories SET TABLESPACE " + name,
		"ALTER TABLE memory_tags SET TABLESPACE " + name,
		"ALTER TABLE meta SET TABLESPACE " + name,
	} {
		if _, err := admin.W.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		for _, tbl := range []string{"memories", "memory_tags", "meta"} {
			admin.W.ExecContext(ctx, "ALTER TABLE "+tbl+" SET TABLESPACE pg_default")
		}
		admin.W.ExecContext(ctx, "DROP TABLESPACE "+name)
	})
	blob := make([]byte, 64<<10)
	rand.Read(blob)
	big := map[string]any{"blob": hex.EncodeToString(blob)} // 128 KiB that do not compress
	var err error
	for i := 0; i < 100 && err == nil; i++ { // 1 MiB holds a few
		err = putMeta(admin, fmt.Sprint("m", i), big)
	}
	if code := memoryd.ErrorCode(err); code != memoryd.EUNAVAILABLE {
		t.Fatalf("a write to a full disk: %v (code %s), want %s", err, code, memoryd.EUNAVAILABLE)
	}
	if err := admin.Ping(ctx); memoryd.ErrorCode(err) != memoryd.EUNAVAILABLE {
		t.Fatalf("Ping with the disk full: %v, want %s", err, memoryd.EUNAVAILABLE)
	}
	if out, err := exec.Command("mount", "-o", "remount,size=64m", dir).CombinedOutput(); err != nil {
		t.Fatalf("growing the tmpfs: %v\n%s", err, out)
	}
	if err := admin.Ping(ctx); err != nil {
		t.Fatalf("Ping once space is freed: %v", err)
	}
	if err := put(admin, "after"); err != nil {
		t.Fatalf("a write once space is freed: %v", err)
	}
}

// smallDisk mounts a tmpfs of size for the postgres user and returns it.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil { // for postgres to reach it
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

func openT(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// put creates memory id of workspace "w" with a 512-d vector.
func put(s *Store, id string) error {
	return putMeta(s, id, map[string]any{"tags": []any{"a"}})
}

// putMeta is put with the given metadata.
func putMeta(s *Store, id string, md map[string]any) error {
	vec := make([]float32, 512)
	for i := range vec {
		vec[i] = float32(i%7) / 7
	}
	m := &memoryd.Memory{ID: id, Workspace: "w", Text: "some words to index " + id, Embedding: vec,
		Metadata: md, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	_, _, err := s.PutMemory(context.Background(), m, func(*memoryd.Memory) (*memoryd.Event, error) {
		return &memoryd.Event{Workspace: "w", Type: memoryd.EventMemoryCreated, Payload: []byte("{}")}, nil
	})
	return err
}
