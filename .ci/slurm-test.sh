#!/usr/bin/env bash
# The Slurm recipe of docs/sharding.md, run as written on a real one-node Slurm.
#
# Installs Debian's slurm-wlm and munge with apt-get when missing, starts munged, slurmctld
# and slurmd on a configuration generated in a temporary directory (one node, 8 CPUs
# declared, ports picked at random), extracts the two shell blocks of the "Slurm job array"
# section of docs/sharding.md (the job script, then the submit lines) and runs them
# unchanged, waits for every job (the merge included), and compares the merged files byte
# for byte with an unsharded run of the same experiment. Stops the daemons it started.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    echo "== installing slurm-wlm and munge"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurm-wlm munge >/dev/null
fi

cargo build --release --quiet
export PATH="$repo/target/release:$PATH"

tmp=$(mktemp -d /tmp/initlab-slurm.XXXXXX)
pids=()
stop_daemons() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
fail() {
    echo "slurm test FAILED: $*" >&2
    for log in "$tmp"/*.log "$tmp"/work/logs/*; do
        [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
    done
    exit 1
}
trap 'stop_daemons; rm -rf "$tmp"' EXIT

# --- munge: a fresh key, a private socket
dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 status=none
chmod 600 "$tmp/munge.key"
chmod 700 "$tmp"
munged --foreground --force --key-file="$tmp/munge.key" --socket="$tmp/munge.socket" \
    --pid-file="$tmp/munged.pid" --seed-file="$tmp/munge.seed" \
    --log-file="$tmp/munged.log" >"$tmp/munged.out.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$tmp/munge.socket" ] && break; sleep 0.1; done
[ -S "$tmp/munge.socket" ] || fail "munged did not start"

# --- slurm: one node with 8 CPUs (declared, whatever the machine has), no cgroups
node=$(hostname -s)
port=$((20000 + RANDOM % 20000))
mkdir -p "$tmp/state" "$tmp/spool"
cat >"$tmp/slurm.conf" <<EOF
ClusterName=initlab-ci
SlurmctldHost=$node
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$(id -un)
AuthType=auth/munge
AuthInfo=socket=$tmp/munge.socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
NodeName=$node CPUs=8 State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" >"$tmp/slurmctld.out.log" 2>&1 &
pids+=($!)
slurmd -D -N "$node" -f "$SLURM_CONF" >"$tmp/slurmd.out.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    state=$(sinfo -h -N -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.2
done
[ "$state" = idle ] || fail "the node did not become idle (sinfo says '${state:-nothing}')"
echo "== one-node Slurm up on $node (ports $port, $((port + 1)))"

# --- the recipe, verbatim: the first two sh blocks of the Slurm section
mkdir -p "$tmp/work"
awk '/^## Slurm job array/ {in_section = 1; next}
     /^## / {in_section = 0}
     in_section && /^```sh$/ {block++; inside = 1; next}
     inside && /^```$/ {inside = 0; next}
     inside && block == 1 {print > "'"$tmp/work/sweep.sh"'"}
     inside && block == 2 {print > "'"$tmp/work/submit.sh"'"}' docs/sharding.md
[ -s "$tmp/work/sweep.sh" ] && [ -s "$tmp/work/submit.sh" ] \
    || fail "docs/sharding.md: no job script and submit block under '## Slurm job array'"
cd "$tmp/work"
echo "== submitting the recipe of docs/sharding.md"
bash -euo pipefail submit.sh
submitted=$(date +%s)

# --- wait for every job (the array and the merge) to leave the queue
start=$(date +%s)
while [ -n "$(squeue -h -o %i)" ]; do
    if squeue -h -o '%r' | grep -q DependencyNeverSatisfied; then
        fail "the merge job waits forever (DependencyNeverSatisfied): an array task failed"
    fi
    [ $(($(date +%s) - start)) -lt 600 ] || fail "jobs still queued after 10 minutes: $(squeue)"
    sleep 1
done
echo "== every job finished $(($(date +%s) - submitted)) s after submission"
[ -f results/digits/metrics.csv ] || fail "the merge job wrote no results/digits/metrics.csv"

# --- the same sweep, unsharded
seeds=$(grep -o -- '--seeds [0-9]*' sweep.sh | head -n 1)
# shellcheck disable=SC2086 # "--seeds N" is two words
initlab experiment digits $seeds --no-plots --quiet --out unsharded
for f in metrics.csv layers.csv summary.csv config.toml; do
    cmp "results/digits/$f" "unsharded/$f" || fail "merged $f differs from the unsharded run's"
done
echo "slurm test passed: 8 shards merged = unsharded run, byte for byte"
