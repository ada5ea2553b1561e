// Command httpfloor is the HTTP ceiling of a machine for tools/load: a
// server that answers POST /api/v1/memory as memoryd does on the wire (it
// reads and decodes the JSON body, answers 201 with a memory-sized JSON
// body) and does nothing else: no validation, storage, index or log.
// Whatever tools/load measures against it is what the machine, the Go
// HTTP stack and the load tool itself allow, before memoryd does any work:
//
//	go run ./tools/httpfloor -addr 127.0.0.1:18091 &
//	go run ./tools/load -url http://127.0.0.1:18091 -key x -mode creates
//
// With -sqlite FILE it also stores each create durably, the least a
// durable create can do (sqlite.go): what tools/load measures then is the
// floor under memoryd's creates on SQLite, before its validation,
// full-text index, tags, event log and vector index.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"

	memoryd "github.com/memoryd/memoryd/server"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18091", "listen address")
	dbPath := flag.String("sqlite", "", "also store each create durably in this SQLite file (see sqlite.go)")
	ckpt := flag.String("checkpoint", "bounded", "with -sqlite: bounded (memoryd's way), passive (the log grows) or none")
	flag.Parse()
	if *dbPath != "" {
		f, err := openSQLiteFloor(*dbPath, *ckpt)
		if err != nil {
			log.Fatal(err)
		}
		floor = f
	}
	http.HandleFunc("POST /api/v1/memory", create)
	log.Printf("httpfloor on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

var floor *sqliteFloor // set by -sqlite

func create(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := memoryd.NewMemoryID()
	text := fmt.Sprint(body["text"])
	if floor != nil {
		if err := floor.put(id, text); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", "/api/v1/memory/"+id)
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"id":%q,"status":"stored","embedding_generated":true,"vector_dimensions":512,"tokens_used":20,"created_at":"2026-11-24T09:00:00Z","text":%q}`,
		id, text)
}
