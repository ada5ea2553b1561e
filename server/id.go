package memoryd

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// NewMemoryID returns a fresh memory id, as the server assigns them:
// "mem_", the creation time in milliseconds (12 hex digits) and 64 random
// bits (16 hex digits).
//
// The time prefix is for the stores: ids are the key of a unique index,
// and random keys put every create on a page of its own, so a commit of
// n creates rewrote n index pages (8 of a 49-page commit under load on
// SQLite). Keys that grow with time land on the same last pages. The
// random part keeps ids unguessable and unique.
func NewMemoryID() string {
	return NewSortableID("mem_")
}

// NewSortableID returns prefix and 28 hex digits that sort by creation
// time (NewMemoryID tells why), for rows inserted as fast as memories
// (the webhooks' delivery log).
func NewSortableID(prefix string) string {
	return idAt(prefix, time.Now())
}

func idAt(prefix string, t time.Time) string {
	var b [14]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return prefix + hex.EncodeToString(b[:])
}
