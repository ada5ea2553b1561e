package sqlstore

import (
	"encoding/base64"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
)

// A cursor reads back as issued, ids with colons included; anything else
// is the client's error, not the server's.
func TestCursor(t *testing.T) {
	at, id, err := decodeCursor(encodeCursor(1767322245123456, "a:b"))
	if err != nil || at != 1767322245123456 || id != "a:b" {
		t.Fatalf("round trip: %d %q %v", at, id, err)
	}
	for _, bad := range []string{"%%%", base64.RawURLEncoding.EncodeToString([]byte("no colon")),
		base64.RawURLEncoding.EncodeToString([]byte("x:id"))} {
		if _, _, err := decodeCursor(bad); memoryd.ErrorCode(err) != memoryd.EINVALID {
			t.Errorf("cursor %q: %v, want %s", bad, err, memoryd.EINVALID)
		}
	}
}
