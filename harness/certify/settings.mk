# Code generated from the settings table (harness/certify/table.go); DO NOT EDIT.
# go test ./harness/certify -run TestMakeFragment -update writes it again.

abs = $(if $(1),$(abspath $(1)))

# URL: the receiver's webhook URL, https:// or http:// (default: the bundled reference receiver)
URL ?=
# SECRET: the signing secret, used as it is; prefer the environment variable REALM_WEBHOOK_SECRET, so that it never shows in a log
SECRET ?=
# PROBE_URL: base URL of the receiver's test probe (README "The probe contract"); without it the checks that need it are judged on status codes only (default: none; the reference receiver's own probe when no URL)
PROBE_URL ?=
# PROBE_TOKEN: sent to the probe as Authorization: Bearer <token>; prefer the environment variable
PROBE_TOKEN ?=
# LABELS: a label filter selecting checks: categories, levels (must, should, info), probe, or check IDs, e.g. 'signature || idempotency', 'must && !probe', SIG-03 (default: every check)
LABELS ?=
# SCHEME: the signing scheme the receiver verifies: github, realm-v1, standard-webhooks, stripe, or a scheme file (default: realm-v1)
SCHEME ?=
# STRICT: broken SHOULDs fail the run instead of warning
STRICT ?=
# INSECURE: skip verification of the receiver's certificate (TLS-02 then warns)
INSECURE ?=
# CA_CERT: a PEM file of a CA to trust, for a staging certificate from a private CA (default: the system's roots)
CA_CERT ?=
# HTTP_VERSION: the HTTP the sender, the load and the probe speak: auto (HTTP/2 or HTTP/1.1 as the receiver chooses over TLS), 1.1, or 2 (h2c over http://) (default: auto)
HTTP_VERSION ?=
# ACK_DEADLINE: what every acknowledgement must meet (for load, the p99 of first attempts) (default: 1s)
ACK_DEADLINE ?=
# SENDER_TIMEOUT: how long the sender waits for an answer before it abandons an attempt (default: 5s)
SENDER_TIMEOUT ?=
# RETRY_SCHEDULE: the waits before attempts 2, 3, 4, ... (default: 1s,2s,4s)
RETRY_SCHEDULE ?=
# SETTLE: how long the probe is polled for an expected state; raise it for a receiver whose worker is slower (default: 5s)
SETTLE ?=
# DEDUPE_GAP: how long IDEM-06 waits before it redelivers an event: a dedupe record must outlive it (default: 10s)
DEDUPE_GAP ?=
# DEDUPE_VOLUME: how many fresh events of every type IDEM-06 delivers in bursts during its dedupe gap, as many as the gap holds at DEDUPE_RATE (0: none) (default: 2000)
DEDUPE_VOLUME ?=
# DEDUPE_RATE: the most events a second IDEM-06's burst delivers, 50 at a time (default: 200)
DEDUPE_RATE ?=
# SCENARIOS: a directory of your own scenario files, added to the catalogue (a file with a built-in ID replaces that check) (default: none)
SCENARIOS ?=
# REPORT_DIR: where index.html, junit.xml and report.json go (and a load's raw results) (default: reports)
REPORT_DIR ?= reports
# FAULTS: faults to plant in the bundled reference receiver (no URL only), comma-separated or the flag repeated; hookcert receiver -h lists them (default: none)
FAULTS ?=
# RATE: new events per second; for capacity, the first rate tried (default: 50)
RATE ?=
# DURATION: how long the load sends new events (default: 20s)
DURATION ?=
# RETRIES: retries of a load delivery not acknowledged, on the retry schedule, its last wait repeated past its end: 0 (none) to 10 (default: one per wait of the retry schedule)
RETRIES ?=
# FORCE: lift the safety limits to 100000/s and 24h
FORCE ?=
# MAX_RATE: safety limit on the rate of deliveries, retries included (and the top of a capacity search) (default: 1000)
MAX_RATE ?=
# MAX_DURATION: safety limit on the duration (of a whole capacity search) (default: 5m)
MAX_DURATION ?=
# ATTACKER: this generator's name, one per generator whose results are merged; its raw results go to results-NAME.gob (default: hookcert)
ATTACKER ?=
# SAMPLE_SIZE: acknowledged events asked of the probe at most (a uniform sample; LOAD-03) (default: 2000)
SAMPLE_SIZE ?=
# STEP_DURATION: how long a capacity search holds each rate (default: 10s)
STEP_DURATION ?=

# The secrets reach the suites through the environment, never a command
# line that make would echo or ps would show.
ifneq ($(SECRET),)
export REALM_WEBHOOK_SECRET := $(SECRET)
endif
ifneq ($(PROBE_TOKEN),)
export HOOKCERT_PROBE_TOKEN := $(PROBE_TOKEN)
endif

# hookcert_env hands every other setting to the suites and commands.
hookcert_env = HOOKCERT_VIA_MAKE=1 \
	HOOKCERT_URL='$(URL)' \
	HOOKCERT_PROBE_URL='$(PROBE_URL)' \
	HOOKCERT_LABELS='$(LABELS)' \
	HOOKCERT_SCHEME='$(if $(wildcard $(SCHEME)),$(abspath $(SCHEME)),$(SCHEME))' \
	HOOKCERT_STRICT='$(STRICT)' \
	HOOKCERT_INSECURE='$(INSECURE)' \
	HOOKCERT_CA_CERT='$(call abs,$(CA_CERT))' \
	HOOKCERT_HTTP_VERSION='$(HTTP_VERSION)' \
	HOOKCERT_ACK_DEADLINE='$(ACK_DEADLINE)' \
	HOOKCERT_SENDER_TIMEOUT='$(SENDER_TIMEOUT)' \
	HOOKCERT_RETRY_SCHEDULE='$(RETRY_SCHEDULE)' \
	HOOKCERT_SETTLE='$(SETTLE)' \
	HOOKCERT_DEDUPE_GAP='$(DEDUPE_GAP)' \
	HOOKCERT_DEDUPE_VOLUME='$(DEDUPE_VOLUME)' \
	HOOKCERT_DEDUPE_RATE='$(DEDUPE_RATE)' \
	HOOKCERT_SCENARIOS='$(call abs,$(SCENARIOS))' \
	HOOKCERT_REPORT_DIR='$(call abs,$(REPORT_DIR))' \
	HOOKCERT_FAULTS='$(FAULTS)' \
	HOOKCERT_RATE='$(RATE)' \
	HOOKCERT_DURATION='$(DURATION)' \
	HOOKCERT_RETRIES='$(RETRIES)' \
	HOOKCERT_FORCE='$(FORCE)' \
	HOOKCERT_MAX_RATE='$(MAX_RATE)' \
	HOOKCERT_MAX_DURATION='$(MAX_DURATION)' \
	HOOKCERT_ATTACKER='$(ATTACKER)' \
	HOOKCERT_SAMPLE_SIZE='$(SAMPLE_SIZE)' \
	HOOKCERT_STEP_DURATION='$(STEP_DURATION)'
