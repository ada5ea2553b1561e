package weaviate

import (
	"context"
	"errors"
	"sync"
)

// One memory's write (a create or update through the API) waits for its
// vector to reach Weaviate, and Weaviate spends most of a one-object
// batch request on the request itself. So single writes of a workspace
// coalesce: while one batch of them is in flight, the writes that arrive
// wait and go together in the next request. A write that finds nothing
// in flight goes at once, so a lone write waits for no one.

// coalescer holds, per workspace, the batch being gathered behind the one
// in flight.
type coalescer struct {
	mu     sync.Mutex
	next   map[string]*joined // gathering, not yet sent
	flying map[string]bool    // a batch of the workspace is in flight
}

// joined is a batch of single writes and where their callers wait.
type joined struct {
	docs  []Doc
	errs  []error       // one per doc, set before done closes
	ready chan struct{} // closed when the batch may be sent
	done  chan struct{} // closed when it was
}

func newCoalescer() *coalescer {
	return &coalescer{next: map[string]*joined{}, flying: map[string]bool{}}
}

// upsertOne stores d, in one request with the other single writes of
// workspace that arrive while a request of theirs is in flight. The
// first caller of a batch sends it, once the batch before it is done.
func (x *Index) upsertOne(workspace string, d Doc) error {
	c := x.single
	c.mu.Lock()
	b := c.next[workspace]
	first := b == nil
	if first {
		b = &joined{ready: make(chan struct{}), done: make(chan struct{})}
		c.next[workspace] = b
		if !c.flying[workspace] {
			c.flying[workspace] = true
			close(b.ready)
		}
	}
	i := len(b.docs)
	b.docs = append(b.docs, d)
	c.mu.Unlock()
	if !first {
		<-b.done
		return b.errs[i]
	}
	<-b.ready
	c.mu.Lock()
	delete(c.next, workspace) // later writes gather the next batch
	c.mu.Unlock()
	defer c.handOver(workspace, b)
	b.errs = x.sendJoined(workspace, b.docs)
	return b.errs[i]
}

// errNotSent answers the callers of a batch whose sender panicked.
var errNotSent = errors.New("weaviate upsert: the batch was not sent")

// handOver answers b's callers and lets the workspace's next batch go,
// even when sending b panicked: a stuck batch would hold every later
// write of the workspace.
func (c *coalescer) handOver(workspace string, b *joined) {
	if b.errs == nil {
		b.errs = make([]error, len(b.docs))
		for k := range b.errs {
			b.errs[k] = errNotSent
		}
	}
	close(b.done)
	c.mu.Lock()
	defer c.mu.Unlock()
	if nb := c.next[workspace]; nb != nil {
		close(nb.ready) // its first caller sends it; the workspace stays in flight
	} else {
		delete(c.flying, workspace)
	}
}

// sendJoined writes docs (checked already) and returns each one's error:
// the error Weaviate gave its object, or the request's when a request
// failed as a whole (then the docs after it are not sent and get that
// error too). Of docs with the same id the last is written, and its
// error is every one's.
func (x *Index) sendJoined(workspace string, docs []Doc) []error {
	x.joinedRequests.Add(1)
	send := lastOfEach(docs)
	sent := make([]error, len(send))
	for start := 0; start < len(send); start += batchSize {
		chunk := send[start:min(start+batchSize, len(send))]
		var objErrs []error
		err := x.retry("upsert", func(ctx context.Context) error {
			var err error
			objErrs, err = x.writeObjects(ctx, workspace, chunk, true)
			return err
		})
		if err != nil && objErrs == nil {
			for k := start; k < len(send); k++ {
				sent[k] = err
			}
			break
		}
		copy(sent[start:], objErrs)
	}
	if len(send) == len(docs) { // no id twice: send is docs
		return sent
	}
	at := make(map[string]int, len(send))
	for k, d := range send {
		at[d.ID] = k
	}
	errs := make([]error, len(docs))
	for i, d := range docs {
		errs[i] = sent[at[d.ID]]
	}
	return errs
}
