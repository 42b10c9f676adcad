#!/usr/bin/env bash
# Instructions (and cycles, where measurable) per single-sample input_grad
# call: constgrad beside the plain scalar and nalgebra baselines of benches/.
#
#   scripts/perf_counts.sh [seed|mnist|all]      (default: seed)
#
# Counts come from `perf stat -e instructions,cycles` when the machine
# exposes hardware counters, and otherwise from `valgrind --tool=callgrind`
# (instructions only). Either way the example examples/bench_single.rs runs
# twice per implementation, with N1 and N2 calls, and the script reports
# (count(N2) − count(N1)) / (N2 − N1): process start-up, weight generation
# and the baselines' agreement check cancel out. The `empty` row is the
# driver loop alone (rotating the input pool, black_box); the `net` column
# subtracts it. `constgrad_batch` is `input_grad_batch` on a 64-sample pool,
# counted per sample. Instruction counts do not depend on machine load.
#
# Without hardware counters, cycles per call are estimated by the example's
# `--time` mode: best-of-51 wall time of 1 ms blocks, times a clock measured
# with a chain of dependent FMAs (4-cycle latency on Zen and recent Intel).
set -euo pipefail
cd "$(dirname "$0")/.."

shape_arg=${1:-seed}
case "$shape_arg" in
  seed) shapes=(seed) ;;
  mnist) shapes=(mnist) ;;
  all) shapes=(seed mnist) ;;
  *) echo "usage: $0 [seed|mnist|all]" >&2; exit 2 ;;
esac

target_dir=${CARGO_TARGET_DIR:-target}
cargo build --release --example bench_single >&2
bin="$target_dir/release/examples/bench_single"

# Does this machine expose hardware counters to perf?
use_perf=0
if command -v perf >/dev/null 2>&1 \
  && perf stat -x, -e instructions,cycles true 2>&1 >/dev/null | grep -q '^[0-9]'; then
  use_perf=1
fi

# count IMPL SHAPE CALLS -> "instructions cycles" (cycles "-" under callgrind)
count() {
  if [ "$use_perf" = 1 ]; then
    perf stat -x, -e instructions,cycles "$bin" "$@" 2>&1 >/dev/null \
      | awk -F, '$3=="instructions"{i=$1} $3=="cycles"{c=$1} END{print i, c}'
  else
    # A run that dies early (valgrind 3.19 cannot decode some AVX encodings
    # LLVM emits, e.g. `vmovq xmm, xmm` in its 0xD6 form) is reported as
    # unavailable rather than as a count of whatever ran before it died.
    local out
    out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$@" 2>&1 || true)
    if grep -q '^calls ' <<<"$out"; then
      awk '/Collected :/{print $NF, "-"}' <<<"$out"
    else
      echo "perf_counts.sh: '$*' did not finish under valgrind: $(grep -m1 'unhandled instruction' <<<"$out" || echo 'see valgrind')" >&2
      echo "nan -"
    fi
  fi
}

echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(rustc --version)"
echo "# build: cargo build --release (.cargo/config.toml: -C target-cpu=native${RUSTFLAGS:+; RUSTFLAGS=$RUSTFLAGS overrides it})"
if [ "$use_perf" = 1 ]; then
  echo "# counter source: perf stat (hardware counters)"
else
  echo "# counter source: valgrind --tool=callgrind (perf: hardware counters not supported here)"
fi
echo "# $("$bin" peak)"
for shape in "${shapes[@]}"; do
  echo
  echo "## $shape: (count(N2 calls) - count(N1 calls)) / (N2 - N1)"
  printf '%-16s %12s %14s %14s %s\n' impl instr/call net_instr/call cycles/call "timing (best of 51, clock-calibrated)"
  declare -A per_call=()
  for impl in empty constgrad scalar nalgebra constgrad_batch; do
    # Call counts (samples for constgrad_batch: multiples of its 64-sample pool).
    case "$shape/$impl" in
      seed/constgrad_batch) n1=6400; n2=32000; tblock=4096 ;;
      seed/*) n1=20000; n2=220000; tblock=2000 ;;
      mnist/constgrad_batch) n1=64; n2=320; tblock=64 ;;
      mnist/*) n1=20; n2=220; tblock=10 ;;
    esac
    read -r i1 c1 < <(count "$impl" "$shape" "$n1")
    read -r i2 c2 < <(count "$impl" "$shape" "$n2")
    per_call[$impl]=$(awk -v a="$i1" -v b="$i2" -v d=$((n2 - n1)) \
      'BEGIN{if (a == "nan" || b == "nan") print "n/a"; else printf "%.1f", (b - a) / d}')
    if [ "${per_call[$impl]}" = n/a ] || [ "${per_call[empty]:-}" = n/a ]; then
      net=n/a
    elif [ "$impl" = constgrad_batch ]; then
      net=${per_call[$impl]} # per sample, no driver loop around each sample
    else
      net=$(awk -v x="${per_call[$impl]}" -v e="${per_call[empty]}" 'BEGIN{printf "%.1f", x - e}')
    fi
    if [ "$c1" != "-" ]; then
      cyc=$(awk -v a="$c1" -v b="$c2" -v d=$((n2 - n1)) 'BEGIN{printf "%.1f", (b - a) / d}')
    else
      cyc="-"
    fi
    timing=$("$bin" "$impl" "$shape" "$tblock" --time | sed -n 's/^best-of-[0-9]* //p')
    printf '%-16s %12s %14s %14s %s\n' "$impl" "${per_call[$impl]}" "$net" "$cyc" "$timing"
  done
  unset per_call
done
