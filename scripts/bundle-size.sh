#!/usr/bin/env bash
# What an agent downloads to open the inbox, brotli-compressed as served, against the budget.
#
# Starts the release server on a fresh SQLite database with the demo data, signs in as the
# support agent and opens /inbox the way a browser does (Accept-Encoding: br):
#   initial = the stylesheet + convergence.js + convergence.wasm + every JS module convergence.js
#             imports + every wasm chunk the /inbox page preloads (lazy code the page renders).
# Then every lazy chunk in the bundle (target/site/pkg), fetched the same way, with the lazy
# functions it holds (__wasm_split_manifest.json) and whether opening a conversation preloads it.
#
# Output: a table of the initial files, the line `initial <bytes>`, one line
# `lazy <file> <bytes> <what>` per chunk, and the verdict. Exits 1 over budget.
#
# Env: SERVER_BIN (default target/release/server), BUNDLE_BUDGET_BYTES (default 204800 = 200 KiB),
# BUNDLE_PORT (default 3200). Expects `cargo leptos build --release --split` (`make bundle-size`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_TAG=bundle-size
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

BUDGET="${BUNDLE_BUDGET_BYTES:-204800}"
PORT="${BUNDLE_PORT:-3200}"
BASE_URL="http://127.0.0.1:$PORT"
BIN="${SERVER_BIN:-target/release/server}"
PKG="$LEPTOS_SITE_ROOT/$LEPTOS_SITE_PKG_DIR"
WORK=target/bundle-size
AGENT_EMAIL=support@convergence.test
AGENT_PASSWORD=support-password-1

[ -x "$BIN" ] || fail "$BIN missing; run 'cargo leptos build --release --split' first"
[ -f "$PKG/convergence.wasm" ] || fail "$PKG/convergence.wasm missing; run 'cargo leptos build --release --split' first"
[ -f "$PKG/__wasm_split_manifest.json" ] ||
  fail "$PKG has no split manifest; build with 'cargo leptos build --release --split'"
command -v python3 >/dev/null 2>&1 || fail "python3 is needed to read the page and the manifest"
rm -rf "$WORK"
mkdir -p "$WORK/files"

export CONVERGENCE_DATABASE_URL="sqlite://$WORK/bundle.db"
export CONVERGENCE_DEMO_DATA=1
server_env "$PORT"

start_server "$BIN" "$WORK/server.log" "$BASE_URL"

# fetch PATH — GETs $BASE_URL/PATH raw and with Accept-Encoding: br; prints "raw br encoding".
# No --compressed: curl keeps the body as sent, so size_download is the size on the wire.
fetch() {
  local path="$1" name raw br enc
  name="$(basename "$path")"
  raw=$(curl -fsS -o "$WORK/files/$name" -w '%{size_download}' "$BASE_URL/$path") || fail "GET /$path failed"
  br=$(curl -fsS -H 'Accept-Encoding: br' -D "$WORK/files/$name.headers" -o "$WORK/files/$name.br" \
    -w '%{size_download}' "$BASE_URL/$path") || fail "GET /$path (br) failed"
  enc=$(awk -F': *' 'tolower($1) == "content-encoding" { gsub(/\r/, "", $2); print $2 }' "$WORK/files/$name.headers")
  enc="${enc:-identity}"
  if [ "$enc" = "br" ] && command -v brotli >/dev/null 2>&1; then
    brotli -d -c "$WORK/files/$name.br" | cmp -s - "$WORK/files/$name" || fail "$name: brotli body does not decode to the raw file"
  fi
  [ "$enc" = "br" ] || log "WARNING: /$path was served with Content-Encoding '$enc', not br"
  echo "$raw $br $enc"
}

# Sign in as the agent (the no-JavaScript form post) and open the inbox and one conversation.
JAR="$WORK/cookies"
curl -fsS -o /dev/null -c "$JAR" -b "$JAR" -H "Origin: $BASE_URL" \
  --data-urlencode "email=$AGENT_EMAIL" --data-urlencode "password=$AGENT_PASSWORD" \
  "$BASE_URL/api/login" || fail "signing in as $AGENT_EMAIL failed"
curl -fsS -o "$WORK/inbox.html" -b "$JAR" "$BASE_URL/inbox" || fail "GET /inbox failed"
grep -q 'class="inbox"' "$WORK/inbox.html" || fail "/inbox did not render the inbox (signed in?)"
conv=$(grep -o 'href="/inbox/[0-9]*' "$WORK/inbox.html" | head -n 1 | sed 's/.*\/inbox\///')
[ -n "$conv" ] || fail "/inbox lists no conversation"
curl -fsS -o "$WORK/conversation.html" -b "$JAR" "$BASE_URL/inbox/$conv" || fail "GET /inbox/$conv failed"

# The files: what /inbox links (stylesheet, modulepreload, preload) under /pkg, the main JS and
# wasm, and the modules the main JS imports; then the lazy chunks in the bundle directory.
python3 - "$WORK" "$PKG" "$LEPTOS_SITE_PKG_DIR" <<'PY' >"$WORK/plan"
import json, os, re, sys
work, pkg, pkg_url = sys.argv[1:4]

def linked(page):
    html = open(os.path.join(work, page), encoding="utf-8").read()
    found = []
    for tag in re.findall(r"<link\b[^>]*>", html):
        href = re.search(r'href="([^"]+)"', tag)
        if href and href.group(1).startswith(f"/{pkg_url}/"):
            found.append(href.group(1)[len(pkg_url) + 2:])
    return found

initial = ["convergence.css", "convergence.js", "convergence.wasm"]
js = open(os.path.join(pkg, "convergence.js"), encoding="utf-8").read()
initial += [m for m in re.findall(r"""(?:from|import)\s*['"]\./([^'"]+)['"]""", js)]
initial += linked("inbox.html")
initial = list(dict.fromkeys(initial))
conversation = [f for f in linked("conversation.html") if f not in initial]

manifest = json.load(open(os.path.join(pkg, "__wasm_split_manifest.json")))
holds = {}
for name, chunks in manifest.items():
    # A lazy function's name ends with a hash of where it is written; keep the readable part.
    short = re.sub(r"_\d+$", "", name).lstrip("_")
    for c in chunks:
        holds.setdefault(c + ".wasm", set()).add(short)
lazy = sorted(
    f for f in os.listdir(pkg)
    if f.endswith((".wasm", ".js")) and f not in initial
)
for f in initial:
    print("initial", f, "-")
for f in lazy:
    what = ",".join(sorted(holds.get(f, []))) or "-"
    if f in conversation:
        what += " (preloaded by /inbox/:id)"
    print("lazy", f, what)
PY

printf '%-40s %12s %12s %9s\n' "file" "raw bytes" "br bytes" "encoding"
initial=0
while read -r kind file _; do
  [ "$kind" = initial ] || continue
  read -r raw br enc < <(fetch "$LEPTOS_SITE_PKG_DIR/$file")
  printf '%-40s %12d %12d %9s\n' "$file" "$raw" "$br" "$enc"
  initial=$((initial + br))
done <"$WORK/plan"
echo "initial $initial"
lazy_total=0
while read -r kind file what; do
  [ "$kind" = lazy ] || continue
  read -r _ br _ < <(fetch "$LEPTOS_SITE_PKG_DIR/$file")
  echo "lazy $file $br $what"
  lazy_total=$((lazy_total + br))
done <"$WORK/plan"
echo "lazy total $lazy_total"

if [ "$initial" -gt "$BUDGET" ]; then
  log "initial is OVER BUDGET ($BUDGET bytes = $((BUDGET / 1024)) KiB) by $((initial - BUDGET)) bytes"
  exit 1
fi
log "initial within budget ($BUDGET bytes = $((BUDGET / 1024)) KiB; $((BUDGET - initial)) bytes to spare)"
