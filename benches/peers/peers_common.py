"""Shared data recipes, timing and reporting for the peer baselines (the workloads are in docs/benchmarks.md).

Only numpy is imported here, so every framework script can use it without
pulling in another framework.  Data is generated with numpy for every
framework (so all peers train on identical data); weight init uses each
framework's own RNG (so init draws differ across frameworks, the scheme does not).
"""
import json
import os
import platform
import sys
import time

import numpy as np

# ---------------------------------------------------------------- workload cards
W1 = dict(sizes=[2, 4, 1], lr=0.5, steps=10_000)
W2 = dict(sizes=[2, 100, 3], lr=1.0, steps=10_000)
W3 = dict(sizes=[784, 256, 256, 10], lr=0.1, steps=500, batch=128, rows=60_000)
W4 = dict(sizes=[256] + [256] * 20 + [10], lr=0.01, steps=100, batch=256)
W4["rows"] = W4["batch"] * W4["steps"]  # 100 distinct batches of 256, generated once
# W6: pre-LayerNorm residual MLP on W3's data: 784 -> 256, `blocks` x (LayerNorm, Linear, GELU
# (exact, erf), Linear) + skip, -> 10; Adam (PyTorch's defaults but lr).
W6 = dict(inputs=784, width=256, blocks=8, classes=10, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
          steps=30, batch=256, rows=60_000)
# W7: W3's network with BatchNorm (training mode, eps 1e-5, running statistics with momentum
# 0.1) between each hidden Linear and its ReLU; SGD with momentum 0.9, on W3's data.
W7 = dict(sizes=[784, 256, 256, 10], lr=0.01, momentum=0.9, steps=500, batch=128, rows=60_000)
W5 = dict(sizes=[2, 100, 100, 3], lr=0.5, steps=2_000,
          inits=["zero", "tiny", "huge", "xavier", "he"],
          acts=["sigmoid", "tanh", "relu"], seeds=[0, 1, 2, 3, 4])


def w5_cells(seeds=None):
    seeds = W5["seeds"] if seeds is None else seeds
    return [(i, a, s) for i in W5["inits"] for a in W5["acts"] for s in seeds]


# ---------------------------------------------------------------- data recipes
def xor_data():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return X, y


def spiral_data(N=100, K=3, D=2, seed=0):
    """The cs231n 'neural-networks-case-study' recipe, np.random.seed(0).

    RandomState(seed) draws the same stream as np.random.seed(seed)+np.random.randn.
    """
    rs = np.random.RandomState(seed)
    X = np.zeros((N * K, D))
    y = np.zeros(N * K, dtype="uint8")
    for j in range(K):
        ix = range(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)  # radius
        t = np.linspace(j * 4, (j + 1) * 4, N) + rs.randn(N) * 0.2  # theta
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X.astype(np.float32), y.astype(np.int64)


def mnist_shape_data(seed=3):
    rng = np.random.default_rng(seed)
    X = rng.random((W3["rows"], 784), dtype=np.float32)  # uniform [0,1)
    y = rng.integers(0, 10, W3["rows"]).astype(np.int64)
    return X, y


def deep_data(seed=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((W4["rows"], 256), dtype=np.float32)
    y = rng.integers(0, 10, W4["rows"]).astype(np.int64)
    return X, y


def batch_bounds(step, batch, rows):
    """Batches are taken in order, no shuffling, wrapping after the last full batch."""
    nb = rows // batch
    i = step % nb
    return i * batch, (i + 1) * batch


def write_spiral_bin(dirpath):
    """Raw little-endian dump of the spiral set for the Rust (candle) peer."""
    os.makedirs(dirpath, exist_ok=True)
    X, y = spiral_data()
    X.astype("<f4").tofile(os.path.join(dirpath, "spiral_x.f32"))
    y.astype("<u4").tofile(os.path.join(dirpath, "spiral_y.u32"))


# ---------------------------------------------------------------- reporting
def emit(**rec):
    """One JSON line per measurement on stdout; run_all.sh collects them."""
    rec.setdefault("host_py", platform.python_version())
    print("RESULT " + json.dumps(rec), flush=True)


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *a):
        self.s = time.perf_counter() - self.t0


def parse_only(argv=None):
    """--only W1,W2 ; --reps N (per-process repetitions) ; --round R (tag) ; --threads N (W6, W7)."""
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--only", default="W1,W2,W3,W4,W5")
    p.add_argument("--reps", type=int, default=3, help="repetitions of W1/W2 in this process")
    p.add_argument("--reps-big", type=int, default=2, help="repetitions of W3/W4 in this process")
    p.add_argument("--w5-seeds", default="0,1,2,3,4",
                   help="W5 seeds to run (full grid = 0..4); fewer seeds -> figure scaled x75/runs")
    p.add_argument("--round", type=int, default=0)
    p.add_argument("--threads", type=int, default=0,
                   help="W6/W7: this thread count only (default: 2, then 1)")
    p.add_argument("--quick", action="store_true", help="tiny step counts, smoke test only")
    p.add_argument("--cold", action="store_true",
                   help="whole-process figure: one rep, no warm-up, default threads only")
    a = p.parse_args(argv)
    a.w5_seeds = [int(x) for x in a.w5_seeds.split(",")]
    if a.cold:
        a.reps = a.reps_big = 1
    a.only = set(a.only.split(","))
    return a


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--write-spiral":
        write_spiral_bin(sys.argv[2])
        print("wrote", sys.argv[2])
