// Command webhookrecv is the README's webhook receiver: it verifies each
// delivery's Standard Webhooks signature with the specification's own Go
// library and prints the verified events.
//
//	WEBHOOK_SECRET=whsec_... go run ./tools/webhookrecv [-addr 127.0.0.1:9000]
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	flag.Parse()
	wh, err := standardwebhooks.NewWebhook(os.Getenv("WEBHOOK_SECRET"))
	if err != nil {
		log.Fatalf("WEBHOOK_SECRET: %v", err)
	}
	log.Printf("listening on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, handler(wh, os.Stdout)))
}

// handler answers 204 to a delivery whose signature verifies and prints
// it to out; anything else gets 400, which the sender retries.
func handler(wh *standardwebhooks.Webhook, out io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(out, "verified %s %s\n", r.Header.Get("webhook-id"), body)
		w.WriteHeader(http.StatusNoContent)
	})
}
