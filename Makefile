# hookcert: conformance and load-test suite for REALM webhook receivers.
# `make help` lists the targets; README.md explains the variables.

SHELL := /bin/bash
GO    ?= go
BIN   := bin/hookcert

# The user's settings (DESIGN section 2): one variable per row of the
# settings table, generated from it with their help and defaults, and the
# environment (hookcert_env) that hands them to the suites and commands.
# Empty URL = the bundled reference receiver on a free loopback port.
include harness/certify/settings.mk

# GINKGO_FLAGS are passed to the Ginkgo suites, e.g. -v.
GINKGO_FLAGS ?=

.PHONY: help build test e2e vet fmt-check fuzz bench loadcost soak limits mutation clean conformance load capacity certify image image-test

help:
	@echo "make conformance  certify a receiver (URL=..., or the bundled reference receiver)"
	@echo "make load         load-test it: RATE=50 deliveries/s for DURATION=20s (LOAD-01..04)"
	@echo "make capacity     find the highest rate it acknowledges within ACK_DEADLINE"
	@echo "make certify      conformance and load, one combined report"
	@echo "make build        build $(BIN)"
	@echo "make image        build the container image IMAGE with docker or podman (CONTAINER=)"
	@echo "make image-test   build the image and certify from it, the README's Kubernetes manifests included (not in make test)"
	@echo "make test         the project's own tests, race detector on (about a minute)"
	@echo "make e2e          the end-to-end tests: the planted-fault proof, the binary, make, the Action, the browser (minutes)"
	@echo "make bench        benchmarks of the hot paths"
	@echo "make loadcost     hookcert load's CPU per delivery against the vegeta CLI's, wrk's as the floor (minutes)"
	@echo "make fuzz         run each fuzz target for FUZZTIME (default 20s)"
	@echo "make soak         hookcert load at SOAK_RATE=500/s for SOAK=30m; fails if its memory, goroutines or files grow (not in make test)"
	@echo "make limits       the catalogue and the load under ulimit -n 256, and the load's memory against a receiver it overloads (minutes; not in make test)"
	@echo "make mutation     the catalogue's mutation score against the reference receiver (minutes; not in make test)"

build:
	$(GO) build -o $(BIN) ./cmd/hookcert

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# test: gofmt, go vet, then every package's tests under the race detector,
# but the end-to-end tests that make e2e runs (E2E_*): whole catalogues,
# loads, the binary, make, the Action and the browser. What stays is each
# package's own tests: the engine's in virtual time, the others against
# receivers on loopback, the hostile receivers' whole catalogues among them
# (resets, hangs, garbage, interrupted runs: where a race would hide).
# go vet has run, so go test does not vet again (-vet=off: some 11 s of
# CPU), and it keeps the test binaries in bin/test (-o), which go test
# links again only when their code changed (some 20 s of CPU). The packages
# that take longest start first, three at once, four tests at once within
# each (most wait on receivers), and the race detector's one-second pause
# when each test binary exits is skipped. GOGC=400: memory is plenty.
#
# e2e: the end-to-end tests, one group after another, each alone so that
# the rows whose faults act under load or late keep their timing on two
# cores: the planted-fault proof and certify's other whole-catalogue and
# load runs (without the race detector: in the test's own process it would
# make the receivers five times the CPU and stretch the latencies these
# tests judge); cmd/hookcert, whose tests run the binary, make and the
# Action's steps as subprocesses; report's search for the secret in every
# file of two whole runs and its renders in Chromium; the Ginkgo suites
# (under the race detector; they refuse -parallel). CI runs make test, then
# make e2e.
RACE_FIRST := ./harness/receiver ./harness/certify ./harness/delivery ./harness/report ./harness/load ./harness/engine
E2E_CERTIFY := TestPlantedFaults|TestAReceiverThatRestartsMidRun|TestCertifyAgainstTheReferenceReceiver|TestAnAsynchronousReceiver|TestHTTP2WithPriorKnowledge|TestAnHTTP2OnlyReceiverIsCertified|TestReceiversVerifyingWithTheOfficialLibraries|TestSlowReceiverPastCapacityStorms|TestTwoGeneratorsMerge|TestFlakyReceiverIsMadeWholeByRetries|TestAnHTTP2OnlyReceiverCarriesTheLoad|TestCapacityReport|TestHTTP1AgainstAnHTTP2OnlyReceiver
E2E_REPORT := TestNoSecretInAnyReportFile|TestBrowserRendersSample|TestBrowserFaultyRun|TestBrowserRendersRetries
TEST_P ?= 3
TEST_PARALLEL ?= 4
TEST_GOGC ?= 400
TEST_BIN := bin/test
go_test = GOGC=$${GOGC:-$(TEST_GOGC)} $(GO) test -vet=off -count=1 -timeout 20m
race_test = GORACE='atexit_sleep_ms=0 $(GORACE)' $(go_test) -race
test: fmt-check vet
	@mkdir -p $(TEST_BIN)/race
	$(race_test) -p $(TEST_P) -parallel $(TEST_PARALLEL) -o $(TEST_BIN)/race/ -skip '^($(E2E_CERTIFY)|$(E2E_REPORT))$$' \
		$$($(GO) list $(RACE_FIRST) ./harness/... ./cmd/... | grep -v '/cmd/hookcert$$' | awk '!seen[$$0]++')

e2e:
	@mkdir -p $(TEST_BIN)/plain $(TEST_BIN)/suites
	@$(call echo_run,$(go_test) -parallel $(TEST_PARALLEL) -o $(TEST_BIN)/plain/ -run '^($(E2E_CERTIFY))$$' ./harness/certify); p=$$?; \
	$(call echo_run,$(go_test) -parallel $(TEST_PARALLEL) -o $(TEST_BIN)/plain/ ./cmd/hookcert); h=$$?; \
	$(call echo_run,$(go_test) -parallel $(TEST_PARALLEL) -o $(TEST_BIN)/plain/ -run '^($(E2E_REPORT))$$' ./harness/report); r=$$?; \
	$(call echo_run,$(race_test) -o $(TEST_BIN)/suites/ ./suites/...); s=$$?; \
	test $$p -eq 0 -a $$h -eq 0 -a $$r -eq 0 -a $$s -eq 0

# echo_run prints a command, then runs it.
echo_run = echo "$(subst ",\",$(1))" && $(1)

# mutation: the catalogue's own mutation score, not part of make test.
# gremlins, pinned, mutates the reference receiver's request handling one
# token at a time (every mutator it has; faults.go and delays.go, the
# planted faults' names and delays, are left out) and runs the package's
# tests under the build tag mutation against each mutant: that tag runs
# TestCatalogueCertifiesReceiver alone, the whole catalogue with the probe
# on, so a mutant is killed only when a check FAILs or WARNs (or the run
# cannot be made), never by the receiver's unit tests. The test logs which
# mutant it judged and what broke; cmd/mutants joins that log with
# gremlins' results (gremlins counts a mutant that does not compile as
# killed), writes $(REPORT_DIR)/mutation/survivors.md and prints the score,
# failing below MUTATION_MIN percent of the non-equivalent mutants (0: no
# minimum). One worker, niced, as the runs judge acknowledgement
# deadlines; a run longer than MUTATION_TIMEOUT times the unmutated one is
# TIMED OUT, not killed. -count=1: a cached pass would not write the log.
GREMLINS         ?= github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
MUTATION_WORKERS ?= 1
MUTATION_TIMEOUT ?= 10
MUTATION_MIN     ?= 90
MUTATION_DIR      = $(abspath $(REPORT_DIR))/mutation
MUTATORS := --invert-logical --invert-loopctrl --invert-assignments --invert-bitwise --invert-bwassign --remove-self-assignments
mutation:
	@mkdir -p '$(MUTATION_DIR)' && rm -f '$(MUTATION_DIR)/gremlins.json' '$(MUTATION_DIR)/runs.jsonl' '$(MUTATION_DIR)/survivors.md'
	GOFLAGS="$$($(GO) env GOFLAGS) -count=1" HOOKCERT_MUTATION_LOG='$(MUTATION_DIR)/runs.jsonl' \
	HOOKCERT_MUTATION_SRC='$(CURDIR)/harness/receiver' nice -n 10 $(GO) run $(GREMLINS) unleash \
		--tags mutation --exclude-files '^(faults|delays)\.go$$' $(MUTATORS) --workers $(MUTATION_WORKERS) \
		--timeout-coefficient $(MUTATION_TIMEOUT) --output '$(MUTATION_DIR)/gremlins.json' '$(CURDIR)/harness/receiver'
	$(GO) run ./cmd/mutants -results '$(MUTATION_DIR)/gremlins.json' -log '$(MUTATION_DIR)/runs.jsonl' \
		-src harness/receiver -min $(MUTATION_MIN)

# fuzz: every fuzz target of the module, found by `go test -list`, one
# after another for FUZZTIME each; the first crash stops it with the
# fuzzer's output (the failing input is then in the package's
# testdata/fuzz) and a non-zero status. go 1.26's fuzzer may also fail a
# target with "context deadline exceeded" as its FUZZTIME ends
# (go.dev/issue/75804, fixed in go 1.27): with no failing input written,
# that is said and the next target runs. For each target it prints the last
# execs line and the coverage bits reached, which the fuzzer reports only
# under GODEBUG=fuzzdebug=1 (its debug lines are not shown). The fuzzer
# shrinks every input that finds new code for up to FUZZMINIMIZETIME; at
# go's 60 s a target that takes milliseconds an input (a scenario file)
# spends its whole FUZZTIME shrinking its first finds. FUZZ_FLAGS adds go
# test flags, e.g. -parallel 1 on a shared machine. FUZZ_TARGETS, a
# regular expression (awk's), runs only the targets whose names it
# matches, e.g. the rest of a run that stopped at a crash once it is fixed.
FUZZTIME ?= 20s
FUZZMINIMIZETIME ?= 1s
FUZZ_FLAGS ?=
FUZZ_TARGETS ?=
fuzz:
	@set -o pipefail; log=$$(mktemp) && trap 'rm -f "$$log"' EXIT && \
	targets=$$($(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ { names = names " " $$1 } \
		/^ok/ { n = split(names, a, " "); for (i = 1; i <= n; i++) print $$2, a[i]; names = "" }') || \
		{ echo "make fuzz: go test -list failed"; exit 2; }; \
	targets=$$(awk -v only='$(FUZZ_TARGETS)' 'only == "" || $$2 ~ only' <<< "$$targets"); \
	[ -n "$$targets" ] || { echo "make fuzz: no fuzz targets found$(if $(FUZZ_TARGETS), matching FUZZ_TARGETS='$(FUZZ_TARGETS)')"; exit 2; }; \
	while read -r pkg name; do \
		echo "$$name ($$pkg), $(FUZZTIME):"; \
		if GODEBUG=fuzzdebug=1 $(GO) test "$$pkg" -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $(FUZZ_FLAGS) < /dev/null > "$$log" 2>&1; then \
			race=; \
		elif grep -qx '    context deadline exceeded' "$$log" && ! grep -q 'Failing input written' "$$log"; then \
			race=" (then go's fuzztime race, go.dev/issue/75804: no failing input)"; \
		else \
			grep -v ' DEBUG ' "$$log"; echo "make fuzz: $$name ($$pkg) failed"; exit 1; \
		fi; \
		bits=$$(grep -o 'initial coverage bits: [0-9]*\|total bits: [0-9]*' "$$log" | tail -n 1 | grep -o '[0-9]*$$'); \
		last=$$(grep 'execs:' "$$log" | tail -n 1); \
		echo "  $${last:-$$(grep '^fuzz: ' "$$log" | tail -n 1)}, coverage bits: $${bits:-?}$$race"; \
	done <<< "$$targets"

# bench: the hot paths, then the load generator's figures (BENCH_COUNT runs
# each; compare medians): its throughput against vegeta's own static attack,
# its accuracy against a fixed 200 ms receiver, its peak memory.
BENCH_COUNT ?= 5
# loadcost: a whole `hookcert load` process's CPU per delivery against the
# vegeta CLI's, at one paced rate against one trivial loopback receiver,
# alternating, with wrk's as the floor where it is installed.
# LOADCOST_ARGS passes e.g. -loadcost.runs=11 -loadcost.rate=5000.
LOADCOST_ARGS ?=
loadcost:
	$(GO) test -tags loadcost -run TestLoadCost -v -count=1 -timeout 30m ./harness/load $(if $(LOADCOST_ARGS),-args $(LOADCOST_ARGS))

# soak: `hookcert load` at SOAK_RATE for SOAK, retries on, against the
# reference receiver run as a process of its own (cmd/hookcert/soak_test.go,
# build tag soak), so that what is sampled is the generator's alone: every
# 10 s its resident set and open files from /proc, its live heap and
# goroutines from its runtime log (HOOKCERT_RUNTIME_LOG). It fails when one
# of them grew more than 10 % from the second minute to the last, or when
# report.json's load figures disagree with the results file; the reports
# stay in REPORT_DIR/soak. Not part of make test. go test's -timeout is
# SOAK and 10 minutes more: Go adds up the parts of a duration ("30m10m"
# is 40m).
SOAK      ?= 30m
SOAK_RATE ?= 500
soak:
	$(GO) test -tags soak -run '^TestSoak$$' -count=1 -v -timeout $(SOAK)10m ./cmd/hookcert \
		-args -soak.duration=$(SOAK) -soak.rate=$(SOAK_RATE) -soak.dir='$(abspath $(REPORT_DIR))/soak'

# limits: the harness under resource limits (cmd/hookcert/limits_run_test.go,
# build tag limits), each run a hookcert process of its own: the catalogue
# and the load under `ulimit -n 256` work or stop at once with status 2
# naming the limit; a run that still runs out of open files half-way stops
# with status 2, its checks cut short rather than failed; and a load at 2.5
# times what a receiver holds, for 2 minutes with retries on, keeps its
# waiting retries at the cap, its peak memory printed. Not part of make
# test; TestTooFewOpenFilesStopAtOnce, seconds, is part of make e2e.
limits:
	$(GO) test -tags limits -run '^TestLimits' -count=1 -v -timeout 20m ./cmd/hookcert

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) ./harness/signing ./harness/events
	$(GO) test -run '^$$' -bench 'Targeter' -benchmem -count $(BENCH_COUNT) ./harness/load
	$(GO) test -run '^$$' -bench 'Throughput|Accuracy|Memory|PendingRetries' -benchtime 1x -count $(BENCH_COUNT) -timeout 30m ./harness/load

clean:
	rm -rf bin
	find $(REPORT_DIR) -mindepth 1 ! -name .gitkeep -delete 2>/dev/null || true

# conformance: the Ginkgo suite writes junit.xml, report.json and index.html
# into REPORT_DIR; `hookcert status` then exits 0, 1 or 2 from report.json.
# suite NAME,ENV,FLAGS runs the Ginkgo suite suites/NAME: its compiled
# binary, run directly, so that one Ctrl-C reaches it once (the suite stops
# its checks and still writes the reports). GINKGO_FLAGS are passed as the
# binary takes them: -v as -ginkgo.v, --no-color as -ginkgo.no-color.
# A failed run still ends in `hookcert status`, which reads the report it
# wrote.
ginkgo_flags = $(foreach f,$(GINKGO_FLAGS),-ginkgo.$(patsubst -%,%,$(patsubst --%,%,$(f))))
suite = tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	{ $(call build_suite,$(1),$$tmp/$(1).test); } && \
	$(2) "$$tmp/$(1).test" $(3) $(ginkgo_flags) || true
# build_suite NAME,DEST compiles suites/NAME into DEST. The compiled suite
# is kept in $(SUITE_DIR), which go relinks only when the code changed; a
# lock keeps two runs at once (CI jobs sharing a checkout, the project's
# tests) from writing it together, and each run executes a copy of its
# own. Without flock, each run compiles a suite of its own.
SUITE_DIR := bin/suites
build_suite = if command -v flock >/dev/null 2>&1; then \
	mkdir -p $(SUITE_DIR) && flock $(SUITE_DIR)/.lock \
	sh -c '$(GO) test -c -o $(SUITE_DIR)/$(1).test ./suites/$(1) && cp $(SUITE_DIR)/$(1).test "$$1"' sh "$(2)"; \
	else $(GO) test -c -o "$(2)" ./suites/$(1); fi
clean_reports = mkdir -p $(REPORT_DIR) && rm -f $(REPORT_DIR)/report.json $(REPORT_DIR)/junit.xml $(REPORT_DIR)/index.html $(REPORT_DIR)/request-*.body

conformance:
	@$(clean_reports) $(REPORT_DIR)/results-*.gob
	@$(call suite,conformance,$(hookcert_env),-ginkgo.label-filter='$(LABELS)')
	@$(GO) run ./cmd/hookcert status $(REPORT_DIR)

# load: the Ginkgo load suite attacks at RATE for DURATION, writes the
# reports and the raw vegeta results (results-ATTACKER.gob) into
# REPORT_DIR; `hookcert status` exits 0, 1 or 2 as for conformance.
load:
	@$(clean_reports) $(REPORT_DIR)/results-*.gob
	@$(call suite,load,$(hookcert_env),)
	@$(GO) run ./cmd/hookcert status $(REPORT_DIR)

# capacity: from RATE, doubling while p99 stays within ACK_DEADLINE with
# 99.9 % 2xx, up to MAX_RATE, then narrowing; each rate held STEP_DURATION.
capacity:
	@$(clean_reports) $(REPORT_DIR)/results-*.gob
	@$(hookcert_env) $(GO) run ./cmd/hookcert capacity || true
	@$(GO) run ./cmd/hookcert status $(REPORT_DIR)

# certify: conformance into REPORT_DIR/conformance, load into
# REPORT_DIR/load, merged into one report in REPORT_DIR.
certify:
	@$(clean_reports)
	@$(MAKE) --no-print-directory conformance REPORT_DIR='$(REPORT_DIR)/conformance' || true
	@$(MAKE) --no-print-directory load REPORT_DIR='$(REPORT_DIR)/load' || true
	@$(GO) run ./cmd/hookcert report --from '$(REPORT_DIR)/conformance' --from '$(REPORT_DIR)/load' --out '$(REPORT_DIR)' || true
	@$(GO) run ./cmd/hookcert status $(REPORT_DIR)

# image: the container image of DESIGN section 11, FROM scratch: the static
# hookcert binary (its CA roots built in), the numeric user 65532:65532,
# /reports owned by it as the working directory and HOOKCERT_REPORT_DIR.
# The build context is a temporary directory holding only the binary and
# an empty reports directory (a scratch image has no mkdir), so nothing is
# left in the tree. CONTAINER is docker when its daemon answers, else
# podman (a docker client without a daemon is common beside podman).
# PODMAN_FLAGS go to podman build and podman run only: the OCI runtime and
# cgroup manager to use, and open-file and process limits within the
# machine's hard limits (`ulimit -Hn`, `ulimit -Hu`), as podman's default
# nproc of 32768 and a nofile of the engine's choosing fail
# ("error setting rlimits") where they are above them.
hookcert_version := $(shell sed -n 's/^const Version = "\(.*\)"$$/\1/p' harness/harness.go)
IMAGE        ?= hookcert:$(hookcert_version)
CONTAINER    ?= $(eval CONTAINER := $(shell if docker info >/dev/null 2>&1; then echo docker; \
	elif command -v podman >/dev/null 2>&1; then echo podman; else echo docker; fi))$(CONTAINER)
PODMAN_FLAGS ?= --runtime runc --cgroup-manager cgroupfs --ulimit nofile=4096:4096 --ulimit nproc=4096:4096
engine_flags  = $(if $(filter podman,$(notdir $(firstword $(CONTAINER)))),$(PODMAN_FLAGS))
image:
	@ctx=$$(mktemp -d) && trap 'rm -rf "$$ctx"' EXIT && \
	echo "CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $$ctx/hookcert ./cmd/hookcert" && \
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o "$$ctx/hookcert" ./cmd/hookcert && \
	mkdir "$$ctx/reports" && \
	echo "$(CONTAINER) build $(engine_flags) --build-arg VERSION=$(hookcert_version) -t $(IMAGE) -f cmd/hookcert/Containerfile $$ctx" && \
	$(CONTAINER) build $(engine_flags) --build-arg VERSION='$(hookcert_version)' -t '$(IMAGE)' -f cmd/hookcert/Containerfile "$$ctx" && \
	echo "$(IMAGE): $$($(CONTAINER) image inspect --format '{{.Size}}' '$(IMAGE)') bytes"

# image-test: builds the image and runs it as CI and Kubernetes would
# (cmd/hookcert/image_test.go, build tag image): its size, user and lack of
# a shell; a conformance run from the container against a receiver on the
# host over HTTPS with a private CA; and the README's Kubernetes manifests,
# each pod's container spec run by the engine. Not part of make test.
image-test:
	$(GO) test -tags image -run '^TestImage' -count=1 -v -timeout 15m ./cmd/hookcert \
		-args -image='$(IMAGE)' -container='$(CONTAINER)' -podman-flags='$(PODMAN_FLAGS)'
