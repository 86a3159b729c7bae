#!/usr/bin/env bash
# Fuzzes the parsers that read untrusted input (issue 17): each target in fuzz/fuzz_targets/ runs
# for FUZZ_SECONDS (default 60) and one line per target is printed:
#   fuzz <target>: <executions> executions in <s> s, no crash
# Exits non-zero if any target crashed (panic), hung (-timeout) or ran out of memory
# (-rss_limit_mb), naming the target and the input libFuzzer saved in fuzz/artifacts/<target>/
# (full output: fuzz/artifacts/<target>.log). Reproduce one with
#   fuzz/target/x86_64-unknown-linux-gnu/release/<target> <file>
# or, rebuilding first: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O -s none <target> <file>)
#
# Usage:
#   scripts/fuzz.sh                          # every target, 60 s each (the CI run)
#   FUZZ_SECONDS=3600 scripts/fuzz.sh email_parse   # named targets only, longer
#   FUZZ_SECONDS=0 ...                       # no time limit: run until FUZZ_RUNS executions
#   FUZZ_RUNS=10000000 FUZZ_SECONDS=0 scripts/fuzz.sh   # the long run: ten million each
#
# Environment:
#   FUZZ_SECONDS     seconds per target (libFuzzer -max_total_time; 0 = unlimited)   [60]
#   FUZZ_RUNS        executions per target (libFuzzer -runs; 0 = unlimited)           [0]
#   FUZZ_JOBS        parallel libFuzzer workers per target (-fork=N when > 1)        [1]
#   FUZZ_EML_SEEDS   a directory of .eml files added to email_parse's corpus  [../shared/corpus/eml]
#   FUZZ_DEBUG_ASSERTIONS=1  also build with debug assertions and overflow checks
#   FUZZ_CODEGEN_UNITS  e.g. 16: a faster build, somewhat slower fuzzing   [cargo-fuzz: 1]
#   FUZZ_DEV=1       build without optimisations (cargo fuzz --dev): a much shorter cold build,
#                    fewer executions a second; `make test` uses it for its 30 s smoke run
#   FUZZ_MAX_LEN     longest input libFuzzer makes, in bytes                         [65536]
#
# Toolchain: only stable Rust is installed. What works (checked with rustc 1.95, cargo-fuzz 0.13):
#   RUSTC_BOOTSTRAP=1 cargo fuzz build -O -s none
# `-s none` turns off AddressSanitizer (cargo-fuzz's default, which needs -Zsanitizer); cargo-fuzz
# then passes only stable -C flags (sancov passes, --cfg fuzzing). RUSTC_BOOTSTRAP=1 makes
# cargo-fuzz treat the compiler as nightly, which it checks for its -Z options. Safe Rust needs no
# ASan to catch panics; libFuzzer's -timeout catches hangs and -rss_limit_mb memory blow-ups.
# The fuzz crate is its own workspace with its own target directory (fuzz/target), so it never
# touches target/. A cold build takes long (~25 min on 2 cores: cargo-fuzz compiles the app and
# server crates as one codegen unit each); FUZZ_CODEGEN_UNITS=16 should shorten it (untried).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ="$ROOT/fuzz"
cd "$ROOT"

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
RUNS="${FUZZ_RUNS:-0}"
JOBS="${FUZZ_JOBS:-1}"
EML_SEEDS="${FUZZ_EML_SEEDS:-$ROOT/../shared/corpus/eml}"

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$FUZZ/target"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

if [[ "${FUZZ_DEV:-0}" == 1 ]]; then
    BUILD_FLAGS=(--dev -s none)
    PROFILE_DIR=debug
    # cargo-fuzz turns debug assertions on in a --dev build (with -Cdebug-assertions in
    # RUSTFLAGS, which outranks the profile) and appends ours after its own: off again, as in the
    # release build and in production. mail-parser 0.11 has a debug_assert!(false) that
    # malformed input reaches (fuzz/seeds/email/14_*); release builds parse on.
    if [[ "${FUZZ_DEBUG_ASSERTIONS:-0}" != 1 ]]; then
        export RUSTFLAGS="${RUSTFLAGS:-} -Cdebug-assertions=off"
    fi
else
    BUILD_FLAGS=(-O -s none)
    PROFILE_DIR=release
fi
if [[ "${FUZZ_DEBUG_ASSERTIONS:-0}" == 1 ]]; then
    BUILD_FLAGS+=(-a)
fi
if [[ -n "${FUZZ_CODEGEN_UNITS:-}" ]]; then
    BUILD_FLAGS+=(--codegen-units "$FUZZ_CODEGEN_UNITS")
fi

if [[ $# -gt 0 ]]; then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <(cd "$FUZZ" && cargo fuzz list)
fi

# Seeds committed with the repository, per target (fuzz/seeds/<dir>).
seed_dir() {
    case "$1" in
        email_parse) echo email ;;
        email_sanitize | html_to_text) echo html ;;
        *) echo "$1" ;;
    esac
}

echo "building ${#TARGETS[@]} fuzz targets (${BUILD_FLAGS[*]})" >&2
(cd "$FUZZ" && cargo fuzz build "${BUILD_FLAGS[@]}")
BIN_DIR="$CARGO_TARGET_DIR/$(rustc -vV | sed -n 's/^host: //p')/$PROFILE_DIR"

failed=0
for target in "${TARGETS[@]}"; do
    corpus="$FUZZ/corpus/$target"
    artifacts="$FUZZ/artifacts/$target"
    mkdir -p "$corpus" "$artifacts"
    seeds="$FUZZ/seeds/$(seed_dir "$target")"
    if [[ -d "$seeds" ]]; then
        cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
    fi
    # Whole messages seed the email parser; the sanitiser takes HTML (its own seeds), which
    # MIME-wrapped messages would only slow down.
    if [[ "$target" == email_parse && -d "$EML_SEEDS" ]]; then
        # Keep the set name in the file name: every set numbers its files from 000.
        while IFS= read -r -d '' f; do
            rel="${f#"$EML_SEEDS"/}"
            cp -n "$f" "$corpus/seed_${rel//\//_}"
        done < <(find "$EML_SEEDS" -type f -name '*.eml' -print0)
    fi

    log="$FUZZ/artifacts/$target.log"
    args=(
        -timeout=10 -rss_limit_mb=2048 -max_len="${FUZZ_MAX_LEN:-65536}" -print_final_stats=1
        -max_total_time="$SECONDS_PER_TARGET" -artifact_prefix="$artifacts/"
    )
    if [[ "$RUNS" != 0 ]]; then
        args+=(-runs="$RUNS")
    fi
    if [[ "$JOBS" -gt 1 ]]; then
        args+=(-fork="$JOBS" -ignore_crashes=0 -ignore_timeouts=0 -ignore_ooms=0)
    fi
    start=$(date +%s)
    set +e
    # The binary cargo fuzz built above, run directly: `cargo fuzz run` would build again, and
    # a source edited in between would cost a full rebuild of the instrumented crates.
    "$BIN_DIR/$target" "${args[@]}" "$corpus" >"$log" 2>&1
    status=$?
    set -e
    elapsed=$(($(date +%s) - start))

    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n1 | grep -o '[0-9]*$' || true)
    if [[ -z "$execs" ]]; then
        # The last status line, e.g. "#123456 DONE cov: ..." or "#65536 pulse ...".
        execs=$(grep -o '^#[0-9]*' "$log" | tail -n1 | tr -d '#' || true)
    fi
    secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -n1 | grep -o 'in [0-9]*' | grep -o '[0-9]*' || true)
    secs="${secs:-$elapsed}"

    if [[ $status -ne 0 ]]; then
        failed=1
        kind=$(grep -oE 'ERROR: libFuzzer: [a-z-]+|panicked at|deadly signal' "$log" | head -n1 || true)
        artifact=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n1 | sed 's/Test unit written to //' || true)
        echo "fuzz $target: FAILED (exit $status${kind:+, $kind}) after ${execs:-?} executions in $secs s" >&2
        echo "  artifact: ${artifact:-none written; see the log}" >&2
        echo "  log: $log" >&2
        grep -m1 -A3 'panicked at' "$log" >&2 || true
        continue
    fi
    echo "fuzz $target: ${execs:-?} executions in $secs s, no crash"
done

exit $failed
