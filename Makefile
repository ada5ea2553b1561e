# memoryd: `make run` starts the service on its embedded default, `make test`
# runs every check CI runs. Both install what they need themselves.
SHELL := /bin/bash
GO ?= go
export CGO_ENABLED ?= 0
# Fuzz runs are bounded by a number of inputs (~10-20 s here), not a
# duration: with a duration, Go's fuzz coordinator can report its own
# deadline as a failure ("context deadline exceeded") when it is preempted
# at the boundary on a busy machine.
FUZZTIME ?= 20000x

.PHONY: run build generate check-generate lint-spec vet test test-go fuzz bench clean conformance conformance-local
PROFILE ?= core,stream

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

# PostgreSQL and Chromium come from apt when missing (the store, e2e and
# browser tests use real ones); the tests start their own throwaway servers.
# MEMORYD_LONG=1 runs the 125 s idle-stream test too.
test-go:
	bash tools/pg/ensure-postgres.sh
	bash tools/browser/ensure-chromium.sh
	MEMORYD_LONG=1 $(GO) test -count=1 -timeout 20m ./...

# A bounded fuzz run of the JSON request bodies through a real server.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzCreateMemoryBody$$' -fuzztime $(FUZZTIME) ./server/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzSearchBody$$' -fuzztime $(FUZZTIME) ./server/httpapi

test: check-generate vet lint-spec test-go fuzz

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./server/embed/uselite
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./server/vector/memindex
	$(GO) test -run '^$$' -bench . -benchtime 3s ./server/embed/batch
	$(GO) test -run '^$$' -bench . ./server/store
	$(GO) test -run '^$$' -bench 'Delivery|Replay' -benchtime 100x -timeout 20m ./server/events
	$(GO) test -run '^$$' -bench IdleStreamMemory -benchtime 1x -timeout 20m ./server/events

clean:
	rm -rf bin

# The conformance suite against the Docker image (testcontainers-go; starts
# dockerd and builds the FROM scratch image itself).
conformance:
	$(GO) run ./tools/conformance/harness --profile $(PROFILE)

# The same suite against a locally built memoryd on a throwaway SQLite file.
conformance-local:
	PROFILE=$(PROFILE) bash tools/conformance/local.sh
