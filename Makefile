# 粤商通 account flows. Everything needs only Go; `make run` builds the
# Temporal CLI from source the first time (about 2–3 minutes).

GO          ?= go
TEMPORAL_CLI_VERSION := v1.5.1
BIN         := $(CURDIR)/bin
TEMPORAL    := $(BIN)/temporal
GOTESTFLAGS ?=
BENCH_DURATION    ?= 30s
BENCH_CONCURRENCY ?= 32
BENCH_INVITATIONS ?= 10000

.PHONY: run build test test-short lint fuzz bench bench-smoke clean temporal tools
.PHONY: chaos

build: $(BIN)/yst

$(BIN)/yst: FORCE
	$(GO) build -o $(BIN)/yst ./cmd/yst

FORCE:

# The Temporal dev server is the Temporal CLI, built with go install.
$(TEMPORAL):
	GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

temporal: $(TEMPORAL)

run: build $(TEMPORAL)
	YST_TEMPORAL_CLI=$(TEMPORAL) $(BIN)/yst dev

# Every test, against a real Temporal dev server and a real PostgreSQL
# (scripts/testdb.sh finds or starts one and exports YST_TEST_DATABASE_URL).
test: $(TEMPORAL)
	. scripts/testdb.sh && YST_TEMPORAL_CLI=$(TEMPORAL) $(GO) test -race -count=1 -timeout 20m $(GOTESTFLAGS) ./...

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l . && echo "gofmt: the files above need formatting" && exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	$(GO) run go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0 ./workflows/...

# The crash, restart and database-outage suites (docs/reliability.md):
# yst built with the chaos tag runs as processes that the tests kill,
# restart and cut off from a PostgreSQL cluster of their own. The tests
# mostly wait on Temporal's timeouts, so they run in parallel; -v prints
# each one's figures.
chaos: $(TEMPORAL)
	. scripts/testdb.sh && YST_TEMPORAL_CLI=$(TEMPORAL) $(GO) test -tags chaos -count=1 -timeout 15m -parallel 8 -v $(GOTESTFLAGS) ./worker/ ./chaos/

# Every fuzz target of the module for FUZZTIME each (docs/reliability.md).
# make test runs their seed corpora; this explores beyond them.
FUZZTIME ?= 30s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# The benchmarks (docs/benchmarks.md): face logins through the API against
# the same Temporal work through the SDK alone, then pending invitations at
# scale, on a dev server and a fresh PostgreSQL database of their own. The
# last line of output is the bench: line.
bench: $(TEMPORAL)
	$(GO) build -o $(BIN)/ystbench ./cmd/ystbench
	. scripts/testdb.sh && BENCH_DURATION=$(BENCH_DURATION) BENCH_CONCURRENCY=$(BENCH_CONCURRENCY) \
		BENCH_INVITATIONS=$(BENCH_INVITATIONS) YST_TEMPORAL_CLI=$(TEMPORAL) $(BIN)/ystbench

# A few seconds of make bench, for CI: it checks that the bench: line comes
# out with positive numbers, and no speed.
bench-smoke: $(TEMPORAL)
	scripts/bench-smoke.sh

clean:
	rm -rf $(BIN)
