"""PyTorch as a worker of the comparison (bench/workers/protocol.ts describes the line protocol).

The same network built from the gradlab layer specs with torch.nn modules (PyTorch's default
init), trained by torch.optim.SGD on the same MNIST images, float32, CPU.

    python3 bench/workers/pytorch.py --threads N --data DIR

--threads sets torch.set_num_threads (intra-op); the BLAS (Debian's OpenBLAS, pthread build)
keeps its own pool, sized by OPENBLAS_NUM_THREADS in the environment (the runner sets it).
The images are converted to one float tensor up front; each step takes a slice (a view), so
PyTorch pays no per-step conversion. Step: zero_grad(set_to_none) → cross_entropy → backward → step.
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

EXAMPLES = 8192


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


THREADS = int(arg("--threads", "2"))
DATA = arg("--data", "")
torch.set_num_threads(THREADS)


class Last(nn.Module):
    """A recurrent module run over [B, T, D] that outputs h_{T-1} [B, H] (gradlab's returnSequences false)."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x):
        out, _ = self.cell(x)
        return out[:, -1]


ACT = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def irnn_init(cell, spec):
    """The IRNN's init where the spec asks for it (bench/networks.ts's IRNN_NETWORK): W_hh = I, W_ih ~ N(0, std²), zero biases."""
    with torch.no_grad():
        if spec.get("recurrentInit") == "identity":
            nn.init.eye_(cell.weight_hh_l0)
        init = spec.get("init")
        if isinstance(init, dict) and init.get("type") == "normal":
            nn.init.normal_(cell.weight_ih_l0, 0.0, init["std"])
        if spec.get("biasInit") == "zeros":
            nn.init.zeros_(cell.bias_ih_l0)
            nn.init.zeros_(cell.bias_hh_l0)


def build(layers, view):
    mods = []
    shape = {"flat": [784], "image": [1, 28, 28], "rows": [28, 28], "pixels": [784, 1]}[view]
    for spec in layers:
        t = spec["type"]
        if t == "dense":
            mods.append(nn.Linear(shape[0], spec["units"]))
            shape = [spec["units"]]
        elif t == "conv2d":
            k = spec["kernel"]
            pad = (k - 1) // 2 if spec.get("padding") == "same" else 0
            mods.append(nn.Conv2d(shape[0], spec["filters"], k, padding=pad))
            shape = [spec["filters"], shape[1] + 2 * pad - k + 1, shape[2] + 2 * pad - k + 1]
        elif t == "maxpool2d":
            mods.append(nn.MaxPool2d(spec["size"]))
            shape = [shape[0], shape[1] // spec["size"], shape[2] // spec["size"]]
        elif t == "flatten":
            mods.append(nn.Flatten())
            shape = [shape[0] * shape[1] * shape[2]]
        elif t in ("rnn", "lstm", "gru"):
            H = spec["units"]
            if t == "rnn":
                cell = nn.RNN(shape[1], H, nonlinearity=spec.get("activation", "tanh"), batch_first=True)
            else:
                cell = (nn.LSTM if t == "lstm" else nn.GRU)(shape[1], H, batch_first=True)
            irnn_init(cell, spec)
            mods.append(Last(cell))
            shape = [H]
        else:
            raise ValueError("pytorch worker: no translation for layer type " + t)
        act = spec.get("activation")
        if t in ("dense", "conv2d") and act and act != "linear":
            mods.append(ACT[act]())
    return nn.Sequential(*mods)


def memory():
    rss = peak = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    return {"rss": rss, "peak": peak}


state = {}


def setup(msg):
    net = msg["net"]
    torch.manual_seed(1)
    images = torch.frombuffer(bytearray(open(os.path.join(DATA, "train-images-idx3-ubyte"), "rb").read()[16:16 + EXAMPLES * 784]), dtype=torch.uint8)
    labels = torch.frombuffer(bytearray(open(os.path.join(DATA, "train-labels-idx1-ubyte"), "rb").read()[8:8 + EXAMPLES]), dtype=torch.uint8)
    x = images.float().div_(255)
    view = net["view"]
    x = x.reshape(EXAMPLES, *{"flat": [784], "image": [1, 28, 28], "rows": [28, 28], "pixels": [784, 1]}[view]).contiguous()
    model = build(net["layers"], view)
    state.update(model=model, opt=torch.optim.SGD(model.parameters(), lr=net["lr"]), x=x, y=labels.long(), B=net["batch"], at=0)
    return {"ok": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}


def run(msg):
    s = state
    model, opt, x, y, B = s["model"], s["opt"], s["x"], s["y"], s["B"]
    t0 = time.perf_counter()
    for _ in range(msg["steps"]):
        if s["at"] + B > EXAMPLES:
            s["at"] = 0
        at = s["at"]
        s["at"] += B
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[at:at + B]), y[at:at + B])
        loss.backward()
        opt.step()
    return {"seconds": time.perf_counter() - t0}


def main():
    for line in sys.stdin:
        try:
            msg = json.loads(line)
            cmd = msg.get("cmd")
            if cmd == "exit":
                return
            if cmd == "setup":
                out = setup(msg)
            elif cmd == "run":
                out = run(msg)
            elif cmd == "peak":
                out = memory()
            elif cmd == "resetPeak":
                try:
                    with open("/proc/self/clear_refs", "w") as f:
                        f.write("5")
                except OSError:
                    pass
                out = {"ok": True}
            else:
                out = {"error": "unknown command " + json.dumps(cmd)}
        except Exception as e:  # the worker stays usable; the runner prints the message
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
