#!/usr/bin/env bash
# Load benchmark against the release build: seed a fresh database (`tools seed`), serve it in the
# background on 127.0.0.1:3100, run `tools bench`, then stop the server.
#
#   scripts/bench.sh sqlite   fresh SQLite db target/bench/bench.db
#   scripts/bench.sh pg       fresh PostgreSQL db convergence_bench on 127.0.0.1:5432 (user postgres)
#
# Env: SERVER_BIN (default target/release/server); TOOLS_BIN (default target/release/tools);
# SEED_ARGS (e.g. "--customers 2000 --messages 50000 --big 300"; default: the seed command's own
# defaults); BENCH_ARGS (e.g.
# "--clients 1,4 --seconds 10"); BENCH_PORT (default 3100); BENCH_TIMEOUT (seconds the bench
# client may take, default 900: a hung server then fails the run instead of blocking it).
# Expects `cargo leptos build --release --split` and `cargo build --release -p tools` to have run (the
# Makefile's bench targets do that).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_TAG=bench
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

DB_KIND="${1:-sqlite}"
PORT="${BENCH_PORT:-3100}"
BENCH_TIMEOUT="${BENCH_TIMEOUT:-900}"
BASE_URL="http://127.0.0.1:$PORT"
BIN="${SERVER_BIN:-target/release/server}"
TOOLS="${TOOLS_BIN:-target/release/tools}"
read -r -a SEED <<<"${SEED_ARGS:-}"
read -r -a BENCH <<<"${BENCH_ARGS:-}"

[ -x "$BIN" ] || fail "$BIN missing; run 'cargo leptos build --release --split' first"
[ -x "$TOOLS" ] || fail "$TOOLS missing; run 'cargo build --release -p tools' first"
bench_database "$DB_KIND" bench.db convergence_bench

server_env "$PORT"

log "seeding $CONVERGENCE_DATABASE_URL ${SEED[*]:-}"
SEED_START=$(date +%s)
"$TOOLS" seed "${SEED[@]}"
log "seed took $(($(date +%s) - SEED_START)) s"

start_server "$BIN" "target/bench/server-$DB_KIND.log" "$BASE_URL"

log "running: $TOOLS bench --base-url $BASE_URL ${BENCH[*]:-}"
status=0
timeout --foreground -k 10 "$BENCH_TIMEOUT" "$TOOLS" bench --base-url "$BASE_URL" "${BENCH[@]}" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  log "bench did not finish within $BENCH_TIMEOUT s"
fi
# A server that stopped answering during the run is a failure even if the client finished.
if ! curl -fsS -o /dev/null --max-time 5 "$BASE_URL/healthz"; then
  log "server no longer answers $BASE_URL/healthz after the run (hung or crashed; see target/bench/server-$DB_KIND.log)"
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
