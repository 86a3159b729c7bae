#!/usr/bin/env bash
# Install what building (and, with `test`, testing) Convergence needs — only what is missing.
#
#   scripts/setup.sh          build tooling: wasm32 target, cargo-leptos 0.3.10, wasm-bindgen CLI, wasm-opt (npm)
#   scripts/setup.sh pg       build tooling + a running PostgreSQL on 127.0.0.1:5432
#   scripts/setup.sh test     build tooling + PostgreSQL + chromium, brotli, curl and `npm ci` in end2end/,
#                             Dovecot (IMAP) and a Python virtualenv target/testenv/py (aiosmtpd, ...)
#                             for the real mail servers the tests start (scripts/mail-servers.sh)
#
# Idempotent: every step checks first and does nothing when the piece is already there.
# Only crates.io, npm and Debian apt are reachable on these machines, so nothing here downloads
# prebuilt binaries (see /work/shared/TOOLCHAIN.md); Python packages come from PyPI.
set -euo pipefail

MODE="${1:-build}"
case "$MODE" in
  build | pg | test) ;;
  -h | --help)
    sed -n '2,10p' "$0"
    exit 0
    ;;
  *)
    echo "usage: $0 [build|pg|test]" >&2
    exit 2
    ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PATH="$HOME/.cargo/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive

CARGO_LEPTOS_VERSION="0.3.10"

say() { printf '[setup] %s\n' "$*"; }
die() {
  printf '[setup] ERROR: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then SUDO="sudo"; fi
fi

APT_UPDATED=0
apt_install() {
  # apt_install PKG... — installs the given Debian packages, running `apt-get update` once per run.
  have apt-get || die "apt-get not found; install manually: $*"
  if [ "$APT_UPDATED" -eq 0 ]; then
    say "apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

wait_for_foreign_cargo_install() {
  # If another `cargo install <crate>` is already running (e.g. started by hand in the background),
  # wait for it instead of starting a second, concurrent build of the same thing.
  local crate="$1" waited=0
  while pgrep -f "cargo install ([^ ]+ )*$crate( |$)" >/dev/null 2>&1; do
    if [ "$waited" -eq 0 ]; then say "another 'cargo install $crate' is running; waiting for it to finish"; fi
    sleep 10
    waited=$((waited + 10))
  done
}

# --- Rust -------------------------------------------------------------------------------------
have cargo || die "cargo not found (install Rust with rustup first; expected in \$HOME/.cargo/bin)"

# C toolchain (sqlx's bundled SQLite, ring, ...).
if ! have cc || ! have pkg-config; then
  apt_install build-essential pkg-config
fi

if have rustup; then
  if rustup target list --installed | grep -qx 'wasm32-unknown-unknown'; then
    say "rust target wasm32-unknown-unknown: present"
  else
    say "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
else
  say "rustup not found; assuming the wasm32-unknown-unknown target is installed"
fi

cargo_leptos_ok() { cargo leptos --version 2>/dev/null | grep -qw "$CARGO_LEPTOS_VERSION"; }
if ! cargo_leptos_ok; then
  wait_for_foreign_cargo_install cargo-leptos
fi
if cargo_leptos_ok; then
  say "cargo-leptos $CARGO_LEPTOS_VERSION: present"
else
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (no_downloads; takes several minutes)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  cargo_leptos_ok || die "cargo-leptos $CARGO_LEPTOS_VERSION not usable after install"
fi

# wasm-bindgen CLI must equal the wasm-bindgen crate version in Cargo.lock exactly.
WB_VERSION=""
if [ -f Cargo.lock ]; then
  WB_VERSION="$(awk '
    /^\[\[package\]\]/ { in_wb = 0 }
    /^name = "wasm-bindgen"$/ { in_wb = 1; next }
    in_wb && /^version = / { gsub(/"/, "", $3); print $3; exit }
  ' Cargo.lock)"
fi
if [ -z "$WB_VERSION" ]; then
  # No lock file yet (fresh clone before the first build): fall back to the pin in Cargo.toml.
  WB_VERSION="$(grep -E '^wasm-bindgen *=' Cargo.toml | head -n1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' || true)"
fi
[ -n "$WB_VERSION" ] || die "could not determine the wasm-bindgen version from Cargo.lock or Cargo.toml"

wasm_bindgen_ok() { [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$WB_VERSION" ]; }
if ! wasm_bindgen_ok; then
  wait_for_foreign_cargo_install wasm-bindgen-cli
fi
if wasm_bindgen_ok; then
  say "wasm-bindgen CLI $WB_VERSION: present"
else
  say "installing wasm-bindgen-cli $WB_VERSION (takes a few minutes)"
  # No --locked: the CLI's own lock file names a crate version the registry does not have.
  cargo install wasm-bindgen-cli --version "$WB_VERSION"
  wasm_bindgen_ok || die "wasm-bindgen $WB_VERSION not usable after install"
fi

# wasm-opt for release bundles: binaryen 132 from npm, pinned in scripts/binaryen (the Makefile
# puts it first on PATH). Debian's binaryen 108 points the export of wasm-bindgen's externref
# table at the function table, and no page of such a bundle starts.
if ! have npm; then
  apt_install nodejs npm
fi
WASM_OPT="scripts/binaryen/node_modules/.bin/wasm-opt"
if [ -x "$WASM_OPT" ] && [ ! scripts/binaryen/package-lock.json -nt scripts/binaryen/node_modules/.package-lock.json ]; then
  say "wasm-opt (binaryen, scripts/binaryen): present"
else
  say "npm ci (scripts/binaryen: wasm-opt)"
  (cd scripts/binaryen && npm ci --no-audit --no-fund --loglevel=error)
fi
"$WASM_OPT" --version | grep -q "version 132" || die "$WASM_OPT is not binaryen 132"

# --- PostgreSQL (pg and test modes) -------------------------------------------------------------
pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }

ensure_postgres() {
  local installed_now=0
  if ! have pg_isready || ! ls /etc/postgresql/*/*/postgresql.conf >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
    installed_now=1
  fi
  if pg_ready; then
    say "PostgreSQL on 127.0.0.1:5432: ready"
    return
  fi
  local ver
  ver="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1 || true)"
  [ -n "$ver" ] || die "no PostgreSQL cluster under /etc/postgresql"
  if [ "$installed_now" -eq 1 ]; then
    # A freshly installed test server: let local TCP connections in as any role without a
    # password (what the test machines are set up with).
    local hba="/etc/postgresql/$ver/main/pg_hba.conf"
    if [ -f "$hba" ] && ! grep -q '^host *all *all *127.0.0.1/32 *trust' "$hba"; then
      say "configuring trust auth for 127.0.0.1 in $hba"
      $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
  fi
  say "starting PostgreSQL $ver/main"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do
    if pg_ready; then
      say "PostgreSQL on 127.0.0.1:5432: ready"
      return
    fi
    sleep 1
  done
  die "PostgreSQL did not become ready on 127.0.0.1:5432"
}

if [ "$MODE" = "pg" ] || [ "$MODE" = "test" ]; then
  ensure_postgres
fi

# --- Mail servers for the email tests (test mode) -----------------------------------------------
# The tests start their own Dovecot instances (scripts/mail/dovecot.conf.in) and SMTP servers
# (scripts/mail/smtp_server.py, run by the virtualenv's python) on high loopback ports; the Debian
# package's own instance (ports 143/993) must not run.
TESTENV_PY="target/testenv/py"
# The virtualenv's packages, pinned, one per line.
TESTENV_PY_PACKAGES=(
  "aiosmtpd==1.4.6"
  "twilio==9.13.0"
)

have_dovecot() { [ -x /usr/sbin/dovecot ] || have dovecot; }

install_dovecot() {
  # Keep the package's post-install script from starting its default instance, where a
  # policy-rc.d does not already do that (exit 101 = "action forbidden").
  local policy=/usr/sbin/policy-rc.d temp_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    temp_policy=1
  fi
  local status=0
  apt_install dovecot-imapd || status=$?
  if [ "$temp_policy" -eq 1 ]; then $SUDO rm -f "$policy"; fi
  [ "$status" -eq 0 ] || die "apt-get install dovecot-imapd failed"
}

# running PID — the process exists and is not a zombie (one that only waits for init to reap it).
running() {
  local st
  st="$(ps -o stat= -p "$1" 2>/dev/null)" && [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

stop_default_dovecot() {
  # The default instance keeps its master pid in /run/dovecot (base_dir); the tests' instances
  # have their own base_dir, so they are not touched.
  local pidfile=/run/dovecot/master.pid pid
  if [ -f "$pidfile" ] && pid="$(cat "$pidfile" 2>/dev/null)" && [ -n "$pid" ] && running "$pid"; then
    say "stopping the default Dovecot instance (pid $pid; it would hold ports 143/993)"
    $SUDO kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      running "$pid" || break
      sleep 0.1
    done
    running "$pid" && die "the default Dovecot instance (pid $pid) did not stop"
  fi
  return 0
}

system_python() {
  # A python3 with the venv module (Debian's python3-venv, or another python3 on PATH).
  local py
  for py in /usr/bin/python3 python3; do
    if "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
      command -v "$py"
      return 0
    fi
  done
  return 1
}

ensure_test_python() {
  local py="$TESTENV_PY/bin/python"
  if [ -x "$py" ] && ! "$py" -c 'import sys' >/dev/null 2>&1; then
    say "$TESTENV_PY is broken (its base python is gone); recreating it"
    rm -rf "$TESTENV_PY"
  fi
  if [ ! -x "$py" ]; then
    local base
    if ! base="$(system_python)"; then
      apt_install python3 python3-venv
      base="$(system_python)" || die "no python3 with the venv module after installing python3-venv"
    fi
    say "creating the virtualenv $TESTENV_PY ($("$base" --version 2>&1))"
    mkdir -p "$(dirname "$TESTENV_PY")"
    "$base" -m venv "$TESTENV_PY"
  fi
  # Install only the pins that are not satisfied yet (`pip freeze` prints name==version).
  local frozen missing=() req name
  frozen="$("$py" -m pip freeze --disable-pip-version-check 2>/dev/null | tr '[:upper:]_' '[:lower:]-')"
  for req in "${TESTENV_PY_PACKAGES[@]}"; do
    name="$(printf '%s' "$req" | tr '[:upper:]_' '[:lower:]-')"
    grep -qxF "$name" <<<"$frozen" || missing+=("$req")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "pip install ${missing[*]} (into $TESTENV_PY)"
    "$py" -m pip install --disable-pip-version-check --quiet "${missing[@]}"
  else
    say "$TESTENV_PY: ${TESTENV_PY_PACKAGES[*]} present"
  fi
}

if [ "$MODE" = "test" ]; then
  if have_dovecot; then
    say "dovecot: present"
  else
    install_dovecot
    have_dovecot || die "dovecot not found after installing dovecot-imapd"
  fi
  stop_default_dovecot
  ensure_test_python
fi

# --- Browser tests (test mode) ------------------------------------------------------------------
if [ "$MODE" = "test" ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  have brotli || missing+=(brotli)
  have curl || missing+=(curl)
  have npm || missing+=(nodejs npm)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  else
    say "chromium, brotli, curl, node: present"
  fi
  node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$node_major" -lt 20 ]; then
    say "WARNING: node $(node --version 2>/dev/null || echo '?') is older than @playwright/test needs (>= 20)"
  fi

  # npm ci only when node_modules is missing or older than the lock file.
  if [ ! -d end2end/node_modules/@playwright/test ] ||
    [ ! -f end2end/node_modules/.package-lock.json ] ||
    [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "npm ci (end2end/)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  else
    say "end2end/node_modules: up to date"
  fi
fi

say "done ($MODE)"
