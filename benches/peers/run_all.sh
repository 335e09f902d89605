#!/usr/bin/env bash
# Run every peer baseline (W1..W5, GEMM peak, whole-process) and print the summary table.
# Needs: $TMPDIR/peers-venv (torch numpy scikit-learn threadpoolctl), optionally cargo for candle.
#   setup:  python3 -m venv $TMPDIR/peers-venv && $TMPDIR/peers-venv/bin/pip install torch numpy scikit-learn threadpoolctl
#   run:    bash benches/peers/run_all.sh           (ROUNDS=3 default, ~10 min)
#           ROUNDS=1 QUICK=1 bash run_all.sh                (smoke test, tiny step counts)
#           W5_FULL=1 bash run_all.sh                       (W5 on all 75 runs: adds ~10 min)
# Env knobs: ROUNDS, QUICK, W5_FULL, PEERS_PY, PEERS_OUT (default $TMPDIR/peers-results), NO_CANDLE=1.
# W1..W4: ROUNDS rounds, frameworks interleaved in each round (1 run of W1/W2, 2 of W3/W4 per
# framework per round; sklearn float64 and candle 1-thread in round 1 only).
# W5: one round; by default seed 0 only (15 of the 75 runs, figure x5 in the table) because
# the full grid costs ~3 min in torch alone; W5_FULL=1 runs all 75.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PEERS_PY:-${TMPDIR:-/tmp}/peers-venv/bin/python}"
ROUNDS="${ROUNDS:-3}"
OUT="${PEERS_OUT:-${TMPDIR:-/tmp}/peers-results}"
DATA=${TMPDIR:-/tmp}/peers-data
CANDLE_DIR=${TMPDIR:-/tmp}/peers-candle
Q=""; [ -n "${QUICK:-}" ] && Q="--quick"
mkdir -p "$OUT"
RAW="$OUT/raw.jsonl"; LOG="$OUT/log.txt"
: > "$RAW"; : > "$LOG"
cd "$HERE"

# tag SECTION: keep the RESULT lines of a run, tagged, in raw.jsonl; everything in log.txt
tag() { tee -a "$LOG" | sed -n "s/^RESULT {/{\"section\": \"$1\", /p" >> "$RAW"; }
now() { date +%s.%N; }

echo "== environment" | tee -a "$LOG"
{
  echo "date: $(date -Is)  host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  echo "ambient OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-<unset>} OMP_NUM_THREADS=${OMP_NUM_THREADS:-<unset>}"
  echo "loadavg at start: $(cat /proc/loadavg)"
} | tee -a "$LOG"
"$PY" peers_common.py --write-spiral "$DATA" >> "$LOG"

# ---- candle build (optional; build time is not part of any figure)
CANDLE_BIN=""
if [ -z "${NO_CANDLE:-}" ] && command -v cargo >/dev/null; then
  mkdir -p "$CANDLE_DIR/src"
  if [ ! -f "$CANDLE_DIR/Cargo.toml" ]; then
    cat > "$CANDLE_DIR/Cargo.toml" <<'EOF'
[package]
name = "peers_candle"
version = "0.1.0"
edition = "2021"

[dependencies]
candle-core = "=0.11.1"
candle-nn = "=0.11.1"

[profile.release]
opt-level = 3
EOF
  fi
  cp candle_main.rs "$CANDLE_DIR/src/main.rs"
  if (cd "$CANDLE_DIR" && cargo build --release -q) >> "$LOG" 2>&1; then
    CANDLE_BIN="$CANDLE_DIR/target/release/peers_candle"
  else
    echo "candle build failed; skipping candle (see $LOG)" | tee -a "$LOG"
  fi
fi

# ---- physical limit: GEMM peak. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for this only.
echo "== gemm" | tee -a "$LOG"
for t in 1 2; do
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$t "$PY" peers_gemm.py numpy | tag gemm
done
if [ -n "${OPENBLAS_CORETYPE:-}${OPENBLAS_L2_SIZE:-}" ]; then  # also as the workloads see it
  for t in 1 2; do OPENBLAS_NUM_THREADS=$t "$PY" peers_gemm.py numpy | sed 's/"fw": "numpy"/"fw": "numpy(ambient env)"/' | tag gemm; done
fi
"$PY" peers_gemm.py torch | tag gemm

# ---- training workloads, frameworks interleaved inside each round
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r  (loadavg $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$LOG"
  OPENBLAS_NUM_THREADS=2 "$PY" peers_torch.py   --round "$r" --reps 1 --reps-big 2 --only W1,W2,W3,W4 $Q | tag train
  OPENBLAS_NUM_THREADS=2 "$PY" peers_numpy.py   --round "$r" --reps 1 --reps-big 2 --only W1,W2,W3,W4 $Q | tag train
  OPENBLAS_NUM_THREADS=2 "$PY" peers_sklearn.py --round "$r" --reps 1 --reps-big 2 $Q | tag train
  if [ -n "$CANDLE_BIN" ]; then
    TS="2"; [ "$r" = 1 ] && TS="2 1"   # candle 1 thread: round 1 only
    for t in $TS; do
      env RAYON_NUM_THREADS=$t ${QUICK:+PEERS_QUICK=1} "$CANDLE_BIN" "$DATA" 1 "$r" 2 | tag train
    done
  fi
done
SEEDS="0"; [ -n "${W5_FULL:-}" ] && SEEDS="0,1,2,3,4"
echo "== W5 (seeds $SEEDS)  (loadavg $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$LOG"
OPENBLAS_NUM_THREADS=2 "$PY" peers_torch.py --round 1 --only W5 --w5-seeds "$SEEDS" $Q | tag train
OPENBLAS_NUM_THREADS=2 "$PY" peers_numpy.py --round 1 --only W5 --w5-seeds "$SEEDS" $Q | tag train
# same numpy code with glibc malloc told not to trim/unmap (plain numpy page-faults ~176x/step on W5)
MALLOC_TRIM_THRESHOLD_=1000000000 MALLOC_MMAP_THRESHOLD_=1000000000 OPENBLAS_NUM_THREADS=2 \
  "$PY" peers_numpy.py --round 1 --only W5 --w5-seeds "$SEEDS" $Q \
  | sed 's/"fw": "numpy"/"fw": "numpy-malloc-tuned"/' | tag train

# ---- whole-process figure: process start -> exit, one run, no warm-up
echo "== whole-process" | tee -a "$LOG"
cold() {  # cold W FW cmd...
  local w=$1 fw=$2; shift 2
  local t0 t1; t0=$(now); "$@" >> "$LOG" 2>&1; t1=$(now)
  echo "{\"section\": \"cold\", \"w\": \"$w\", \"fw\": \"$fw\", \"value\": $(awk "BEGIN{printf \"%.4f\", $t1 - $t0}")}" >> "$RAW"
}
for i in 1 2; do
  for w in W1 W2; do
    cold $w torch   env OPENBLAS_NUM_THREADS=2 "$PY" peers_torch.py --only $w --cold $Q
    cold $w numpy   env OPENBLAS_NUM_THREADS=2 "$PY" peers_numpy.py --only $w --cold $Q
  done
  cold W2 sklearn env OPENBLAS_NUM_THREADS=2 "$PY" peers_sklearn.py --only W2 --cold $Q
  if [ -n "$CANDLE_BIN" ]; then
    cold W2 candle env RAYON_NUM_THREADS=2 PEERS_COLD=1 ${QUICK:+PEERS_QUICK=1} "$CANDLE_BIN" "$DATA"
  fi
done
echo "loadavg at end: $(cat /proc/loadavg)" | tee -a "$LOG"

"$PY" summarize.py "$RAW" | tee "$OUT/summary.md"
