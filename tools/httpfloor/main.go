// Command httpfloor is the HTTP ceiling of a machine for tools/load: a
// server that answers POST /api/v1/memory as memoryd does on the wire (it
// reads and decodes the JSON body, answers 201 with a memory-sized JSON
// body) and does nothing else: no validation, storage, index or log.
// Whatever tools/load measures against it is what the machine, the Go
// HTTP stack and the load tool itself allow, before memoryd does any work:
//
//	go run ./tools/httpfloor -addr 127.0.0.1:18091 &
//	go run ./tools/load -url http://127.0.0.1:18091 -key x -mode creates
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18091", "listen address")
	flag.Parse()
	http.HandleFunc("POST /api/v1/memory", create)
	log.Printf("httpfloor on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

func create(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := "mem_" + hex.EncodeToString(b[:])
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", "/api/v1/memory/"+id)
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"id":%q,"status":"stored","embedding_generated":true,"vector_dimensions":512,"tokens_used":20,"created_at":"2026-11-24T09:00:00Z","text":%q}`,
		id, fmt.Sprint(body["text"]))
}
