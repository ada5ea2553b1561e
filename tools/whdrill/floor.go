package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/memoryd/memoryd/server/webhooks"
)

// floor is the bench's floor on this machine: the same paced creates to
// memoryd (no endpoint registered), and for each acknowledged create this
// tool POSTs a signed memory.created message, carrying the created
// memory, to each of o.endpoints receivers: one POST at a time per
// endpoint, in order, with no queue on disk. It reports the same figures
// as the bench; what the bench adds to them is the cost of memoryd's
// durable delivery.
func floor(ctx context.Context, o options, s *server, c *client) error {
	var senders []*floorSender
	rcvs, err := startReceivers(o.endpoints, func(i int, r *receiver) error {
		fs, err := newFloorSender(r, i)
		if err != nil {
			return err
		}
		senders = append(senders, fs)
		return nil
	})
	defer closeAll(rcvs)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, fs := range senders {
		fs.queue = make(chan []byte, o.benchCreates())
		wg.Add(1)
		go func() { defer wg.Done(); fs.run() }()
	}
	c.onCreated = func(body []byte) {
		msg, err := json.Marshal(map[string]any{"type": "memory.created", "timestamp": time.Now().UTC(),
			"data": json.RawMessage(body)})
		if err != nil {
			return
		}
		for _, fs := range senders {
			fs.queue <- msg
		}
	}
	return measure(ctx, "floor", o, s, c, rcvs, func() {
		for _, fs := range senders {
			close(fs.queue)
		}
		wg.Wait()
	})
}

// floorSender POSTs one endpoint's messages one at a time, signed with
// memoryd's own signing code.
type floorSender struct {
	url    string
	secret string
	hc     *http.Client
	queue  chan []byte
	n      int
}

func newFloorSender(r *receiver, route int) (*floorSender, error) {
	secret := webhooks.NewSecret()
	if err := r.setSecret(route, secret); err != nil {
		return nil, err
	}
	return &floorSender{url: r.routeURL(route), secret: secret, hc: &http.Client{Timeout: 15 * time.Second}}, nil
}

func (s *floorSender) run() {
	for msg := range s.queue {
		s.n++
		if err := s.post(fmt.Sprintf("msg_floor_%d", s.n), msg); err != nil {
			fmt.Println("floor: POST failed:", err)
		}
	}
}

func (s *floorSender) post(id string, body []byte) error {
	now := time.Now()
	sig, err := webhooks.Sign(s.secret, id, now, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %d", s.url, resp.StatusCode)
	}
	return nil
}
