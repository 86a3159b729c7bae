# Convergence — developer entry points. Every target works from a fresh clone (scripts/setup.sh
# installs what is missing: wasm32 target, cargo-leptos 0.3.10, wasm-bindgen CLI, binaryen, and
# for tests chromium, brotli, PostgreSQL and end2end/node_modules).
#
#   make run          serve the app on SQLite with demo data at http://127.0.0.1:3000
#   make test         everything: cargo test (SQLite + PostgreSQL) and the Playwright suite
#   make e2e          the browser bundle as it ships (release, wasm-opt) + debug server and provider
#                     stand-in + Playwright (hydrate and no-JS)
#   make bench        release build, seeded SQLite db, the inbox and the longest conversation at
#                     1 and 4 clients (p50/p90/p99/max against their targets) on 127.0.0.1:3100
#   make bench-pg     same against a fresh PostgreSQL database convergence_bench
#   make bench-reports   the 90-day reports (support and cross-channel) at 1 and 4 clients,
#                     on SQLite and on PostgreSQL, same seed
#   make bench-search search on the 1,000,000-message seed: a common word, a rare word, a phrase,
#                     a phone number (p50 <= 20 ms, p99 <= 60 ms at 4 clients), SQLite then PostgreSQL
#   make bench-email  import 10,000 varied emails from a local Dovecot into SQLite
#   make bench-webhooks  inbound SMS webhooks at 4 connections for 30 s on SQLite (release)
#   make bench-chat   the website chat with 1,000 open widget streams: messages/s at 1 and 4
#                     clients, send and delivery latency p50/p90/p99/max, SQLite (release)
#   make bench-campaign  campaigns on the 1,000,000-message seed: plan a 100,000-customer support
#                     campaign (<= 10 s), send through the provider stand-in at 1 and 4 workers
#                     (>= 500 messages/s, p50/p90/p99/max latency), SQLite then PostgreSQL
#   make bundle-size  what an agent downloads to open the inbox (wasm + JS + CSS, brotli) vs 200 KiB,
#                     then each lazy chunk
#   make bundle-floor the smallest Leptos 0.8 bundle (a hydrated app, and an islands app) built and
#                     measured the same way: what the framework costs before any of our code
#   make screenshots  refresh the README's screenshots in docs/screenshots/ (tests never do)
#   make fuzz         each cargo-fuzz target (parsers of untrusted input) for FUZZ_SECONDS (60);
#                     the long run: FUZZ_RUNS=10000000 FUZZ_SECONDS=0 make fuzz

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# wasm-opt comes from scripts/binaryen (npm, pinned; scripts/setup.sh installs it): cargo-leptos
# runs the first wasm-opt on PATH for release builds, and Debian's binaryen 108 damages the bundle.
export PATH := $(CURDIR)/scripts/binaryen/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
PLAYWRIGHT_ARGS ?=
SEED_ARGS ?=
BENCH_ARGS ?=
export SEED_ARGS BENCH_ARGS

# The client bundle is always split (cargo-leptos --split): pages and parts the inbox does not
# need are lazy wasm chunks (#[lazy_route], #[lazy]). Every target builds it the same way, so what
# the tests run is what ships; a build without --split does not load the lazy parts.
LEPTOS_BUILD_FLAGS := --split

# Binaries: target/*/server (the product), target/*/standin (the provider stand-in for the browser
# tests), target/*/tools (seed and the benchmarks).
# Running target/*/server directly needs LEPTOS_OUTPUT_NAME=convergence LEPTOS_SITE_ROOT=target/site
# LEPTOS_SITE_PKG_DIR=pkg; scripts/lib.sh and scripts/e2e-server.sh export them.

.PHONY: fuzz help setup setup-test run test cargo-test e2e e2e-build e2e-only build build-release bench bench-pg bench-reports bench-search bench-email bench-webhooks bench-chat bench-campaign bundle-size bundle-floor clean-e2e screenshots

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh test

run: setup
	mkdir -p data
	CONVERGENCE_DEMO_DATA=1 cargo leptos serve $(LEPTOS_BUILD_FLAGS)

build: setup
	cargo leptos build $(LEPTOS_BUILD_FLAGS)

build-release: setup
	cargo leptos build --release $(LEPTOS_BUILD_FLAGS)
	node scripts/check-bundle.mjs

# Runs the Rust tests and the browser tests even when the first part fails, then fails if either did.
test: setup-test
	@status=0; \
	echo "==> cargo test --workspace --no-fail-fast"; \
	CONVERGENCE_TEST_POSTGRES_URL='$(TEST_POSTGRES_URL)' cargo test --workspace --no-fail-fast || status=1; \
	echo "==> make e2e"; \
	$(MAKE) --no-print-directory e2e || status=1; \
	echo "==> fuzz: every target for 30 s (an unoptimised build: the long runs use make fuzz)"; \
	FUZZ_DEV=1 FUZZ_SECONDS=30 scripts/fuzz.sh || status=1; \
	if [ $$status -ne 0 ]; then echo "==> make test: FAILED"; else echo "==> make test: all passed"; fi; \
	exit $$status

fuzz:
	scripts/fuzz.sh

cargo-test: setup-test
	CONVERGENCE_TEST_POSTGRES_URL='$(TEST_POSTGRES_URL)' cargo test --workspace --no-fail-fast

# The browser tests run the client bundle exactly as it ships: built in release, through wasm-opt,
# and checked to start (scripts/check-bundle.mjs); a debug bundle skips wasm-opt, and a broken
# wasm-opt once shipped a bundle no page could start while every test passed. The server is a
# debug build (it serves the same files). The stand-in is built together with the server so that
# it reuses the server's compiled dependencies (alone, cargo would compile them again with the
# stand-in's own features).
e2e: e2e-build
	$(MAKE) --no-print-directory e2e-only

e2e-build: setup-test
	cargo leptos build --release --frontend-only $(LEPTOS_BUILD_FLAGS)
	node scripts/check-bundle.mjs
	cargo build -p server -p standin

# Playwright only (assumes current debug builds of the server and the stand-in); its webServer
# runs scripts/e2e-server.sh.
e2e-only:
	mkdir -p end2end/screenshots
	status=0; (cd end2end && npx playwright test $(PLAYWRIGHT_ARGS)) || status=$$?; \
	scripts/mail-servers.sh stop target/e2e/mail >/dev/null 2>&1 || true; exit $$status

# The only run that writes tracked files: the specs that take the README's screenshots, with
# E2E_PUBLISH_SCREENSHOTS=1 (other runs keep screenshots in the ignored end2end/screenshots/).
screenshots: e2e-build
	E2E_PUBLISH_SCREENSHOTS=1 $(MAKE) --no-print-directory e2e-only PLAYWRIGHT_ARGS='--project=hydrate tests/cross-channel.spec.ts tests/reports.spec.ts tests/a11y.spec.ts'

# The load benchmarks: the release server serves, `tools` seeds and measures.
bench: build-release
	cargo build --release -p tools
	scripts/bench.sh sqlite

bench-pg: build-release
	cargo build --release -p tools
	scripts/setup.sh pg
	scripts/bench.sh pg

# The reports: the 90-day support overview and cross-channel page at 1 and 4 clients on the
# same seed (p50 <= 50 ms and p99 <= 150 ms at 4 clients), on SQLite, then on PostgreSQL.
bench-reports: build-release
	cargo build --release -p tools
	BENCH_ARGS="--reports $(BENCH_ARGS)" scripts/bench.sh sqlite
	scripts/setup.sh pg
	BENCH_ARGS="--reports $(BENCH_ARGS)" scripts/bench.sh pg

# Search: the newest 50 conversations for a common word, a rare word, a phrase, a phone number
# and a word with filters at 1 and 4 clients on the same seed, on SQLite, then on PostgreSQL.
bench-search: build-release
	cargo build --release -p tools
	BENCH_ARGS="--search $(BENCH_ARGS)" scripts/bench.sh sqlite
	scripts/setup.sh pg
	BENCH_ARGS="--search $(BENCH_ARGS)" scripts/bench.sh pg

# Inbound SMS webhooks: signed Twilio posts at 4 connections for 30 s on a fresh SQLite database.
bench-webhooks:
	cargo build --release -p tools
	rm -rf target/bench-webhooks && mkdir -p target/bench-webhooks
	CONVERGENCE_LOG=warn CONVERGENCE_DATABASE_URL=sqlite://target/bench-webhooks/bench.db \
	  target/release/tools bench-webhooks --concurrency 4 --seconds 30 $(BENCH_ARGS)

# Website chat: 1,000 open widget streams, then visitors' messages at 1 and 4 clients for 15 s
# each, on a fresh SQLite database (the server in process; needs ~2,100 open files).
bench-chat:
	cargo build --release -p tools
	rm -rf target/bench-chat && mkdir -p target/bench-chat
	ulimit -n 8192 2>/dev/null || true; \
	CONVERGENCE_LOG=warn CONVERGENCE_DATABASE_URL=sqlite://target/bench-chat/bench.db \
	  target/release/tools bench-chat --streams 1000 --clients 1,4 --seconds 15 $(BENCH_ARGS)

# Campaigns: on a fresh seed, plan a support campaign to every customer (one after the other, then
# four at once) and send to the customers reachable on SMS through the provider stand-in at 1 and
# 4 workers, in process; SQLite, then PostgreSQL (run even when SQLite misses a target).
bench-campaign:
	cargo build --release -p tools -p standin
	status=0; scripts/bench-campaign.sh sqlite || status=1; \
	scripts/setup.sh pg; scripts/bench-campaign.sh pg || status=1; exit $$status

# Email import: 10,000 varied messages in a fresh Dovecot mailbox, imported into SQLite.
bench-email: setup-test
	cargo build --release -p tools
	scripts/bench-email.sh

bundle-size: build-release
	scripts/bundle-size.sh

bundle-floor: setup-test
	scripts/bundle-floor.sh

clean-e2e:
	rm -rf target/e2e end2end/test-results end2end/playwright-report end2end/screenshots
