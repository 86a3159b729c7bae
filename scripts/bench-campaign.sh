#!/usr/bin/env bash
# Campaign benchmark (issue 15) with the release build: seed a fresh database (`tools seed`:
# 100,000 customers, 1,000,000 messages), then `tools bench-campaign`, which plans a support
# campaign to every customer (target <= 10 s) and sends to the customers reachable on SMS through
# the provider stand-in (target >= 500 messages/s on SQLite) at 1 and 4 workers, in process.
#
#   scripts/bench-campaign.sh sqlite   fresh SQLite db target/bench/campaign.db
#   scripts/bench-campaign.sh pg       fresh PostgreSQL db convergence_bench_campaign on 127.0.0.1:5432
#                                      (user postgres)
#
# Env: TOOLS_BIN (default target/release/tools); STANDIN_BIN (default target/release/standin);
# SEED_ARGS (e.g. "--customers 2000 --messages 50000 --big 300"; default: the seed command's own
# defaults); BENCH_ARGS (e.g. "--workers 1,4 --plan-runs 3 --send 0"; see `tools bench-campaign
# --help`); BENCH_REUSE=1 reuses the database of an earlier run (no drop, no seed: campaigns pile
# up, the figures stay comparable); BENCH_TIMEOUT (seconds the run may take, default 3600).
# Expects `cargo build --release -p tools -p standin` to have run (`make bench-campaign` does).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_TAG=bench-campaign
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

DB_KIND="${1:-sqlite}"
TOOLS="${TOOLS_BIN:-target/release/tools}"
STANDIN="${STANDIN_BIN:-target/release/standin}"
BENCH_TIMEOUT="${BENCH_TIMEOUT:-3600}"
REUSE="${BENCH_REUSE:-0}"
read -r -a SEED <<<"${SEED_ARGS:-}"
read -r -a BENCH <<<"${BENCH_ARGS:-}"

[ -x "$TOOLS" ] || fail "$TOOLS missing; run 'cargo build --release -p tools -p standin' first"
[ -x "$STANDIN" ] || fail "$STANDIN missing; run 'cargo build --release -p tools -p standin' first"
if [ "$REUSE" = 1 ]; then fresh=0; else fresh=1; fi
bench_database "$DB_KIND" campaign.db convergence_bench_campaign "$fresh"
export CONVERGENCE_LOG="${CONVERGENCE_LOG:-warn}"

if [ "$REUSE" = 1 ]; then
  log "reusing $CONVERGENCE_DATABASE_URL (BENCH_REUSE=1: not seeded again)"
else
  log "seeding $CONVERGENCE_DATABASE_URL ${SEED[*]:-}"
  SEED_START=$(date +%s)
  "$TOOLS" seed "${SEED[@]}"
  log "seed took $(($(date +%s) - SEED_START)) s"
fi

log "running: $TOOLS bench-campaign --standin $STANDIN ${BENCH[*]:-}"
status=0
timeout --foreground -k 10 "$BENCH_TIMEOUT" "$TOOLS" bench-campaign --standin "$STANDIN" "${BENCH[@]}" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  log "bench-campaign did not finish within $BENCH_TIMEOUT s"
fi
exit "$status"
