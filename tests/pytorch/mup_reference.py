"""PyTorch + Microsoft mup reference trajectories (float64) for initlab's μP.

Run from the repository root:

    /work/venv-torch/bin/pip install mup        # mup 1.0.0
    /work/venv-torch/bin/python tests/pytorch/mup_reference.py

It writes tests/fixtures/pytorch/mup-<case>.json, which
tests/suite/parametrization.rs matches (every loss within 1e-12).

The data, the loss and the initial values follow reference.py's conventions
(tests/pytorch/README.md): x[i][j] = (((i*7 + j*13 + 3) % 23) - 11) / 8,
y[i] = (i*5 + 2) % 3, 24 rows, 5 features, 3 classes, mean softmax
cross-entropy, full batch; parameter k, element e:
    weight = (((k*31 + e*17 + 5) % 29) - 14) / (14 * sqrt(fan_in))
    bias   = (((k*11 + e*7 + 1) % 13) - 6) / 20

The network, at width WIDTH = 16 with base width BASE = 4 (width multiplier 4):
    nn.Linear(5, 16), tanh, nn.Linear(16, 16), tanh, mup.MuReadout(16, 3)
filled by the formulas above, then mup.set_base_shapes(model, base) with the
same network at width 4 as the base (rescale_params=True: the readout's weight
and bias are multiplied by sqrt(4), the hidden layer's bias by sqrt(4)), then
trained by mup's optimizer (foreach=False) for STEPS full-batch steps,
recording the loss before each update.

Cases: mup-sgd (MuSGD lr 0.05, momentum 0.9, weight_decay 0.001), mup-adam
(MuAdam lr 0.01, weight_decay 0.01), mup-adamw (MuAdamW lr 0.01,
weight_decay 0.1).

Like reference.py, the script reruns every case with the initial parameters
changed by a few ulps and fails unless the whole trajectory is reproducible to
1e-13 (reliable_steps == STEPS): otherwise no independent f64 implementation
could match it to 1e-12.
"""

import json
import math
import os

import mup
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

N_ROWS, N_FEATURES, N_CLASSES = 24, 5, 3
WIDTH, BASE = 16, 4
STEPS = 100

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.normpath(os.path.join(HERE, "..", "fixtures", "pytorch"))

CASES = [
    ("mup-sgd", mup.MuSGD, dict(lr=0.05, momentum=0.9, weight_decay=0.001)),
    ("mup-adam", mup.MuAdam, dict(lr=0.01, weight_decay=0.01)),
    ("mup-adamw", mup.MuAdamW, dict(lr=0.01, weight_decay=0.1)),
]


def data():
    x = [[float(((i * 7 + j * 13 + 3) % 23) - 11) / 8.0 for j in range(N_FEATURES)]
         for i in range(N_ROWS)]
    y = [(i * 5 + 2) % 3 for i in range(N_ROWS)]
    return torch.tensor(x), torch.tensor(y)


class Mlp(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(N_FEATURES, width)
        self.fc2 = nn.Linear(width, width)
        self.readout = mup.MuReadout(width, N_CLASSES)

    def forward(self, x):
        return self.readout(torch.tanh(self.fc2(torch.tanh(self.fc1(x)))))


def fill(model, perturb=0.0):
    with torch.no_grad():
        for k, p in enumerate(model.parameters()):
            flat = p.view(-1)
            for e in range(flat.numel()):
                if p.dim() == 2:
                    v = float(((k * 31 + e * 17 + 5) % 29) - 14) / (14.0 * math.sqrt(p.shape[1]))
                else:
                    v = float(((k * 11 + e * 7 + 1) % 13) - 6) / 20.0
                flat[e] = v * (1.0 + perturb * (-1) ** k)


def run(optimizer, kwargs, perturb=0.0):
    model = Mlp(WIDTH)
    fill(model, perturb)
    mup.set_base_shapes(model, Mlp(BASE))
    opt = optimizer(model.parameters(), foreach=False, **kwargs)
    x, y = data()
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return losses, [p.detach().reshape(-1).tolist() for p in model.parameters()]


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    print("| case | steps | first loss | last loss | reliable_steps |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, optimizer, kwargs in CASES:
        losses, final = run(optimizer, kwargs)
        reliable = STEPS
        for perturb in (2.0 ** -50, -(2.0 ** -50)):
            other, _ = run(optimizer, kwargs, perturb)
            for t, (a, b) in enumerate(zip(losses, other)):
                if abs(a - b) > 1e-13:
                    reliable = min(reliable, t)
                    break
        assert reliable == STEPS, f"{name}: only {reliable} reproducible steps"
        out = dict(case=name, torch_version=torch.__version__, mup_version="1.0.0",
                   width=WIDTH, base_width=BASE, steps=STEPS, losses=losses,
                   final_params=final)
        with open(os.path.join(OUT_DIR, f"{name}.json"), "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
        print(f"| {name} | {STEPS} | {losses[0]!r} | {losses[-1]!r} | {reliable} |")


if __name__ == "__main__":
    main()
