#!/usr/bin/env bash
# initlab beside JAX in one sitting: W1-W4 with initlab's criterion benches (W3 and W4 on 1 and
# 2 threads) and peers_jax.py, interleaved workload by workload for ROUNDS rounds, then W5 once
# (benches/w5.sh against JAX's vmapped grid); prints the table of figures and ratios against
# the targets (docs/benchmarks.md, "initlab beside JAX").
#
# Usage: benches/peers.sh [ROUNDS]          (default 3; about 3 minutes a round, W5 2 more)
#   NO_W5=1        skip W5
#   PEERS_VENV=DIR the Python venv with jax (made, and jax installed with pip, when missing;
#                  default ${TMPDIR:-/tmp}/initlab-jax-venv)
#   OUT=DIR        where raw.jsonl, log.txt and table.md go (default ${TMPDIR:-/tmp}/initlab-peers)
# Run it on a quiet machine: the figures are medians, and the ratios are taken within a round.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
venv=${PEERS_VENV:-${TMPDIR:-/tmp}/initlab-jax-venv}
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
cargo build --release --quiet

{
  echo "date: $(date -u +%FT%TZ)  host: $(uname -n)  cpus: $(nproc)"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rustc: $(rustc --version)"
  echo "jax: $("$py" -c 'import jax; print(jax.__version__)')"
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

jax() {
  local w=$1 round=$2
  "$py" benches/peers/peers_jax.py "$w" --threads 2 2>>"$log" | tee -a "$log" |
    sed -n 's/^RESULT //p' | "$py" -c "
import json, sys
for line in sys.stdin:
    d = json.loads(line); d['round'] = $round; print(json.dumps(d))" >>"$raw"
}

for round in $(seq "$rounds"); do
  for w in W1 W2 W3 W4; do
    echo "round $round: $w (initlab, then JAX)"
    initlab "$w" "$round"
    jax "$w" "$round"
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
