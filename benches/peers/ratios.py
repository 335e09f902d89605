"""The tables of benches/peers.sh: initlab (1 and 2 threads) beside JAX (W1-W5), and beside JAX
and PyTorch at the same thread count (W6, W7), with ratios and targets.

usage: python ratios.py raw.jsonl
Each figure is the median over the rounds; each ratio is taken within a round (initlab and the
peer measured minutes apart) and the median of those is shown. For initlab, "best" is the
fastest criterion sample of the sitting (what a quiet machine gives; the median is the figure).
"""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]


def initlab(w, threads, key="ns_median"):
    """{round: figure in the workload's unit} for initlab."""
    out = {}
    for r in rows:
        if r["framework"] == "initlab" and r["workload"] == w and r["threads"] == threads:
            if w == "W5":
                out[r["round"]] = r["total_s"]
                continue
            ns = r[key]
            if w in SAMPLES:
                out[r["round"]] = SAMPLES[w] / (ns * 1e-9)
            else:
                out[r["round"]] = ns / (1e6 if w in ("W4", "W6") else 1e3)
    return out


# Workloads measured in samples/s, with their batch; the others in time per step.
SAMPLES = {"W3": 128, "W7": 128}


def jax(w, threads=2):
    key = {"W1": "us_per_step", "W2": "us_per_step", "W3": "samples_per_s", "W4": "ms_per_step",
           "W5": "total_s", "W6": "ms_per_step", "W7": "samples_per_s"}[w]
    return {r["round"]: r[key] for r in rows
            if r["framework"] == "jax" and r["workload"] == w and r.get("threads", 2) == threads}


def torch(w, threads):
    """{round: figure} for PyTorch (ms/step or samples/s, as its RESULT lines give them)."""
    return {r["round"]: r["value"] for r in rows
            if r["framework"] == "torch" and r["workload"] == w and r["threads"] == threads}


def ratio_of(mine, peer, w):
    """Median over rounds of initlab's time over the peer's (from samples/s where given)."""
    rounds = sorted(set(mine) & set(peer))
    ratios = [peer[r] / mine[r] if w in SAMPLES else mine[r] / peer[r] for r in rounds]
    return statistics.median(ratios) if ratios else None


def med(d):
    return statistics.median(d.values()) if d else None


def fmt(v, w):
    if v is None:
        return "–"
    if w in SAMPLES:
        return f"{v:,.0f}"
    return f"{v:.2f}" if v < 100 else f"{v:.0f}"


UNIT = {"W1": "µs/step", "W2": "µs/step", "W3": "samples/s", "W4": "ms/step", "W5": "s, whole grid"}
if any(r["workload"] in ("W1", "W2", "W3", "W4", "W5") for r in rows):
    print("| workload | initlab 1 thread | initlab 2 threads | JAX (2 threads) | ratio | target | met |")
    print("|---|---|---|---|---|---|---|")
for w in ["W1", "W2", "W3", "W4", "W5"]:
    one, two, peer = initlab(w, 1), initlab(w, 2), jax(w)
    if not (one or two or peer):
        continue
    mine = two if two else one
    rounds = sorted(set(mine) & set(peer))
    if w in SAMPLES:
        ratios = [mine[r] / peer[r] for r in rounds]
        ratio_text = "initlab/JAX samples/s"
    else:
        ratios = [mine[r] / peer[r] for r in rounds]
        ratio_text = "initlab/JAX time"
    ratio = statistics.median(ratios) if ratios else None
    target, met = {
        "W1": ("≤ 0.5 µs", med(one) is not None and med(one) <= 0.5),
        "W2": ("≤ 25 µs", med(one) is not None and med(one) <= 25),
        "W3": ("≥ 1.2× JAX", ratio is not None and ratio >= 1.2),
        "W4": ("< 0.9× JAX", ratio is not None and ratio < 0.9),
        "W5": ("≤ 20 s", med(two) is not None and med(two) <= 20),
    }[w]
    best = ""
    if w in ("W1", "W2", "W3", "W4"):
        b = initlab(w, 2 if two else 1, "ns_best")
        best = f" (best {fmt(max(b.values()) if w in SAMPLES else min(b.values()), w)})"
    cell_one = fmt(med(one), w) + (best if not two else "")
    cell_two = fmt(med(two), w) + (best if two else "") if two else "–"
    if w == "W5":
        cell_one, cell_two = "–", fmt(med(two), w)
    ratio_cell = f"{ratio:.2f} ({ratio_text})" if ratio is not None else "–"
    print(f"| {w}, {UNIT[w]} | {cell_one} | {cell_two} | {fmt(med(peer), w)} | {ratio_cell} "
          f"| {target} | {'yes' if met else 'no'} |")

UNIT.update(W6="ms/step", W7="samples/s")
new = [w for w in ("W6", "W7") if initlab(w, 1) or initlab(w, 2)]
if new:
    print("\n| workload | threads | initlab | JAX | PyTorch | time vs JAX | time vs PyTorch "
          "| target | met |")
    print("|---|---|---|---|---|---|---|---|---|")
for w in new:
    for threads in (1, 2):
        mine, peer_j, peer_t = initlab(w, threads), jax(w, threads), torch(w, threads)
        best = initlab(w, threads, "ns_best")
        best_text = f" (best {fmt(max(best.values()) if w in SAMPLES else min(best.values()), w)})" if best else ""
        rj, rt = ratio_of(mine, peer_j, w), ratio_of(mine, peer_t, w)
        met = rj is not None and rt is not None and rj < 0.9 and rt < 1.0
        cell = lambda r: f"{r:.2f}" if r is not None else "–"
        print(f"| {w}, {UNIT[w]} | {threads} | {fmt(med(mine), w)}{best_text} | {fmt(med(peer_j), w)} "
              f"| {fmt(med(peer_t), w)} | {cell(rj)} | {cell(rt)} | < 0.9× JAX's time, ahead of PyTorch "
              f"| {'yes' if met else 'no'} |")

for w in ["W3", "W4", "W6", "W7"]:
    one, two = initlab(w, 1), initlab(w, 2)
    rounds = sorted(set(one) & set(two))
    if rounds:
        speedups = [(two[r] / one[r]) if w in SAMPLES else (one[r] / two[r]) for r in rounds]
        s = statistics.median(speedups)
        target = f" (target ≥ 1.8×: {'yes' if s >= 1.8 else 'no'})" if w != "W7" else ""
        print(f"\n{w}: 2-thread speedup over 1 thread {s:.2f}×{target}; "
              f"rounds: {', '.join(f'{x:.2f}' for x in speedups)}")
# The products' rate against the machine's: initlab's W4 products (256x256x256, 2 threads, in
# a rayon pool) and W4's whole step (its products' flops over the step's time), each as a
# fraction of the best 2-thread sgemm rate measured in the same round.
W4_PRODUCT_FLOP = 1.98e9  # 2·256³ forward per layer, twice that backward, no dX for layer 1
machine = {}
for r in rows:
    if r["workload"] == "SGEMM" and r["threads"] == 2:
        machine[r["round"]] = max(machine.get(r["round"], 0.0), r["gflops"])
if machine:
    products = {}
    for r in rows:
        if r["workload"] == "GEMM" and r["variant"] == "t2_in_pool":
            products.setdefault(r["round"], []).append(r["gflops"])
    # The three orientations take equal flops: their combined rate is the harmonic mean.
    products = {k: len(v) / sum(1 / g for g in v) for k, v in products.items()}
    w4 = {k: W4_PRODUCT_FLOP / (v * 1e-3) / 1e9 for k, v in initlab("W4", 2).items()}
    peers = sorted({r["framework"] for r in rows if r["workload"] == "SGEMM"})
    print(f"\n| products, 2 threads | GFLOP/s | machine sgemm GFLOP/s (best of {', '.join(peers)}, "
          "1024³) | fraction | target | met |")
    print("|---|---|---|---|---|---|")
    for name, rate in (("W4's 256×256×256 products (forward, dW, dX)", products),
                       ("W4's whole step (its products' flops / step time)", w4)):
        rounds = sorted(set(rate) & set(machine))
        if not rounds:
            continue
        fractions = [rate[r] / machine[r] for r in rounds]
        f = statistics.median(fractions)
        target = "≥ 80 %" if rate is products else "–"
        met = ("yes" if f >= 0.8 else "no") if rate is products else "–"
        print(f"| {name} | {med(rate):.0f} | {med(machine):.0f} | {100 * f:.0f} % "
              f"(rounds: {', '.join(f'{100 * x:.0f}' for x in fractions)}) | {target} | {met} |")

n = len({r['round'] for r in rows if r['workload'] != 'W5'})
print(f"\n{n} round(s); figures are medians over rounds, ratios medians of per-round ratios.")
