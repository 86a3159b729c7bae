#!/usr/bin/env bash
# Start the release server, fetch the client bundle the way a browser would (Accept-Encoding: br)
# and compare the compressed size of convergence.wasm + convergence.js with the budget.
#
# Env: SERVER_BIN (default target/release/server), BUNDLE_BUDGET_BYTES (default 307200 = 300 KiB), BUNDLE_PORT (default 3200).
# Expects `cargo leptos build --release` to have run (`make bundle-size` does that).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_TAG=bundle-size
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

BUDGET="${BUNDLE_BUDGET_BYTES:-307200}"
PORT="${BUNDLE_PORT:-3200}"
BASE_URL="http://127.0.0.1:$PORT"
BIN="${SERVER_BIN:-target/release/server}"
WORK=target/bundle-size

[ -x "$BIN" ] || fail "$BIN missing; run 'cargo leptos build --release' first"
rm -rf "$WORK"
mkdir -p "$WORK"

export CONVERGENCE_DATABASE_URL="sqlite://$WORK/bundle.db"
server_env "$PORT"

start_server "$BIN" "$WORK/server.log" "$BASE_URL"

total=0
printf '%-18s %12s %14s %10s\n' "file" "raw bytes" "br bytes" "encoding"
for f in convergence.wasm convergence.js; do
  url="$BASE_URL/pkg/$f"
  raw=$(curl -fsS -o "$WORK/$f.raw" -w '%{size_download}' "$url") || fail "GET $url failed"
  # No --compressed: curl keeps the body as sent, so size_download is the compressed size.
  br=$(curl -fsS -H 'Accept-Encoding: br' -D "$WORK/$f.headers" -o "$WORK/$f.br" -w '%{size_download}' "$url") ||
    fail "GET $url (br) failed"
  enc=$(awk -F': *' 'tolower($1) == "content-encoding" { gsub(/\r/, "", $2); print $2 }' "$WORK/$f.headers")
  enc="${enc:-identity}"
  if [ "$enc" = "br" ] && command -v brotli >/dev/null 2>&1; then
    brotli -d -c "$WORK/$f.br" | cmp -s - "$WORK/$f.raw" || fail "$f: brotli body does not decode to the raw file"
  fi
  printf '%-18s %12d %14d %10s\n' "$f" "$raw" "$br" "$enc"
  if [ "$enc" != "br" ]; then
    log "WARNING: $f was served with Content-Encoding '$enc', not br"
  fi
  total=$((total + br))
done

printf '%-18s %12s %14d  (budget %d bytes = %d KiB)\n' "total" "" "$total" "$BUDGET" $((BUDGET / 1024))
if [ "$total" -gt "$BUDGET" ]; then
  log "OVER BUDGET by $((total - BUDGET)) bytes"
  exit 1
fi
log "within budget ($((BUDGET - total)) bytes to spare)"
