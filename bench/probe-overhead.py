#!/usr/bin/python3
"""The PyTorch probe's cost: seconds per training step with and without
integrations/pytorch/gradlab_probe.py recording every 100 steps, on the networks of the parity
fixtures (seed MLP, CNN, row LSTM) at batch 32, single-threaded. Windows of 200 steps alternate
(with, without, with, …) so a busy machine hurts both sides alike; the ratio is the median of the
paired windows. Run: /usr/bin/python3 bench/probe-overhead.py [--windows N]
"""
import os
import statistics
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "integrations", "pytorch"))
sys.path.insert(0, os.path.join(ROOT, "test", "reference"))
from gradlab_probe import Probe  # noqa: E402
from make_probe_fixtures import CASES  # noqa: E402

WINDOW = 200
EVERY = 100


def main():
    windows = int(sys.argv[sys.argv.index("--windows") + 1]) if "--windows" in sys.argv else 6
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.rand(32, 784)
    y = torch.randint(0, 10, (32,))
    print("| network | step without (ms) | step with probe every %d (ms) | overhead |" % EVERY)
    print("|---|---:|---:|---:|")
    for name, make in CASES.items():
        # two copies of the network, one probed: each keeps its own consecutive steps
        nets = []
        for with_probe in (True, False):
            torch.manual_seed(1)
            model, _, _, shape = make()
            opt = torch.optim.SGD(model.parameters(), lr=0.01)
            probe = Probe(model, tempfile.mkdtemp(), every=EVERY, name=name) if with_probe else None
            nets.append({"model": model, "opt": opt, "probe": probe, "step": 0})

        def run(with_probe):
            net = nets[0] if with_probe else nets[1]
            model, opt, probe = net["model"], net["opt"], net["probe"]
            t0 = time.perf_counter()
            for _ in range(WINDOW):
                loss = F.cross_entropy(model(shape(x)), y)
                opt.zero_grad()
                loss.backward()
                if probe:
                    probe.record(net["step"], loss)
                opt.step()
                net["step"] += 1
            return (time.perf_counter() - t0) / WINDOW

        run(False)  # warm-up
        ratios, plain, probed = [], [], []
        for w in range(windows):
            if w % 2 == 0:                # alternate which side goes first
                a = run(True)
                b = run(False)
            else:
                b = run(False)
                a = run(True)
            probed.append(a)
            plain.append(b)
            ratios.append(a / b)
        nets[0]["probe"].close()
        print("| %s | %.3f | %.3f | %+.1f%% |" % (name, 1e3 * statistics.median(plain), 1e3 * statistics.median(probed),
                                                 100 * (statistics.median(ratios) - 1)))


if __name__ == "__main__":
    main()
