#!/usr/bin/env bash
# Best-of-51 times of revisions, each built in several code layouts: a
# change of a few percent to a kernel is only worth its claim when it holds
# across layouts.
#
#   scripts/layout_spread.sh [-s "m1 m2 m3"] [-r ROUNDS] [-a "IMPL SHAPE CALLS"] REV...
#     -s  layout seeds (default "m1 m2 m3"): each is `-C metadata=SEED`,
#         which changes the symbol hashes and with them where functions lie
#     -r  alternating timing rounds (default 3)
#     -a  bench_single arguments (default "constgrad_batch seed 64000")
#
# Session 35 found that the same source, built in another directory or with
# other `-C metadata`, moved the 5→3→5 batch by up to 4% (5.09 against 5.32
# ns per sample), steadily from run to run, while the instruction streams of
# the hot function were identical: placement, not code. Each revision is
# checked out into a worktree under $LAYOUT_DIR/constgrad-layout
# ($LAYOUT_DIR defaults to /tmp; emptied first, removed at the end), always at
# the same path: the source's directory enters the layout too (cargo's
# metadata hash, the paths in panic messages), so a revision and a seed
# give the same layout from one use to the next. The builds of one seed
# share a target directory (dependencies built once per seed, the crate
# cleaned before each build); the flags
# are `-C target-cpu=native` plus the seed's. Rounds alternate over every
# binary, and each cell of the table is the lowest and highest of its
# rounds, in ns per call as `bench_single --time` prints them (per sample
# for `constgrad_batch`). Run it on a quiet machine: the timing is wall
# time.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds="m1 m2 m3"
rounds=3
bench_args="constgrad_batch seed 64000"
while getopts "s:r:a:" opt; do
  case "$opt" in
    s) seeds=$OPTARG ;;
    r) rounds=$OPTARG ;;
    a) bench_args=$OPTARG ;;
    *) sed -n '2,10p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
  sed -n '2,10p' "$0" >&2
  exit 2
fi

work=${LAYOUT_DIR:-/tmp}/constgrad-layout
git worktree prune
rm -rf "$work"
mkdir -p "$work"
revs=()
cleanup() {
  for r in "${revs[@]}"; do
    git worktree remove --force "$work/src-$r" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

for rev in "$@"; do
  r=$(git rev-parse --short "$rev")
  revs+=("$r")
  git worktree add -q --detach "$work/src-$r" "$r"
done

for seed in $seeds; do
  for r in "${revs[@]}"; do
    echo "building $r, layout $seed" >&2
    # The revisions of a seed share a target directory, and the crate has
    # the same name and metadata in every worktree: without the clean,
    # cargo would take one revision's build as fresh for the next (its
    # dep-info names the first worktree's files) whenever their
    # dependencies agree, and time one binary twice.
    (cd "$work/src-$r" &&
      export RUSTFLAGS="-C target-cpu=native -C metadata=$seed" CARGO_TARGET_DIR="$work/target-$seed" &&
      cargo clean -q --release -p constgrad &&
      cargo build -q --release --example bench_single)
    cp "$work/target-$seed/release/examples/bench_single" "$work/bin-$r-$seed"
  done
done

# shellcheck disable=SC2086 # bench_args is a word list on purpose
for ((k = 1; k <= rounds; k++)); do
  for seed in $seeds; do
    for r in "${revs[@]}"; do
      t=$("$work/bin-$r-$seed" $bench_args --time 2>&1 | tail -1 | sed -n 's/.*best-of-51 \([0-9.]*\) ns.*/\1/p')
      echo "$seed $r $t"
    done
  done
done >"$work/times"

awk -v revs="${revs[*]}" -v seeds="$seeds" '
  { key = $1 " " $2
    if (!(key in lo) || $3 < lo[key]) lo[key] = $3
    if (!(key in hi) || $3 > hi[key]) hi[key] = $3 }
  END {
    n = split(revs, R, " "); m = split(seeds, S, " ")
    printf "| layout |"; for (i = 1; i <= n; i++) printf " %s |", R[i]; printf "\n"
    printf "|---|"; for (i = 1; i <= n; i++) printf "---|"; printf "\n"
    for (j = 1; j <= m; j++) {
      printf "| %s |", S[j]
      for (i = 1; i <= n; i++) {
        key = S[j] " " R[i]
        if (lo[key] == hi[key]) printf " %s |", lo[key]; else printf " %s–%s |", lo[key], hi[key]
      }
      printf "\n"
    }
  }' "$work/times"
