package events

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
)

// A stream is authenticated once, when it opens, but may stay open for
// days: a key revoked meanwhile (by `memoryd keys revoke`, from any
// process on the database) must not keep receiving events. So the open
// streams' keys are looked up again every Config.KeyCheck, which defaults
// to the key cache's lifetime (auth.CacheTTL): a revocation reaches a
// stream as soon as it reaches a request. Each key is looked up once per
// round however many streams it has, and only keys with an open stream
// are looked up at all.
//
// A stream opened just after a revocation, on a lookup the key cache
// still held, is caught by the next round: at worst CacheTTL + KeyCheck
// after the revocation.
//
// A stream whose key is gone ends with an `error` event UNAUTHORIZED; one
// whose key may no longer use the stream's workspace, with FORBIDDEN.
// Neither is worth retrying (retry_after 0). A round that cannot read a
// key (the database is down) leaves its streams open: they are checked
// again at the next round, rather than all cut by one failed read.

// keyWatch is the set of open streams, by key.
type keyWatch struct {
	mu   sync.Mutex
	keys map[string]*watchedKey // by key id
}

type watchedKey struct {
	hash    []byte
	streams map[*watcher]struct{}
}

// watcher is one open stream: ending it cancels its context with the
// reason as the cause.
type watcher struct {
	key, workspace string
	stop           context.CancelCauseFunc
}

// keyLost is the cause of a stream ended because its key is gone or may
// no longer use its workspace; it becomes the `error` event.
type keyLost struct{ code, message string }

func (k *keyLost) Error() string { return k.code + ": " + k.message }

var (
	errKeyRevoked = &keyLost{memoryd.EUNAUTHORIZED,
		"The API key of this stream was revoked or deleted; the stream is closed"}
	errKeyForbidden = &keyLost{memoryd.EFORBIDDEN,
		"The API key of this stream may no longer use its workspace; the stream is closed"}
)

func newKeyWatch() *keyWatch { return &keyWatch{keys: map[string]*watchedKey{}} }

// add watches a stream of p, ended by stop.
func (kw *keyWatch) add(p *auth.Principal, stop context.CancelCauseFunc) *watcher {
	w := &watcher{key: p.Key.ID, workspace: p.Workspace, stop: stop}
	kw.mu.Lock()
	defer kw.mu.Unlock()
	k := kw.keys[w.key]
	if k == nil {
		k = &watchedKey{hash: p.Key.Hash, streams: map[*watcher]struct{}{}}
		kw.keys[w.key] = k
	}
	k.streams[w] = struct{}{}
	return w
}

func (kw *keyWatch) remove(w *watcher) {
	kw.mu.Lock()
	defer kw.mu.Unlock()
	k := kw.keys[w.key]
	if k == nil {
		return
	}
	delete(k.streams, w)
	if len(k.streams) == 0 {
		delete(kw.keys, w.key)
	}
}

// hashes returns the hash of every key with an open stream, by key id.
func (kw *keyWatch) hashes() map[string][]byte {
	kw.mu.Lock()
	defer kw.mu.Unlock()
	out := make(map[string][]byte, len(kw.keys))
	for id, k := range kw.keys {
		out[id] = k.hash
	}
	return out
}

// end stops the streams of key id that lost returns a cause for.
func (kw *keyWatch) end(id string, lost func(*watcher) error) int {
	kw.mu.Lock()
	defer kw.mu.Unlock()
	n := 0
	if k := kw.keys[id]; k != nil {
		for w := range k.streams {
			if cause := lost(w); cause != nil {
				w.stop(cause)
				n++
			}
		}
	}
	return n
}

// runKeyCheck checks the open streams' keys every cfg.KeyCheck until ctx
// ends.
func (s *Stream) runKeyCheck(ctx context.Context) {
	t := time.NewTicker(s.cfg.KeyCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.checkKeys(ctx)
		}
	}
}

// checkKeys looks up each key with an open stream once and ends the
// streams it no longer allows.
func (s *Stream) checkKeys(ctx context.Context) {
	for id, hash := range s.keys.hashes() {
		k, err := s.store.KeyByHash(ctx, hash)
		if err != nil && !errors.Is(err, memoryd.ErrNotFound) {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "stream: checking a key of open streams", "key_id", id, "err", err)
			}
			continue
		}
		lost := func(w *watcher) error {
			switch {
			case err != nil || k.ID != id || k.RevokedAt != nil:
				return errKeyRevoked
			case !slices.Contains(k.Workspaces, w.workspace):
				return errKeyForbidden
			}
			return nil
		}
		if n := s.keys.end(id, lost); n > 0 {
			s.log.InfoContext(ctx, "stream: closing the streams of a key no longer allowed", "key_id", id, "streams", n)
		}
	}
}
