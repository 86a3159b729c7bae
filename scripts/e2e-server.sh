#!/usr/bin/env bash
# Started by Playwright's webServer (end2end/playwright.config.ts): a fresh SQLite database with
# demo data, the debug server built by `cargo leptos build --split`, listening on 127.0.0.1:3000, and the
# provider stand-in (`cargo build -p server -p standin`) on 127.0.0.1:3210.
# Server output also goes to target/e2e/server.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SERVER_BIN="${E2E_SERVER_BIN:-target/debug/server}"
STANDIN_BIN="${E2E_STANDIN_BIN:-target/debug/standin}"
if [ ! -x "$SERVER_BIN" ] || [ ! -f target/site/pkg/convergence.wasm ]; then
  echo "[e2e-server] $SERVER_BIN or target/site/pkg/convergence.wasm missing; run 'cargo leptos build --split' (or 'make e2e') first" >&2
  exit 1
fi
if [ ! -x "$STANDIN_BIN" ]; then
  echo "[e2e-server] $STANDIN_BIN missing; run 'cargo build -p server -p standin' (or 'make e2e') first" >&2
  exit 1
fi

# Real mail servers for the email specs: Dovecot (IMAP 3143) and an SMTP server (3025) that
# delivers into Dovecot's mailboxes. The support mailbox is connected to the app below.
MAIL_DIR="$ROOT/target/e2e/mail"
scripts/mail-servers.sh stop "$MAIL_DIR" >/dev/null 2>&1 || true
rm -rf target/e2e
mkdir -p target/e2e
scripts/mail-servers.sh start "$MAIL_DIR" 3143 3025 >&2
scripts/mail-servers.sh add-user "$MAIL_DIR" support@shop.test support-mail-password >&2
scripts/mail-servers.sh add-user "$MAIL_DIR" ann.e2e@customer.test customer-password >&2

# Serve a snapshot of the client bundle: a `cargo leptos build --split` started while the suite runs
# recreates target/site and would otherwise swap the JS/wasm under the running tests.
SITE_ROOT=target/site
if [ "${E2E_SITE_SNAPSHOT:-1}" != 0 ]; then
  cp -a target/site target/e2e/site
  SITE_ROOT=target/e2e/site
fi

export CONVERGENCE_DATABASE_URL="sqlite://target/e2e/e2e.db"
export CONVERGENCE_DEMO_DATA=1
export CONVERGENCE_LISTEN=127.0.0.1:3000
export CONVERGENCE_PUBLIC_URL=http://127.0.0.1:3000
export CONVERGENCE_SECRET_KEY=e2e-secret-key-0123456789abcdef-0123456789
export LEPTOS_OUTPUT_NAME=convergence
export LEPTOS_SITE_ROOT="$SITE_ROOT"
export LEPTOS_SITE_PKG_DIR=pkg
export CONVERGENCE_LOG="${CONVERGENCE_LOG:-info}"
# The provider stand-in serves media on loopback, which media downloads otherwise refuse.
export CONVERGENCE_MEDIA_ALLOW_ADDRESSES=127.0.0.1
# Website chat answers the visitor left before seeing go on by email after seconds, not minutes.
export CONVERGENCE_CHAT_FOLLOWUP_AFTER=4s

# stdout -> log file (+ Playwright, which ignores it unless E2E_SERVER_LOG=1);
# stderr -> log file + Playwright's output (panics and errors stay visible).
exec > >(tee -a target/e2e/server.log) 2> >(tee -a target/e2e/server.log >&2)
CONVERGENCE_IMAP_PASSWORD=support-mail-password "$SERVER_BIN" add-email-account \
  --name "Support mailbox" --address support@shop.test --from-name "Shop Support" \
  --imap-host 127.0.0.1 --imap-port 3143 --imap-tls none --imap-user support@shop.test \
  --smtp-host 127.0.0.1 --smtp-port 3025 --smtp-tls none >&2

# The provider stand-in (Twilio, Graph and Bot API wire formats) on 127.0.0.1:3210, and an SMS
# number and a Telegram bot connected to it. Their ids go to target/e2e/channels.json for the
# specs, which act as the provider through the stand-in's /_standin/ control API.
"$STANDIN_BIN" --listen 127.0.0.1:3210 &
STANDIN_PID=$!
SMS=$(CONVERGENCE_CHANNEL_SECRETS='{"auth_token":"e2e-twilio-auth-token"}' "$SERVER_BIN" add-channel-account \
  --provider twilio --name "SMS line" \
  --settings '{"phone_number":"+15550100999","account_sid":"AC0000000000000000000000000000e2e0","api_base":"http://127.0.0.1:3210","default_region":"US","help_reply":"Shop support: reply STOP to opt out."}')
TG=$(CONVERGENCE_CHANNEL_SECRETS='{"bot_token":"4242:e2e-bot-token","secret_token":"e2e-telegram-secret"}' "$SERVER_BIN" add-channel-account \
  --provider telegram --name "Telegram bot" \
  --settings '{"bot_username":"shop_e2e_bot","api_base":"http://127.0.0.1:3210"}')
printf '{"sms":{"id":%s,"webhook":"%s"},"telegram":{"id":%s,"webhook":"%s"}}\n' \
  "${SMS%% *}" "${SMS#* }" "${TG%% *}" "${TG#* }" > target/e2e/channels.json

# The mail servers and the stand-in stop with the app (Playwright ends this script with a signal).
"$SERVER_BIN" serve &
SERVER_PID=$!
cleanup() {
  kill "$SERVER_PID" "$STANDIN_PID" 2>/dev/null || true
  scripts/mail-servers.sh stop "$MAIL_DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 143' TERM INT
wait "$SERVER_PID"
