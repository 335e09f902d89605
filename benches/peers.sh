#!/usr/bin/env bash
# initlab beside JAX (and PyTorch for W6, W7) in one sitting: W1-W4, W6 and W7 with initlab's
# criterion benches (W3, W4, W6 and W7 on 1 and 2 threads) and the peers for the same workload,
# interleaved workload by workload for ROUNDS rounds, then W5 once (benches/w5.sh against JAX's
# vmapped grid); prints the tables of figures and ratios against the targets
# (docs/benchmarks.md, "initlab beside JAX").
#
# Usage: benches/peers.sh [ROUNDS]          (default 3; about 6 minutes a round, W5 2 more)
#   NO_W5=1        skip W5
#   ONLY="W6 W7"   only these of W1 W2 W3 W4 GEMM W6 W7 (default all); GEMM is the products'
#                  rate: initlab's three 256x256x256 products of W4 on 2 threads beside the
#                  machine's 2-thread sgemm rate (numpy's OpenBLAS, and PyTorch's torch.mm
#                  when TORCH_PY has torch, on 1024x1024 matrices) in the same minutes
#   PEERS_VENV=DIR the Python venv with jax (made, and jax installed with pip, when missing;
#                  default ${TMPDIR:-/tmp}/initlab-jax-venv)
#   TORCH_PY=FILE  a Python with torch for W6 and W7 (default ${TMPDIR:-/tmp}/peers-venv/bin/python,
#                  the venv of benches/peers/run_all.sh); without one, W6 and W7 have no PyTorch column
#   OUT=DIR        where raw.jsonl, log.txt and table.md go (default ${TMPDIR:-/tmp}/initlab-peers)
# Run it on a quiet machine: the figures are medians, and the ratios are taken within a round.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
only=${ONLY:-W1 W2 W3 W4 GEMM W6 W7}
venv=${PEERS_VENV:-${TMPDIR:-/tmp}/initlab-jax-venv}
torch_py=${TORCH_PY:-${TMPDIR:-/tmp}/peers-venv/bin/python}
"$torch_py" -c "import torch" 2>/dev/null || torch_py=""
out=${OUT:-${TMPDIR:-/tmp}/initlab-peers}
mkdir -p "$out"
raw=$out/raw.jsonl
log=$out/log.txt
: >"$raw"
: >"$log"

if ! "$venv/bin/python" -c "import jax" 2>/dev/null; then
  echo "installing jax into $venv (once)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r benches/peers/requirements-jax.txt
fi
py=$venv/bin/python

echo "building the benchmarks"
exe=$(cargo bench --bench workloads --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -1)
[ -x "$exe" ] || { echo "could not find the workloads benchmark executable" >&2; exit 1; }
gemm_exe=$(cargo bench --bench gemm --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -1)
[ -x "$gemm_exe" ] || { echo "could not find the gemm benchmark executable" >&2; exit 1; }
cargo build --release --quiet

{
  echo "date: $(date -u +%FT%TZ)  host: $(uname -n)  cpus: $(nproc)"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rustc: $(rustc --version)"
  echo "jax: $("$py" -c 'import jax; print(jax.__version__)')"
  if [ -n "$torch_py" ]; then
    echo "torch: $("$torch_py" -c 'import torch; print(torch.__version__)') ($torch_py)"
  else
    echo "torch: none (W6 and W7 without PyTorch)"
  fi
} | tee -a "$log"

# One initlab criterion run of workload $1 in round $2: each benchmark's per-iteration sample
# times (criterion's sample.json) become one RESULT line with their median and minimum.
initlab() {
  local w=$1 round=$2 home=$out/criterion
  rm -rf "$home"
  CRITERION_HOME=$home "$exe" --bench "^$w " --noplot >>"$log" 2>&1
  "$py" - "$home" "$w" "$round" >>"$raw" <<'EOF'
import glob, json, os, statistics, sys
home, w, rnd = sys.argv[1], sys.argv[2], int(sys.argv[3])
for f in sorted(glob.glob(os.path.join(home, "**", "new", "sample.json"), recursive=True)):
    d = json.load(open(f))
    per = sorted(t / i for t, i in zip(d["times"], d["iters"]))  # ns per step
    name = os.path.relpath(os.path.dirname(os.path.dirname(f)), home)
    threads = 2 if "2 thread" in name else 1
    print(json.dumps(dict(framework="initlab", workload=w, threads=threads, round=rnd,
                          ns_median=statistics.median(per), ns_best=per[0], bench=name)))
EOF
}

# JAX on workload $1 in round $2 with $3 threads (default 2; one thread also pinned to a CPU).
jax() {
  local w=$1 round=$2 threads=${3:-2} pin=()
  [ "$threads" = 1 ] && command -v taskset >/dev/null && pin=(taskset -c 0)
  "${pin[@]}" "$py" benches/peers/peers_jax.py "$w" --threads "$threads" 2>>"$log" | tee -a "$log" |
    sed -n 's/^RESULT //p' | "$py" -c "
import json, sys
for line in sys.stdin:
    d = json.loads(line); d['round'] = $round; print(json.dumps(d))" >>"$raw"
}

# PyTorch on workload $1 in round $2 with $3 threads (W6, W7).
torch() {
  local w=$1 round=$2 threads=$3
  [ -n "$torch_py" ] || return 0
  "$torch_py" benches/peers/peers_torch.py --only "$w" --threads "$threads" --reps-big 1 \
      --round "$round" 2>>"$log" | tee -a "$log" | sed -n 's/^RESULT //p' | "$py" -c "
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    print(json.dumps(dict(framework='torch', workload=d['w'], threads=d['threads'],
                          round=d['round'], value=d['value'], unit=d['unit'])))" >>"$raw"
}

# The products' rate in round $1: initlab's W4 products (benches/gemm.rs, 5 interleaved rounds,
# the 2-thread product called from inside a rayon pool as the training loop calls it), then the
# machine's sgemm rate on 2 threads (numpy's OpenBLAS; torch.mm too when there is a torch).
gemm_rates() {
  local round=$1
  GEMM_INTERLEAVED=5 GEMM_SHAPES=256x256x256 "$gemm_exe" 2>>"$log" | tee -a "$log" |
    sed -n 's/^RESULT //p' | "$py" -c "
import json, sys
for line in sys.stdin:
    d = json.loads(line); d['round'] = $round; print(json.dumps(d))" >>"$raw"
  local peers=("OPENBLAS_NUM_THREADS=2 $py benches/peers/peers_gemm.py numpy")
  [ -n "$torch_py" ] && peers+=("$torch_py benches/peers/peers_gemm.py torch")
  for cmd in "${peers[@]}"; do
    env $cmd 2>>"$log" | tee -a "$log" | sed -n 's/^RESULT //p' | "$py" -c "
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    if d['kernel'] == 'sgemm':
        print(json.dumps(dict(framework=d['fw'], workload='SGEMM', threads=d['threads'],
                              round=$round, gflops=d['value'], n=d['n'])))" >>"$raw"
  done
}

for round in $(seq "$rounds"); do
  for w in $only; do
    case $w in
      W6 | W7)
        echo "round $round: $w (initlab, JAX, PyTorch; 2 threads, then 1)"
        initlab "$w" "$round"
        for threads in 2 1; do
          jax "$w" "$round" "$threads"
          torch "$w" "$round" "$threads"
        done
        ;;
      GEMM)
        echo "round $round: the products' rate (initlab's W4 products, then sgemm)"
        gemm_rates "$round"
        ;;
      *)
        echo "round $round: $w (initlab, then JAX)"
        initlab "$w" "$round"
        jax "$w" "$round"
        ;;
    esac
  done
done

if [ -z "${NO_W5:-}" ]; then
  echo "W5: initlab (whole process), then JAX"
  start=$(date +%s.%N)
  target/release/initlab experiment benches/w5.toml --quiet --no-plots --out "$out/w5" >>"$log" 2>&1
  end=$(date +%s.%N)
  "$py" -c "import json; print(json.dumps(dict(framework='initlab', workload='W5', threads=2, round=1, total_s=$end - $start)))" >>"$raw"
  jax W5 1
fi

"$py" benches/peers/ratios.py "$raw" | tee "$out/table.md"
echo "raw figures in $raw, log in $log"
