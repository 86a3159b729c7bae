# Shared helpers for scripts that run the server binary directly (sourced, not executed).
# shellcheck shell=bash

export PATH="$HOME/.cargo/bin:$PATH"

# The Leptos settings `cargo leptos serve` would otherwise provide.
export LEPTOS_OUTPUT_NAME=convergence
export LEPTOS_SITE_ROOT=target/site
export LEPTOS_SITE_PKG_DIR=pkg

log() { printf '[%s] %s\n' "${LOG_TAG:-script}" "$*"; }
fail() {
  printf '[%s] ERROR: %s\n' "${LOG_TAG:-script}" "$*" >&2
  exit 1
}

SERVER_PID=""

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    log "stopping server (pid $SERVER_PID)"
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

# server_env PORT — the environment of a release server run for measurements on 127.0.0.1:PORT.
# (The server's listen address comes from CONVERGENCE_LISTEN and its log filter from CONVERGENCE_LOG.)
server_env() {
  local port="$1"
  export CONVERGENCE_LISTEN="127.0.0.1:$port"
  export CONVERGENCE_PUBLIC_URL="http://127.0.0.1:$port"
  export CONVERGENCE_SECRET_KEY="${CONVERGENCE_SECRET_KEY:-measurement-secret-key-0123456789abcdef-0123456789}"
  export CONVERGENCE_LOG="${CONVERGENCE_LOG:-warn}"
  export LEPTOS_ENV=PROD
}

# start_server BIN LOGFILE BASE_URL — runs `BIN serve` in the background (CONVERGENCE_* env must be
# exported already), stops it on exit, and waits until BASE_URL/healthz answers.
start_server() {
  local bin="$1" logfile="$2" base_url="$3"
  [ -x "$bin" ] || fail "$bin not found; build first"
  if curl -fsS -o /dev/null --max-time 2 "$base_url/healthz" 2>/dev/null; then
    fail "something already answers on $base_url; stop it first"
  fi
  mkdir -p "$(dirname "$logfile")"
  log "starting $bin serve on $base_url (log: $logfile)"
  "$bin" serve >"$logfile" 2>&1 &
  SERVER_PID=$!
  trap stop_server EXIT
  trap 'exit 130' INT TERM
  for _ in $(seq 1 600); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      tail -n 30 "$logfile" >&2 || true
      SERVER_PID=""
      fail "server exited during startup (see $logfile)"
    fi
    if curl -fsS -o /dev/null --max-time 2 "$base_url/healthz" 2>/dev/null; then
      log "server is up"
      return 0
    fi
    sleep 0.2
  done
  tail -n 30 "$logfile" >&2 || true
  fail "server did not answer $base_url/healthz within 120 s"
}

# bench_database KIND SQLITE_FILE PG_NAME [FRESH] — points CONVERGENCE_DATABASE_URL at a benchmark
# database: target/bench/SQLITE_FILE on SQLite (KIND sqlite), database PG_NAME on the local
# PostgreSQL as user postgres (KIND pg or postgres). FRESH=1 (the default) empties it first. Sets
# DB_KIND to sqlite or pg.
bench_database() {
  local kind="$1" file="$2" name="$3" fresh="${4:-1}"
  mkdir -p target/bench
  case "$kind" in
    sqlite)
      DB_KIND=sqlite
      local db="target/bench/$file"
      if [ "$fresh" = 1 ]; then
        rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
      fi
      export CONVERGENCE_DATABASE_URL="sqlite://$db"
      ;;
    pg | postgres)
      DB_KIND=pg
      export PGHOST=127.0.0.1 PGPORT=5432
      if [ "$fresh" = 1 ]; then
        log "recreating PostgreSQL database $name"
        dropdb --if-exists -h 127.0.0.1 -p 5432 -U postgres "$name"
        createdb -h 127.0.0.1 -p 5432 -U postgres "$name"
      fi
      export CONVERGENCE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$name"
      ;;
    *) fail "usage: $0 sqlite|pg" ;;
  esac
}
