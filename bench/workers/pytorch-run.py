"""One whole training run in PyTorch, the counterpart of one `gradlab run` session, for
bench/whole-run.ts: the same network (built by pytorch.py's build() from the gradlab layer
specs, PyTorch's default init), the same examples, batch, epochs and recording cadence.

The job: the first TRAIN images of MNIST's training IDX file and the whole test file (10,000),
scaled to [0, 1]; SGD at the network's learning rate; reshuffled every epoch (torch.randperm);
every EVERY steps and at the last, a record — the loss, the batch accuracy, and every
parameter's gradient norm and a 32-bin histogram of its gradient — written as one JSON line to
metrics.jsonl (gradlab records more: the error reaching every layer and time step); the test
accuracy after every epoch (batches of 1,000, as gradlab's evalBatchSize); the weights saved.

Prints one JSON line: the seconds of the run itself (from the first step to the last
evaluation, what gradlab's summary.json counts in `seconds`), samples/s over them, the seconds
spent importing torch and loading data, the test accuracy, and the BLAS libraries the process
mapped (Debian's torch calls whichever libblas.so.3 the system's alternatives select: the
reference BLAS, 20–40× slower than OpenBLAS, unless libopenblas0-pthread is installed).

    python3 bench/workers/pytorch-run.py --net JSON --data DIR --out DIR --threads N
        [--train 20000] [--epochs 1] [--every 100]
"""
import json
import os
import sys
import time

T_START = time.perf_counter()
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch import arg, build  # noqa: E402  (pytorch.py sets the thread count from --threads)

NET = json.loads(arg("--net", "{}"))
DATA = arg("--data", "")
OUT = arg("--out", "")
TRAIN = int(arg("--train", "20000"))
EPOCHS = int(arg("--epochs", "1"))
EVERY = int(arg("--every", "100"))
EVAL_BATCH = 1000
T_IMPORTED = time.perf_counter()

SHAPES = {"flat": [784], "image": [1, 28, 28], "rows": [28, 28]}


def idx(name, offset, count, width):
    with open(os.path.join(DATA, name), "rb") as f:
        f.seek(offset)
        raw = f.read(count * width)
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8)


shape = SHAPES[NET["view"]]
x_train = idx("train-images-idx3-ubyte", 16, TRAIN, 784).float().div_(255).view(TRAIN, *shape)  # [N, ...]
y_train = idx("train-labels-idx1-ubyte", 8, TRAIN, 1).long()  # [N]
x_test = idx("t10k-images-idx3-ubyte", 16, 10000, 784).float().div_(255).view(10000, *shape)  # [10000, ...]
y_test = idx("t10k-labels-idx1-ubyte", 8, 10000, 1).long()  # [10000]
torch.manual_seed(1)
model = build(NET["layers"], NET["view"])
params = list(model.named_parameters())
opt = torch.optim.SGD(model.parameters(), lr=NET["lr"])
B = NET["batch"]
steps_per_epoch = (TRAIN + B - 1) // B
total = steps_per_epoch * EPOCHS
os.makedirs(OUT, exist_ok=True)
metrics = open(os.path.join(OUT, "metrics.jsonl"), "w")
T_READY = time.perf_counter()

epochs = []
step = 0
for epoch in range(EPOCHS):
    order = torch.randperm(TRAIN)
    for start in range(0, TRAIN, B):
        ib = order[start:start + B]
        xb, yb = x_train[ib], y_train[ib]
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if step % EVERY == 0 or step == total - 1:
            grads = {}
            for name, p in params:
                g = p.grad.detach()
                grads[name] = {"gradNorm": g.norm().item(), "hist": torch.histc(g, bins=32).tolist()}
            acc = (logits.argmax(1) == yb).float().mean().item()
            metrics.write(json.dumps({"step": step, "epoch": epoch, "loss": loss.item(), "accuracy": acc, "params": grads}) + "\n")
        opt.step()
        step += 1
    correct = 0
    with torch.no_grad():
        for start in range(0, 10000, EVAL_BATCH):
            correct += (model(x_test[start:start + EVAL_BATCH]).argmax(1) == y_test[start:start + EVAL_BATCH]).sum().item()
    epochs.append({"epoch": epoch + 1, "testAccuracy": correct / 10000})
T_TRAINED = time.perf_counter()
metrics.close()
torch.save(model.state_dict(), os.path.join(OUT, "weights.pt"))
seconds = T_TRAINED - T_READY
with open("/proc/self/maps") as f:  # which BLAS torch runs on: Debian's reference BLAS is 20-40x slower than OpenBLAS
    blas = sorted({line.split()[-1] for line in f if "blas" in line.split()[-1]})
print(json.dumps({
    "seconds": seconds, "samplesPerSecond": step * B / seconds, "steps": step,
    "importSeconds": T_IMPORTED - T_START, "dataSeconds": T_READY - T_IMPORTED,
    "writeSeconds": time.perf_counter() - T_TRAINED, "testAccuracy": epochs[-1]["testAccuracy"],
    "threads": torch.get_num_threads(), "torch": torch.__version__, "blas": blas,
}))
