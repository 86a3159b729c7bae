#!/usr/bin/env bash
# Email import benchmark: a fresh Dovecot mailbox filled with N varied messages (plain, HTML,
# attachments, replies, auto-replies from 2,000 customers), then `tools bench-email` measures
# the import until every message is in its customer's conversation, on a fresh SQLite database.
#
#   scripts/bench-email.sh            10,000 messages
#   MESSAGES=2000 scripts/bench-email.sh
#
# Env: TOOLS_BIN (default target/release/tools), MESSAGES, IMAP_PORT (3243), SMTP_PORT (3225).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_TAG=bench-email
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

BIN="${TOOLS_BIN:-target/release/tools}"
MESSAGES="${MESSAGES:-10000}"
IMAP_PORT="${IMAP_PORT:-3243}"
SMTP_PORT="${SMTP_PORT:-3225}"
DIR="$ROOT/target/bench/mail"
[ -x "$BIN" ] || fail "$BIN missing; run 'cargo build --release -p tools' first"

scripts/mail-servers.sh stop "$DIR" || true
rm -rf "$DIR" target/bench/email.db target/bench/email.db-wal target/bench/email.db-shm
mkdir -p target/bench
trap 'scripts/mail-servers.sh stop "$DIR" || true' EXIT
scripts/mail-servers.sh start "$DIR" "$IMAP_PORT" "$SMTP_PORT"
scripts/mail-servers.sh add-user "$DIR" support@shop.test bench-password

CONVERGENCE_DATABASE_URL="sqlite://target/bench/email.db" CONVERGENCE_LOG="${CONVERGENCE_LOG:-warn}" \
  "$BIN" bench-email --imap-port "$IMAP_PORT" --user support@shop.test --password bench-password --messages "$MESSAGES"
