#!/usr/bin/env bash
# W5 as a whole process, process start to exit: the 75-run grid of benches/w5.toml.
# Usage: benches/w5.sh [ROUNDS]   (prints each wall time and the median)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
rounds=${1:-3}
times=()
for _ in $(seq "$rounds"); do
  start=$(date +%s.%N)
  "${CARGO_TARGET_DIR:-target}"/release/initlab experiment benches/w5.toml --quiet --no-plots --out "${TMPDIR:-/tmp}/initlab-w5"
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc -l)
  times+=("$t")
  printf 'W5 wall: %.2f s\n' "$t"
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "W5 median of %d: %.2f s\n", NR, (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
