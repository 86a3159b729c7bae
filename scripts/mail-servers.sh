#!/usr/bin/env bash
# Real mail servers on loopback for the e2e tests and benchmarks: Dovecot (IMAP) and an aiosmtpd
# SMTP server that delivers into Dovecot's maildirs (scripts/mail/). Needs root (Dovecot switches to
# the mail user) and `scripts/setup.sh test` (dovecot, target/testenv/py).
#
#   scripts/mail-servers.sh start DIR IMAP_PORT SMTP_PORT [--no-idle]
#       a fresh instance in DIR (created; its old mail, if any, is kept): IMAP on 127.0.0.1:IMAP_PORT
#       (--no-idle: IDLE not advertised), SMTP on 127.0.0.1:SMTP_PORT (no AUTH; every accepted
#       message also lands in DIR/smtp-copies as <n>.eml + <n>.json). Waits until both accept
#       connections. Pids: DIR/dovecot.pid, DIR/smtp.pid; logs: DIR/dovecot.log, DIR/smtp.log.
#   scripts/mail-servers.sh stop DIR
#       stops both (all of Dovecot's processes); fine to call when they are not running.
#   scripts/mail-servers.sh add-user DIR ADDRESS PASSWORD
#       adds (or changes the password of) a mail user; its login is ADDRESS, lowercased. Works
#       while the servers run. Mail for ADDRESS, or ADDRESS with a +tag, lands in its INBOX.
#
# SMTP recipients whose local part starts with `tempfail` get a 451, with `reject` a 550.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG_TAG=mail-servers
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

PYTHON="${CONVERGENCE_TEST_PYTHON:-$ROOT/target/testenv/py/bin/python}"
DOVECOT_BIN="$(command -v dovecot 2>/dev/null || echo /usr/sbin/dovecot)"

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

abs_dir() { mkdir -p "$1" && (cd "$1" && pwd); }

# proc_matches PID WORD — PID is alive and its command line mentions WORD (guards against a stale
# pid file naming an unrelated process).
proc_matches() {
  local pid="$1" word="$2"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$word"
}

# group_alive PGID — a process of the group is still running (zombies, which only wait for init
# to reap them, do not count).
group_alive() {
  ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# stop_group PIDFILE WORD — SIGTERM to every process of the group led by the pid in PIDFILE,
# SIGKILL to whatever is left of it after 1 s; removes PIDFILE.
stop_group() {
  local pidfile="$1" word="$2" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if proc_matches "$pid" "$word"; then
    log "stopping $word (process group $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 10); do
      group_alive "$pid" || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

cmd_stop() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  stop_group "$dir/smtp.pid" smtp_server.py
  stop_group "$dir/dovecot.pid" dovecot
}

cmd_add_user() {
  local dir="$1" address password="$3"
  address="$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]')"
  case "$address$password" in
    *:* | *$'\n'*) fail "neither the address nor the password may contain ':' or a newline" ;;
  esac
  [ -n "$address" ] || fail "empty address"
  touch "$dir/users"
  local tmp="$dir/users.tmp.$$"
  awk -F: -v a="$address" '$1 != a' "$dir/users" >"$tmp"
  printf '%s:{PLAIN}%s\n' "$address" "$password" >>"$tmp"
  chmod 644 "$tmp" # read by Dovecot's auth process (user dovecot)
  mv "$tmp" "$dir/users"
  log "user $address added"
}

cmd_start() {
  local dir="$1" imap_port="$2" smtp_port="$3" no_idle="${4:-}"
  [ "$(id -u)" -eq 0 ] || fail "needs root: Dovecot switches to the mail user (nobody)"
  [ -x "$DOVECOT_BIN" ] || fail "dovecot not found; run scripts/setup.sh test"
  [ -x "$PYTHON" ] || fail "$PYTHON not found; run scripts/setup.sh test"
  case "$imap_port$smtp_port" in *[!0-9]*) fail "ports must be numbers" ;; esac
  [ "$imap_port" != "$smtp_port" ] || fail "IMAP and SMTP need different ports"
  case "$no_idle" in "" | --no-idle) ;; *) usage ;; esac

  dir="$(abs_dir "$dir")"
  # Dovecot's sockets live in DIR/run; a unix socket path has at most 107 bytes.
  [ "${#dir}" -le 70 ] || fail "DIR is too long for Dovecot's sockets (${#dir} > 70 characters): $dir"
  cmd_stop "$dir"
  local port
  for port in "$imap_port" "$smtp_port"; do
    if port_open "$port"; then fail "something already listens on 127.0.0.1:$port"; fi
  done

  local uid gid
  uid="$(id -u nobody)"
  gid="$(id -g nobody)"
  mkdir -p "$dir/mail" "$dir/smtp-copies"
  chown "$uid:$gid" "$dir/mail"
  chmod 755 "$dir"
  touch "$dir/users"
  rm -rf "$dir/run" "$dir/state"

  local idle_mark="#"
  [ "$no_idle" = "--no-idle" ] && idle_mark=""
  # Substitute with awk: DIR may hold characters that sed would take as syntax.
  awk -v dir="$dir" -v port="$imap_port" -v uid="$uid" -v gid="$gid" -v idle="$idle_mark" \
    -v greeting="Convergence test IMAP ($dir) ready." '
    {
      gsub(/@DIR@/, "\001"); gsub(/@IMAP_PORT@/, port); gsub(/@MAIL_UID@/, uid)
      gsub(/@MAIL_GID@/, gid); gsub(/@NO_IDLE@/, idle); gsub(/@GREETING@/, "\002")
      n = split($0, parts, "\001"); line = parts[1]
      for (i = 2; i <= n; i++) line = line dir parts[i]
      n = split(line, parts, "\002"); out = parts[1]
      for (i = 2; i <= n; i++) out = out greeting parts[i]
      print out
    }' "$ROOT/scripts/mail/dovecot.conf.in" >"$dir/dovecot.conf"

  log "starting dovecot on 127.0.0.1:$imap_port${no_idle:+ (no IDLE)} (log: $dir/dovecot.log)"
  # setsid: its own process group, so `stop` reaches every Dovecot process; nohup: it outlives
  # this script's terminal.
  nohup setsid "$DOVECOT_BIN" -F -c "$dir/dovecot.conf" </dev/null >"$dir/dovecot.stderr" 2>&1 &
  local dovecot_pid=$!
  echo "$dovecot_pid" >"$dir/dovecot.pid"

  log "starting the SMTP server on 127.0.0.1:$smtp_port (log: $dir/smtp.log)"
  nohup setsid "$PYTHON" "$ROOT/scripts/mail/smtp_server.py" --port "$smtp_port" \
    --maildir-root "$dir/mail" --copy-dir "$dir/smtp-copies" </dev/null >"$dir/smtp.log" 2>&1 &
  local smtp_pid=$!
  echo "$smtp_pid" >"$dir/smtp.pid"

  local i ok=0
  for i in $(seq 1 200); do
    # kill -0, not proc_matches: right after the fork the command line is still this script's.
    if ! kill -0 "$dovecot_pid" 2>/dev/null; then
      cat "$dir/dovecot.stderr" "$dir/dovecot.log" >&2 2>/dev/null || true
      cmd_stop "$dir"
      fail "dovecot exited during startup"
    fi
    if ! kill -0 "$smtp_pid" 2>/dev/null; then
      cat "$dir/smtp.log" >&2 || true
      cmd_stop "$dir"
      fail "the SMTP server exited during startup"
    fi
    if port_open "$imap_port" && port_open "$smtp_port"; then
      ok=1
      break
    fi
    sleep 0.05
  done
  if [ "$ok" -ne 1 ]; then
    cat "$dir/dovecot.stderr" "$dir/dovecot.log" "$dir/smtp.log" >&2 2>/dev/null || true
    cmd_stop "$dir"
    fail "the mail servers did not accept connections within 10 s"
  fi
  log "IMAP 127.0.0.1:$imap_port and SMTP 127.0.0.1:$smtp_port ready (stop: $0 stop $dir)"
}

[ $# -ge 1 ] || usage
case "$1" in
  start)
    [ $# -eq 4 ] || [ $# -eq 5 ] || usage
    cmd_start "$2" "$3" "$4" "${5:-}"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    cmd_stop "$2"
    ;;
  add-user)
    [ $# -eq 4 ] || usage
    [ -d "$2" ] || fail "$2: no such directory (start the servers first)"
    cmd_add_user "$2" "$3" "$4"
    ;;
  -h | --help) usage ;;
  *) usage ;;
esac
