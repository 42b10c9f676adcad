#!/usr/bin/env bash
# Bounded cargo-fuzz run of every target in fuzz/ (see FUZZING.md).
#
# Installs cargo-fuzz when missing, builds each instruction-set variant once,
# runs each target for FUZZ_SECONDS with libFuzzer's -max_total_time, and
# exits non-zero as soon as a target reports a finding (libFuzzer stops at the
# first crash and leaves the input in fuzz/artifacts/TARGET/).
#
# Environment (all optional):
#   FUZZ_SECONDS          seconds per target and variant (default 30)
#   FUZZ_TARGETS          space-separated targets (default: all of fuzz/fuzz_targets)
#   FUZZ_ISAS             variants to build and run: "baseline" (x86-64, SSE2,
#                         no FMA: what cargo-fuzz builds by default) and/or
#                         "native" (-C target-cpu=native: AVX2+FMA here)
#                         (default "baseline native")
#   FUZZ_SANITIZER        cargo-fuzz sanitizer (default none: the crate is
#                         #![forbid(unsafe_code)]; use "address" to include
#                         `wide`'s unsafe internals)
#   FUZZ_TARGET_DIR       build directory (default fuzz/target; one
#                         subdirectory per variant)
#   CONSTGRAD_FUZZ_KNOWN  comma-separated ids of open, reported findings that
#                         the checks tolerate (default: the open ones listed in
#                         FUZZING.md); set it empty to fuzz strictly
#   FUZZ_EXTRA_ARGS       more libFuzzer arguments, e.g. "-runs=1000000"
set -euo pipefail
cd "$(dirname "$0")/.."

: "${FUZZ_SECONDS:=30}"
: "${FUZZ_ISAS:=baseline native}"
: "${FUZZ_SANITIZER:=none}"
: "${FUZZ_TARGET_DIR:=$PWD/fuzz/target}"
: "${FUZZ_EXTRA_ARGS:=}"
export CONSTGRAD_FUZZ_KNOWN="${CONSTGRAD_FUZZ_KNOWN-}"
if [ -z "${FUZZ_TARGETS:-}" ]; then
  FUZZ_TARGETS="$(cd fuzz/fuzz_targets && ls -- *.rs | sed 's/\.rs$//' | tr '\n' ' ')"
fi

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz.sh: installing the nightly toolchain (cargo-fuzz needs -Z flags)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
cargo +nightly fuzz --version

# The repository's .cargo/config.toml sets -C target-cpu=native, but
# cargo-fuzz passes its own RUSTFLAGS, which replace it: the default fuzz
# build is the x86-64 baseline. Each fuzzer prints the SIMD path it was
# compiled with ("constgrad fuzz: SIMD = ...") when it starts.
rustflags_for() {
  case "$1" in
    baseline) echo "" ;;
    native) echo "-C target-cpu=native" ;;
    *) echo "fuzz.sh: unknown ISA variant '$1'" >&2; exit 2 ;;
  esac
}

status=0
for isa in $FUZZ_ISAS; do
  flags="$(rustflags_for "$isa")"
  tdir="$FUZZ_TARGET_DIR/$isa"
  echo "=== fuzz build ($isa: RUSTFLAGS='$flags')"
  RUSTFLAGS="$flags" cargo +nightly fuzz build --fuzz-dir fuzz -s "$FUZZ_SANITIZER" --target-dir "$tdir"
  for t in $FUZZ_TARGETS; do
    echo "=== fuzz run $t ($isa, ${FUZZ_SECONDS}s)"
    mkdir -p "fuzz/corpus/$t"
    seeds=()
    [ -d "fuzz/seeds/$t" ] && seeds+=("$PWD/fuzz/seeds/$t")
    log="fuzz/last-$t-$isa.log"
    set +e
    # shellcheck disable=SC2086
    RUSTFLAGS="$flags" cargo +nightly fuzz run --fuzz-dir fuzz -s "$FUZZ_SANITIZER" --target-dir "$tdir" \
      "$t" "$PWD/fuzz/corpus/$t" "${seeds[@]}" -- \
      -max_total_time="$FUZZ_SECONDS" -dict="$PWD/fuzz/dict/floats.dict" \
      -print_final_stats=1 $FUZZ_EXTRA_ARGS >"$log" 2>&1
    rc=$?
    set -e
    grep -E 'constgrad fuzz|Done [0-9]+ runs|panicked|invariant violated|SUMMARY|stat::number_of_executed_units|Test unit written' "$log" || true
    if [ "$rc" -ne 0 ]; then
      echo "fuzz.sh: FINDING (or failure, exit $rc) in $t ($isa): see $log and fuzz/artifacts/$t/" >&2
      tail -n 40 "$log" >&2
      status=1
      break 2
    fi
  done
done
if [ "$status" -eq 0 ]; then
  echo "fuzz.sh: no findings ($FUZZ_TARGETS; variants: $FUZZ_ISAS; ${FUZZ_SECONDS}s each)"
fi
exit "$status"
