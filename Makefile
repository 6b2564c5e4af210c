# hookcert: conformance and load-test suite for REALM webhook receivers.
# `make help` lists the targets; README.md explains the variables.

SHELL := /bin/bash
GO    ?= go
BIN   := bin/hookcert

# The user's contract (DESIGN section 2). Empty URL = the bundled reference
# receiver on a free loopback port.
URL          ?=
SECRET       ?=
PROBE_URL    ?=
PROBE_TOKEN  ?=
LABELS       ?=
STRICT       ?=
INSECURE     ?=
CA_CERT      ?=
ACK_DEADLINE ?= 1s
SCENARIOS    ?=
REPORT_DIR   ?= reports

# The secret reaches the suite through the environment, never a command
# line that make would echo.
ifneq ($(SECRET),)
export REALM_WEBHOOK_SECRET := $(SECRET)
endif

# FAULTS plants bugs in the bundled reference receiver (no URL): a quick way
# to see what a failing report looks like, e.g. FAULTS=double-process.
FAULTS       ?=
GINKGO_FLAGS ?=

abs = $(if $(1),$(abspath $(1)))

.PHONY: help build test vet fmt-check fuzz bench clean conformance

help:
	@echo "make conformance  certify a receiver (URL=..., or the bundled reference receiver)"
	@echo "make build        build $(BIN)"
	@echo "make test         the project's own tests (race detector on)"
	@echo "make bench        benchmarks of the hot paths"
	@echo "make fuzz         run each fuzz target for FUZZTIME (default 20s)"

build:
	$(GO) build -o $(BIN) ./cmd/hookcert

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test: fmt-check vet
	$(GO) test -race -count=1 -timeout 20m ./...

FUZZTIME ?= 20s
fuzz:
	$(GO) test ./harness/signing -run '^$$' -fuzz FuzzParseHeader -fuzztime $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./harness/signing ./harness/events

clean:
	rm -rf bin
	find $(REPORT_DIR) -mindepth 1 ! -name .gitkeep -delete 2>/dev/null || true

# conformance: the Ginkgo suite writes junit.xml, report.json and index.html
# into REPORT_DIR; `hookcert status` then exits 0, 1 or 2 from report.json.
conformance:
	@mkdir -p $(REPORT_DIR) && rm -f $(REPORT_DIR)/report.json $(REPORT_DIR)/junit.xml $(REPORT_DIR)/index.html
	@HOOKCERT_URL='$(URL)' HOOKCERT_PROBE_URL='$(PROBE_URL)' HOOKCERT_PROBE_TOKEN='$(PROBE_TOKEN)' \
	HOOKCERT_STRICT='$(STRICT)' HOOKCERT_INSECURE='$(INSECURE)' HOOKCERT_CA_CERT='$(call abs,$(CA_CERT))' \
	HOOKCERT_ACK_DEADLINE='$(ACK_DEADLINE)' HOOKCERT_SCENARIOS='$(call abs,$(SCENARIOS))' \
	HOOKCERT_REPORT_DIR='$(abspath $(REPORT_DIR))' HOOKCERT_FAULTS='$(FAULTS)' \
	$(GO) tool ginkgo --label-filter='$(LABELS)' $(GINKGO_FLAGS) ./suites/conformance || true
	@$(GO) run ./cmd/hookcert status $(REPORT_DIR)
