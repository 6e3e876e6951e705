# 粤商通 account flows. Everything needs only Go; `make run` builds the
# Temporal CLI from source the first time (about 2–3 minutes).

GO          ?= go
TEMPORAL_CLI_VERSION := v1.5.1
BIN         := $(CURDIR)/bin
TEMPORAL    := $(BIN)/temporal
GOTESTFLAGS ?=
BENCH_DURATION    ?= 30s
BENCH_CONCURRENCY ?= 32

.PHONY: run build test test-short lint fuzz bench clean temporal tools

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

fuzz:
	$(GO) test ./identity/ -run='^$$' -fuzz=FuzzNormalizeIDNumber -fuzztime=60s
	$(GO) test ./identity/ -run='^$$' -fuzz=FuzzNormalizeUSCC -fuzztime=60s
	$(GO) test ./identity/ -run='^$$' -fuzz=FuzzNormalizeName -fuzztime=60s

clean:
	rm -rf $(BIN)
