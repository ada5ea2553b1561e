# memoryd: `make run` starts the service on its embedded default, `make test`
# runs every check CI runs. Both install what they need themselves.
SHELL := /bin/bash
GO ?= go
export CGO_ENABLED ?= 0
# Fuzz runs are bounded by a number of inputs, not a duration: with a
# duration, Go's fuzz coordinator can report its own deadline as a failure
# ("context deadline exceeded") when it is preempted at the boundary on a
# busy machine.
FUZZTIME ?= 20000x
# Each fuzz target as PACKAGE:FUNCTION[:INPUTS]; `make fuzz` runs them one
# by one, each for INPUTS inputs (FUZZTIME when absent). The list query
# target costs more per input. Minimising a new input is bounded too: by
# default Go allows it a minute per input.
FUZZ_TARGETS ?= \
	server/httpapi:FuzzCreateMemoryBody \
	server/httpapi:FuzzUpdateMemoryBody \
	server/httpapi:FuzzSearchBody \
	server/httpapi:FuzzListQuery:5000x
# The packages whose goroutines share state (the stream hub, the store's
# writer and checkpointer, the rate limiter, the embedding batcher, the
# vector index and its linker, and the HTTP layer, which runs the service
# and auth code under concurrent requests). -race needs cgo.
RACE_PKGS ?= ./server/events/... ./server/store/... ./server/ratelimit/... \
	./server/embed/batch/... ./server/vector/... ./server/httpapi/... \
	./server/service/... ./server/auth/...
# go test's -timeout is per test binary; these leave room for a cold, busy
# two-core machine (a test binary that runs out panics with "test timed out
# after ...", naming this limit).
TEST_TIMEOUT ?= 20m
RACE_TIMEOUT ?= 20m
FUZZ_TIMEOUT ?= 10m

.PHONY: run build generate check-generate lint lint-spec vet test test-go race fuzz bench clean conformance conformance-local stack
PROFILE ?= core,stream,webhooks

run: build
	./bin/memoryd serve

build:
	$(GO) build -o bin/memoryd ./server/cmd/memoryd

generate:
	$(GO) generate ./gen/...

# check-generate fails when gen/ differs from what `make generate` produces.
check-generate:
	@tmp=$$(mktemp -d) && cp -r gen $$tmp/before && $(GO) generate ./gen/... && \
	if ! diff -r $$tmp/before gen >/dev/null; then \
		diff -r $$tmp/before gen | head -40; rm -rf $$tmp; \
		echo "gen/ is stale or hand-edited: run make generate and commit the result"; exit 1; fi; \
	rm -rf $$tmp; echo "gen/ is up to date"

lint-spec:
	bash tools/speclint/lint.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go') | grep -v '\.gen\.go$$')" || \
		{ gofmt -l . | grep -v '\.gen\.go$$'; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

# staticcheck with its default checks, pinned as a tool in go.mod.
lint:
	$(GO) tool staticcheck ./...

# PostgreSQL and Chromium come from apt when missing (the store, e2e and
# browser tests use real ones), and weaviate-server is built once per
# version (10-30 minutes cold, then cached) before any test binary's
# -timeout starts; the tests start their own throwaway servers.
# MEMORYD_LONG=1 runs the 125 s idle-stream test too.
test-go:
	bash tools/pg/ensure-postgres.sh
	bash tools/browser/ensure-chromium.sh
	bash tools/weaviate/ensure.sh >/dev/null
	MEMORYD_LONG=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

# The race detector on the concurrent packages (gcc comes from apt when
# missing). The 125 s idle-stream test is not repeated here.
race:
	bash tools/race/ensure-gcc.sh
	bash tools/pg/ensure-postgres.sh
	bash tools/weaviate/ensure.sh >/dev/null
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout $(RACE_TIMEOUT) $(RACE_PKGS)

# A bounded fuzz run of every target in FUZZ_TARGETS, through a real server.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		IFS=: read -r pkg fn n <<<"$$t"; n=$${n:-$(FUZZTIME)}; \
		echo "fuzz $$fn (./$$pkg, $$n)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $$n -fuzzminimizetime 100x -timeout $(FUZZ_TIMEOUT) ./$$pkg; \
	done

test: check-generate vet lint lint-spec test-go race fuzz

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./server/embed/uselite
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./server/vector/memindex
	$(GO) test -run '^$$' -bench . -benchtime 3s ./server/embed/batch
	$(GO) test -run '^$$' -bench . ./server/store/...
	$(GO) test -run '^$$' -bench 'Delivery|Replay' -benchtime 100x -timeout 20m ./server/events
	$(GO) test -run '^$$' -bench IdleStreamMemory -benchtime 1x -timeout 20m ./server/events

clean:
	rm -rf bin

# The conformance suite against the Docker image (testcontainers-go; starts
# dockerd and builds the FROM scratch image itself). STACK=scale runs it
# against the production stack instead (PostgreSQL, Weaviate, two memoryd
# nodes; images built here and cached), with the cluster profile too.
STACK ?=
STACK_PROFILE ?= core,stream,cluster
conformance:
	$(GO) run ./tools/conformance/harness $(if $(STACK),--stack $(STACK) --profile $(STACK_PROFILE),--profile $(PROFILE))

# The production stack, started locally: prints both nodes' URLs and an API
# key; Ctrl-C stops it and removes its containers and data.
stack:
	$(GO) run ./tools/conformance/harness --stack scale --up

# The same suite against a locally built memoryd on a throwaway SQLite file.
conformance-local:
	PROFILE=$(PROFILE) bash tools/conformance/local.sh
