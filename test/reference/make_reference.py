#!/usr/bin/python3
"""Golden values for gradlab's engine, computed by PyTorch.

For each case below: build the network from gradlab layer specs with PyTorch modules, run ONE
forward + backward of the batch-mean loss on a fixed small batch, and write
test/reference/fixtures/NAME.safetensors (parameters, input, labels, logits, every gradient)
and NAME.json (spec, loss value, per-layer deltaNorm, per-step hGradNorm / cGradNorm).
Parameters and inputs are drawn, rounded to float32, then everything is computed in float64,
so the F32 values stored in the file are exactly the values that were used.
Definitions and file format: test/reference/README.md. Run: /usr/bin/python3 THIS_FILE
"""
import copy
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
KINK_MIN = 1e-3   # |z| of every relu / leaky_relu pre-activation must be at least this
TIE_MIN = 1e-4    # top-1 minus top-2 of every max-pool window (unless the window is all 0)
MATCH_TOL = 1e-12 # manual recurrent unroll vs nn module: outputs and gradients


def f32(t):
    """Round to the nearest float32 and come back to float64 (what gets stored is what is used)."""
    return t.float().double()


# ---------------------------------------------------------------- safetensors (F32, LE) writer

def write_safetensors(path, tensors):
    """8-byte LE header length N, N bytes of JSON header (space-padded to a multiple of 8), data.

    Tensors are laid out in sorted-name order, each as contiguous little-endian float32.
    """
    names = sorted(tensors)
    header, chunks, offset = {}, [], 0
    for name in names:
        t = tensors[name].detach().to(torch.float32).contiguous()
        values = t.reshape(-1).tolist()
        data = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)


def read_safetensors(path):
    """The inverse of write_safetensors (F32 only), used to check every file once written."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert n % 8 == 0
    header, data = json.loads(blob[8:8 + n]), blob[8 + n:]
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        assert info["dtype"] == "F32"
        values = struct.unpack("<%df" % ((end - begin) // 4), data[begin:end])
        out[name] = torch.tensor(values, dtype=torch.float64).reshape(info["shape"])
    return out


# ---------------------------------------------------------------- activations (gradlab names)

ACTIVATIONS = {
    None: lambda z: z,
    "linear": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "elu": lambda z: F.elu(z, 1.0),
    "gelu": lambda z: F.gelu(z),           # exact (erf) form, PyTorch's default
    "softsign": F.softsign,                # x / (1 + |x|)
}
KINKED = ("relu", "leaky_relu")

# The name prefix of each layer type: dense1, conv1, bn1, ln1, rnn1, lstm1, gru1, ... (each kind
# declares its own in src/core/layers/; test/core/registry.test.ts checks that this table agrees)
PREFIX = {"dense": "dense", "conv2d": "conv", "batchnorm": "bn", "rnn": "rnn", "lstm": "lstm",
          "gru": "gru", "maxpool2d": "maxpool", "avgpool2d": "avgpool", "flatten": "flatten",
          "residual": "residual", "layernorm": "ln"}


# ---------------------------------------------------------------- the network

class Layer:
    """One gradlab layer spec with its PyTorch module (if any), name and shapes (per example)."""

    def __init__(self, spec, name, in_shape, module=None, children=None, out_shape=None):
        self.spec, self.name, self.in_shape = spec, name, in_shape
        self.module, self.children, self.out_shape = module, children or [], out_shape


def build(specs, in_shape, counters):
    """Create the modules for a list of specs, depth-first (so names count inside residuals)."""
    layers, shape = [], list(in_shape)
    for spec in specs:
        kind = spec["type"]
        counters[kind] = counters.get(kind, 0) + 1
        name = spec.get("name", "%s%d" % (PREFIX[kind], counters[kind]))
        if kind == "dense":
            assert len(shape) == 1, "dense needs a flat input, got %s" % shape
            layer = Layer(spec, name, shape, nn.Linear(shape[0], spec["units"]),
                          out_shape=[spec["units"]])
        elif kind == "conv2d":
            k, stride, pad = spec["kernel"], spec.get("stride", 1), spec.get("padding", "valid")
            if pad == "same":
                assert stride == 1 and k % 2 == 1, "'same' padding: stride 1, odd kernel"
                pad = k // 2
            elif pad == "valid":
                pad = 0
            c, h, w = shape
            conv = nn.Conv2d(c, spec["filters"], k, stride=stride, padding=pad)
            out = [spec["filters"], (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1]
            layer = Layer(spec, name, shape, conv, out_shape=out)
        elif kind in ("maxpool2d", "avgpool2d"):
            size = spec["size"]
            stride = spec.get("stride", size)
            cls = nn.MaxPool2d if kind == "maxpool2d" else nn.AvgPool2d
            c, h, w = shape
            out = [c, (h - size) // stride + 1, (w - size) // stride + 1]
            layer = Layer(spec, name, shape, cls(size, stride=stride), out_shape=out)
        elif kind == "flatten":
            n = 1
            for s in shape:
                n *= s
            layer = Layer(spec, name, shape, out_shape=[n])
        elif kind == "batchnorm":
            cls = {1: nn.BatchNorm1d, 3: nn.BatchNorm2d}[len(shape)]
            bn = cls(shape[0], eps=spec.get("eps", 1e-5), momentum=spec.get("momentum", 0.1))
            layer = Layer(spec, name, shape, bn, out_shape=list(shape))
        elif kind == "layernorm":
            assert len(shape) in (1, 2), "layernorm over [F] or per step of [T, F]"
            ln = nn.LayerNorm(shape[-1], eps=spec.get("eps", 1e-5))
            layer = Layer(spec, name, shape, ln, out_shape=list(shape))
        elif kind == "residual":
            children, out = build(spec["layers"], shape, counters)
            assert out == shape, "residual block must keep the shape"
            layer = Layer(spec, name, shape, children=children, out_shape=list(shape))
        elif kind in ("rnn", "lstm", "gru"):
            t, d = shape
            h = spec["units"]
            if kind == "rnn":
                mod = nn.RNN(d, h, nonlinearity=spec.get("activation", "tanh"), batch_first=True)
            else:
                mod = (nn.LSTM if kind == "lstm" else nn.GRU)(d, h, batch_first=True)
            out = [t, h] if spec.get("returnSequences", False) else [h]
            layer = Layer(spec, name, shape, mod, out_shape=out)
        else:
            raise ValueError("unknown layer type %r" % kind)
        layers.append(layer)
        shape = layer.out_shape
    return layers, shape


def walk(layers):
    for layer in layers:
        yield layer
        yield from walk(layer.children)


def named_parameters(layers):
    """gradlab names -> tensors, in model order: dense1.weight, lstm1.weight_ih_l0, bn1.bias, ...

    A layer's tensors keep their module's own names (nn.LSTM's weight_ih_l0), as gradlab's do."""
    out = {}
    for layer in walk(layers):
        if layer.module is not None:
            for pname, p in layer.module.named_parameters():
                out["%s.%s" % (layer.name, pname)] = p
    return out


class Trace:
    """What one forward pass exposes: pre-activations z (grad retained), h_t and c_t per step."""

    def __init__(self):
        self.z = {}          # layer name -> z [B, ...]
        self.h = {}          # layer name -> [h_0 .. h_{T-1}], each [B, H]
        self.c = {}          # layer name -> [c_0 .. c_{T-1}], each [B, H] (LSTM)
        self.kinks = []      # relu / leaky_relu pre-activations
        self.pools = []      # max-pool inputs with (size, stride)


def keep(t):
    if t.requires_grad:      # not in the no-grad probe pass that screens draws
        t.retain_grad()
    return t


def unroll(layer, x, trace):
    """Recurrent layer by hand, t = 0..T-1, with the module's own weights. x [B, T, D]."""
    kind, mod = layer.spec["type"], layer.module
    w_ih, w_hh = mod.weight_ih_l0, mod.weight_hh_l0   # [G·H, D], [G·H, H]
    b_ih, b_hh = mod.bias_ih_l0, mod.bias_hh_l0       # [G·H]
    batch, steps, _ = x.shape
    hidden = mod.hidden_size
    h = x.new_zeros(batch, hidden)                    # h_{-1} = 0
    c = x.new_zeros(batch, hidden)                    # c_{-1} = 0 (LSTM)
    hs, cs = [], []
    for t in range(steps):
        xt = x[:, t, :]
        if kind == "rnn":
            a = F.linear(xt, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
            act = layer.spec.get("activation", "tanh")
            if act in KINKED:
                trace.kinks.append(a)
            h = ACTIVATIONS[act](a)
        elif kind == "lstm":
            gates = F.linear(xt, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
            i, f, g, o = gates.chunk(4, dim=1)         # PyTorch's gate order
            c = keep(torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g))
            h = torch.sigmoid(o) * torch.tanh(c)
            cs.append(c)
        else:  # gru, PyTorch's formula: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
            gi = F.linear(xt, w_ih, b_ih).chunk(3, dim=1)
            gh = F.linear(h, w_hh, b_hh).chunk(3, dim=1)
            r = torch.sigmoid(gi[0] + gh[0])
            z = torch.sigmoid(gi[1] + gh[1])
            n = torch.tanh(gi[2] + r * gh[2])
            h = (1 - z) * n + z * h
        hs.append(keep(h))
    trace.h[layer.name] = hs
    if kind == "lstm":
        trace.c[layer.name] = cs
    # The hand unroll must be PyTorch's layer.
    with torch.no_grad():
        ref, _ = mod(x)
        mine = torch.stack(hs, dim=1)
        assert (ref - mine).abs().max().item() <= MATCH_TOL, "%s: unroll != nn module" % layer.name
    return torch.stack(hs, dim=1) if layer.spec.get("returnSequences", False) else hs[-1]


def forward(layers, x, trace, manual=True):
    for layer in layers:
        kind, spec = layer.spec["type"], layer.spec
        act = spec.get("activation")
        if kind in ("dense", "conv2d", "batchnorm"):
            z = keep(layer.module(x))
            trace.z[layer.name] = z
            if act in KINKED:
                trace.kinks.append(z)
            x = ACTIVATIONS[act](z)
        elif kind == "layernorm":
            mod = layer.module
            z = keep(F.layer_norm(x, mod.normalized_shape, mod.weight, mod.bias, mod.eps))
            # the formula gradlab computes, over the last dimension with the biased variance
            with torch.no_grad():
                mu = x.mean(dim=-1, keepdim=True)
                var = ((x - mu) ** 2).mean(dim=-1, keepdim=True)
                mine = (x - mu) / torch.sqrt(var + mod.eps) * mod.weight + mod.bias
                assert (mine - z).abs().max().item() <= MATCH_TOL, "%s: formula != F.layer_norm" % layer.name
            trace.z[layer.name] = z
            if act in KINKED:
                trace.kinks.append(z)
            x = ACTIVATIONS[act](z)
        elif kind == "maxpool2d":
            trace.pools.append((x, layer.module.kernel_size, layer.module.stride))
            x = layer.module(x)
        elif kind == "avgpool2d":
            x = layer.module(x)
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)   # row-major: [B, C, H, W] -> [B, C·H·W]; [B, T, H] -> [B, T·H]
        elif kind == "residual":
            z = x + forward(layer.children, x, trace, manual)
            if act in KINKED:
                trace.kinks.append(z)
            x = ACTIVATIONS[act](z)
        else:  # recurrent
            if manual:
                x = unroll(layer, x, trace)
            else:
                out, _ = layer.module(x)
                x = out if spec.get("returnSequences", False) else out[:, -1, :]
    return x


def loss_of(kind, logits, labels):
    if kind == "cross_entropy":
        return F.cross_entropy(logits, labels)                       # mean over B
    target = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    return F.mse_loss(logits, target)                                # mean over B·C


def clean(trace):
    """True if no relu pre-activation is near its kink and no max-pool window is near a tie."""
    for z in trace.kinks:
        if z.detach().abs().min().item() < KINK_MIN:
            return False
    for x, size, stride in trace.pools:
        win = F.unfold(x.detach().reshape(-1, 1, *x.shape[2:]), size, stride=stride)  # [B·C, k², L]
        top = win.topk(2, dim=1).values
        gap = top[:, 0] - top[:, 1]
        if ((gap < TIE_MIN) & (top[:, 0] != 0)).any():   # all-zero windows (after relu) pass no gradient
            return False
    return True


# ---------------------------------------------------------------- one case

def draw(case, seed):
    """Seed, build, draw parameters and input, round them to float32."""
    torch.manual_seed(seed)
    layers, out_shape = build(case["layers"], case["inputShape"], {})
    for layer in walk(layers):
        if isinstance(layer.module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = layer.module.num_features
            with torch.no_grad():   # random affine and running stats, so nothing is trivial
                layer.module.weight.copy_(torch.empty(n).uniform_(0.5, 1.5))
                layer.module.bias.copy_(torch.empty(n).uniform_(-0.5, 0.5))
                layer.module.running_mean.copy_(torch.empty(n).uniform_(-0.5, 0.5))
                layer.module.running_var.copy_(torch.empty(n).uniform_(0.5, 1.5))
        if isinstance(layer.module, nn.LayerNorm):
            n = layer.module.normalized_shape[0]
            with torch.no_grad():   # random affine, so the γ and β terms of the gradient show
                layer.module.weight.copy_(torch.empty(n).uniform_(0.5, 1.5))
                layer.module.bias.copy_(torch.empty(n).uniform_(-0.5, 0.5))
    with torch.no_grad():
        for p in named_parameters(layers).values():
            p.copy_(f32(p))
        for layer in walk(layers):
            for b in layer.module.buffers() if layer.module is not None else []:
                if b.is_floating_point():
                    b.copy_(f32(b))
    shape = [case["batch"]] + case["inputShape"]
    x = f32(torch.randn(*shape) if case.get("normalInput") else torch.rand(*shape))
    return layers, out_shape, x


def run_case(index, case):
    labels = torch.tensor(case["labels"], dtype=torch.long)
    assert len(case["labels"]) == case["batch"]
    for attempt in range(1000):
        seed = 1000 * (index + 1) + attempt
        layers, out_shape, x = draw(case, seed)
        check = copy.deepcopy(layers)             # for the nn-module cross-check, untouched
        with torch.no_grad():
            probe = Trace()
            forward(copy.deepcopy(layers), x, probe)
        if clean(probe):
            break
    else:
        raise RuntimeError("%s: no clean draw" % case["name"])
    assert len(out_shape) == 1 and out_shape[0] > max(case["labels"])

    params = named_parameters(layers)
    bns = [l for l in walk(layers) if isinstance(l.module, (nn.BatchNorm1d, nn.BatchNorm2d))]
    before = {}
    for l in bns:
        before["%s.running_mean" % l.name] = l.module.running_mean.clone()
        before["%s.running_var" % l.name] = l.module.running_var.clone()

    # The forward + backward the fixture records.
    x = x.clone().requires_grad_(True)
    trace = Trace()
    logits = forward(layers, x, trace)
    logits.retain_grad()
    loss = loss_of(case["loss"], logits, labels)
    loss.backward()

    # Cross-check: the same network with nn.RNN/LSTM/GRU modules instead of the hand unroll.
    x2 = x.detach().clone().requires_grad_(True)
    logits2 = forward(check, x2, Trace(), manual=False)
    loss2 = loss_of(case["loss"], logits2, labels)
    loss2.backward()
    assert abs(loss.item() - loss2.item()) <= MATCH_TOL
    assert (x.grad - x2.grad).abs().max().item() <= MATCH_TOL
    for name, p in named_parameters(check).items():
        assert (params[name].grad - p.grad).abs().max().item() <= MATCH_TOL, name

    batch = case["batch"]
    tensors = {"input": x.detach(), "labels": labels.double(), "logits": logits.detach(),
               "grad.input": x.grad}
    for name, p in params.items():
        tensors[name] = p.detach()
        tensors["grad." + name] = p.grad
    for l in bns:
        tensors.update({k: v for k, v in before.items() if k.startswith(l.name + ".")})
        tensors["after.%s.running_mean" % l.name] = l.module.running_mean.clone()
        tensors["after.%s.running_var" % l.name] = l.module.running_var.clone()

    def per_example_norm_sum(g):        # Σ_b ‖g_b‖₂ over the batch
        return g.reshape(batch, -1).norm(dim=1).sum().item()

    meta = {
        "name": case["name"],
        "description": case["description"],
        "model": {"layers": case["layers"]},
        "loss": case["loss"],
        "inputShape": case["inputShape"],
        "batch": batch,
        "labels": case["labels"],
        "seed": seed,
        "torch": torch.__version__,
        "loss_value": loss.item(),
        "deltaNorm": {k: per_example_norm_sum(z.grad) for k, z in trace.z.items()},
        "hGradNorm": {k: [per_example_norm_sum(h.grad) for h in hs] for k, hs in trace.h.items()},
        "cGradNorm": {k: [per_example_norm_sum(c.grad) for c in cs] for k, cs in trace.c.items()},
    }
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, case["name"] + ".safetensors")
    write_safetensors(path, tensors)
    back = read_safetensors(path)
    assert sorted(back) == sorted(tensors)
    for name, t in tensors.items():   # bit-exact float32 round trip
        assert torch.equal(back[name], t.detach().float().double()), name
    for name in list(params) + ["input"]:   # what was stored is exactly what was used
        assert torch.equal(back[name], tensors[name]), name
    with open(os.path.join(OUT_DIR, case["name"] + ".json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    return seed, loss.item(), sorted(tensors)


# ---------------------------------------------------------------- the cases

def dense(units, activation=None):
    spec = {"type": "dense", "units": units}
    if activation:
        spec["activation"] = activation
    return spec


CASES = [
    {"name": "mlp_sigmoid",
     "description": "The seed network: 784 -> dense 5 sigmoid -> dense 5 sigmoid -> dense 10, "
                    "cross-entropy, PyTorch default init U[±1/√fan_in]",
     "inputShape": [784], "batch": 8, "loss": "cross_entropy", "labels": [3, 1, 4, 1, 5, 9, 2, 6],
     "layers": [dense(5, "sigmoid"), dense(5, "sigmoid"), dense(10)]},
    {"name": "mlp_acts",
     "description": "Every activation once: tanh, relu, leaky_relu (0.01), elu (1), gelu (erf), "
                    "softsign, then linear; relu/leaky_relu pre-activations kept >= 1e-3 from 0",
     "inputShape": [12], "batch": 4, "loss": "cross_entropy", "labels": [0, 3, 1, 2],
     "layers": [dense(7, "tanh"), dense(6, "relu"), dense(6, "leaky_relu"), dense(5, "elu"),
                dense(5, "gelu"), dense(5, "softsign"), dense(4)]},
    {"name": "mlp_mse",
     "description": "Mean squared error against one-hot labels, mean over all B·C elements",
     "inputShape": [10], "batch": 4, "loss": "mse", "labels": [2, 0, 1, 2],
     "layers": [dense(6, "sigmoid"), dense(3)]},
    {"name": "cnn",
     "description": "conv 'same' relu -> maxpool 2 -> conv stride 2 padding 1 tanh -> avgpool 2 "
                    "-> flatten -> dense; no relu kinks, no max-pool ties",
     "inputShape": [1, 16, 16], "batch": 4, "loss": "cross_entropy", "labels": [4, 0, 2, 1],
     "layers": [{"type": "conv2d", "filters": 3, "kernel": 3, "padding": "same", "activation": "relu"},
                {"type": "maxpool2d", "size": 2},
                {"type": "conv2d", "filters": 4, "kernel": 3, "stride": 2, "padding": 1,
                 "activation": "tanh"},
                {"type": "avgpool2d", "size": 2},
                {"type": "flatten"},
                dense(5)]},
    {"name": "batchnorm_dense",
     "description": "dense (no activation) -> batchnorm (BatchNorm1d, training mode) sigmoid -> "
                    "dense; random gamma/beta and running stats",
     "inputShape": [6], "batch": 6, "loss": "cross_entropy", "labels": [0, 1, 2, 2, 1, 0],
     "layers": [dense(5), {"type": "batchnorm", "activation": "sigmoid"}, dense(3)]},
    {"name": "batchnorm_conv",
     "description": "conv 'valid' -> batchnorm (BatchNorm2d, training mode) relu -> flatten -> "
                    "dense; random gamma/beta and running stats",
     "inputShape": [2, 5, 5], "batch": 4, "loss": "cross_entropy", "labels": [1, 0, 2, 1],
     "layers": [{"type": "conv2d", "filters": 3, "kernel": 3, "padding": "valid"},
                {"type": "batchnorm", "activation": "relu"},
                {"type": "flatten"},
                dense(3)]},
    {"name": "residual",
     "description": "dense tanh -> residual y = tanh(x + dense(tanh(dense(x)))) -> dense; "
                    "the block's layers are dense2 and dense3",
     "inputShape": [6], "batch": 4, "loss": "cross_entropy", "labels": [2, 1, 0, 1],
     "layers": [dense(6, "tanh"),
                {"type": "residual", "layers": [dense(6, "tanh"), dense(6)], "activation": "tanh"},
                dense(3)]},
    {"name": "rnn_tanh",
     "description": "Elman RNN tanh over 7 steps, last hidden state -> dense",
     "inputShape": [7, 5], "batch": 4, "loss": "cross_entropy", "labels": [0, 2, 1, 0],
     "normalInput": True,
     "layers": [{"type": "rnn", "units": 6, "activation": "tanh"}, dense(3)]},
    {"name": "rnn_relu_seq",
     "description": "Elman RNN relu, returnSequences: [B, T, H] -> flatten (t-major, index t·H + h) "
                    "-> dense; relu pre-activations kept >= 1e-3 from 0",
     "inputShape": [5, 4], "batch": 4, "loss": "cross_entropy", "labels": [1, 2, 0, 1],
     "normalInput": True,
     "layers": [{"type": "rnn", "units": 5, "activation": "relu", "returnSequences": True},
                {"type": "flatten"}, dense(3)]},
    {"name": "lstm",
     "description": "LSTM over 6 steps (gate order i,f,g,o), last hidden state -> dense",
     "inputShape": [6, 5], "batch": 4, "loss": "cross_entropy", "labels": [2, 0, 1, 1],
     "normalInput": True,
     "layers": [{"type": "lstm", "units": 6, "forgetBias": 0}, dense(3)]},
    {"name": "lstm_long",
     "description": "LSTM over 20 steps, to watch dL/dh_t and dL/dc_t decay with distance",
     "inputShape": [20, 3], "batch": 4, "loss": "cross_entropy", "labels": [0, 1, 2, 0],
     "normalInput": True,
     "layers": [{"type": "lstm", "units": 4}, dense(3)]},
    {"name": "gru",
     "description": "GRU over 6 steps (gate order r,z,n; PyTorch's formula), last hidden -> dense",
     "inputShape": [6, 5], "batch": 4, "loss": "cross_entropy", "labels": [1, 1, 0, 2],
     "normalInput": True,
     "layers": [{"type": "gru", "units": 6}, dense(3)]},
    {"name": "layernorm_mlp",
     "description": "dense (no activation) -> layernorm eps 1e-3 sigmoid (F.layer_norm over the "
                    "5 features of each example) -> dense; random gamma/beta",
     "inputShape": [6], "batch": 4, "loss": "cross_entropy", "labels": [2, 0, 1, 1],
     "layers": [dense(5), {"type": "layernorm", "eps": 1e-3, "activation": "sigmoid"}, dense(3)]},
    {"name": "layernorm_lstm",
     "description": "LSTM returnSequences [B, T, H] -> layernorm tanh (over H at every step) -> "
                    "flatten -> dense; random gamma/beta",
     "inputShape": [5, 4], "batch": 4, "loss": "cross_entropy", "labels": [0, 2, 1, 2],
     "normalInput": True,
     "layers": [{"type": "lstm", "units": 6, "returnSequences": True},
                {"type": "layernorm", "activation": "tanh"}, {"type": "flatten"}, dense(3)]},
]


# ---------------------------------------------------------------- state dicts (strict loading)
#
# The PyTorch models the README documents, one per layer kind. gradlab's weights.safetensors of
# the matching config must be exactly such a model's state_dict (names and shapes), so that
# `model.load_state_dict(tensors, strict=True)` takes it unchanged. Each case writes
# fixtures/state-dict/NAME.safetensors (the state_dict of a seeded model, rounded to float32)
# and NAME.json (the gradlab config, the state_dict's keys and shapes in order, an input and the
# model's logits for it in float64), after loading the file back with strict=True.

class MlpNet(nn.Module):
    """gradlab: dense H sigmoid -> dense H sigmoid -> dense classes (the seed network); x [B, D]."""

    def __init__(self, D=784, H=5, classes=10):
        super().__init__()
        self.dense1 = nn.Linear(D, H)
        self.dense2 = nn.Linear(H, H)
        self.dense3 = nn.Linear(H, classes)

    def forward(self, x):
        return self.dense3(torch.sigmoid(self.dense2(torch.sigmoid(self.dense1(x)))))


class CnnNet(nn.Module):
    """gradlab: conv2d C k3 "same" relu -> maxpool2d 2 -> flatten -> dense classes; x [B, 1, S, S]."""

    def __init__(self, S=28, C=8, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, C, 3, padding=1)
        self.dense1 = nn.Linear(C * (S // 2) ** 2, classes)

    def forward(self, x):
        return self.dense1(F.max_pool2d(F.relu(self.conv1(x)), 2).flatten(1))


class BnNet(nn.Module):
    """gradlab: dense H -> batchnorm relu -> dense classes; x [B, D]."""

    def __init__(self, D=784, H=64, classes=10):
        super().__init__()
        self.dense1 = nn.Linear(D, H)
        self.bn1 = nn.BatchNorm1d(H)
        self.dense2 = nn.Linear(H, classes)

    def forward(self, x):
        return self.dense2(F.relu(self.bn1(self.dense1(x))))


class LnNet(nn.Module):
    """gradlab: dense H -> layernorm tanh -> dense classes; x [B, D]."""

    def __init__(self, D=784, H=64, classes=10):
        super().__init__()
        self.dense1 = nn.Linear(D, H)
        self.ln1 = nn.LayerNorm(H)
        self.dense2 = nn.Linear(H, classes)

    def forward(self, x):
        return self.dense2(torch.tanh(self.ln1(self.dense1(x))))


class RnnNet(nn.Module):
    """gradlab: rnn H tanh -> dense classes; x [B, T, D] (the rows view: T = D = 28)."""

    def __init__(self, D=28, H=64, classes=10):
        super().__init__()
        self.rnn1 = nn.RNN(D, H, nonlinearity="tanh", batch_first=True)
        self.dense1 = nn.Linear(H, classes)

    def forward(self, x):
        h, _ = self.rnn1(x)                 # [B, T, H]
        return self.dense1(h[:, -1])        # h_{T-1}: returnSequences false


class LstmNet(nn.Module):
    """gradlab: lstm H -> dense classes; x [B, T, D]."""

    def __init__(self, D=28, H=64, classes=10):
        super().__init__()
        self.lstm1 = nn.LSTM(D, H, batch_first=True)
        self.dense1 = nn.Linear(H, classes)

    def forward(self, x):
        h, _ = self.lstm1(x)
        return self.dense1(h[:, -1])


class GruNet(nn.Module):
    """gradlab: gru H -> dense classes; x [B, T, D]."""

    def __init__(self, D=28, H=64, classes=10):
        super().__init__()
        self.gru1 = nn.GRU(D, H, batch_first=True)
        self.dense1 = nn.Linear(H, classes)

    def forward(self, x):
        h, _ = self.gru1(x)
        return self.dense1(h[:, -1])


# name, the model (small sizes), its gradlab config, the per-example input shape
STATE_DICT_CASES = [
    ("mlp", MlpNet(D=6, H=5, classes=3),
     [dense(5, "sigmoid"), dense(5, "sigmoid"), dense(3)], [6]),
    ("cnn", CnnNet(S=6, C=2, classes=3),
     [{"type": "conv2d", "filters": 2, "kernel": 3, "padding": "same", "activation": "relu"},
      {"type": "maxpool2d", "size": 2}, {"type": "flatten"}, dense(3)], [1, 6, 6]),
    ("batchnorm", BnNet(D=6, H=4, classes=3),
     [dense(4), {"type": "batchnorm", "activation": "relu"}, dense(3)], [6]),
    ("layernorm", LnNet(D=6, H=4, classes=3),
     [dense(4), {"type": "layernorm", "activation": "tanh"}, dense(3)], [6]),
    ("rnn", RnnNet(D=4, H=3, classes=3),
     [{"type": "rnn", "units": 3, "activation": "tanh"}, dense(3)], [5, 4]),
    ("lstm", LstmNet(D=4, H=3, classes=3), [{"type": "lstm", "units": 3}, dense(3)], [5, 4]),
    ("gru", GruNet(D=4, H=3, classes=3), [{"type": "gru", "units": 3}, dense(3)], [5, 4]),
]

# PyTorch's batch norm counts its training steps in a buffer gradlab does not keep (it only
# matters for momentum=None); a state_dict for strict loading gets it as 0.
NOT_IN_GRADLAB = ("num_batches_tracked",)


def state_dict_case(index, name, model, layers, in_shape):
    torch.manual_seed(20000 + index)
    with torch.no_grad():
        for key, t in model.state_dict().items():
            if key.endswith("running_mean") or key.endswith("running_var"):
                t.copy_(torch.empty_like(t).uniform_(0.5, 1.5))   # not the trivial 0 and 1
            if t.is_floating_point():
                t.copy_(f32(t))
    model.eval()                            # batch norm with its running statistics
    x = f32(torch.randn(2, *in_shape))
    with torch.no_grad():
        logits = model(x)
    theirs = model.state_dict()
    ours = {k: t for k, t in theirs.items() if not k.endswith(NOT_IN_GRADLAB)}
    out_dir = os.path.join(OUT_DIR, "state-dict")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name + ".safetensors")
    write_safetensors(path, ours)
    # What gradlab would write loads strictly into a fresh model and gives the same logits.
    fresh = copy.deepcopy(model)
    with torch.no_grad():                   # nothing left over from the model that wrote it
        for t in fresh.state_dict().values():
            t.zero_()
    loaded = read_safetensors(path)
    for k, t in theirs.items():
        if k.endswith(NOT_IN_GRADLAB):
            loaded[k] = torch.zeros_like(t)
    fresh.load_state_dict(loaded, strict=True)
    fresh.eval()
    with torch.no_grad():
        assert torch.equal(fresh(x), logits), name
    meta = {
        "name": name,
        "pytorch": type(model).__name__,
        "model": {"layers": layers},
        "inputShape": in_shape,
        "keys": [[k, list(t.shape)] for k, t in theirs.items()],
        "notInGradlab": [k for k in theirs if k.endswith(NOT_IN_GRADLAB)],
        "input": x.reshape(-1).tolist(),
        "logits": logits.reshape(-1).tolist(),
        "torch": torch.__version__,
    }
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    return [k for k, _ in meta["keys"]]


def main():
    for index, case in enumerate(CASES):
        seed, loss, names = run_case(index, case)
        print("%-16s seed %5d  loss %.6f  %s" % (case["name"], seed, loss, " ".join(names)))
    for index, (name, model, layers, in_shape) in enumerate(STATE_DICT_CASES):
        keys = state_dict_case(index, name, model, layers, in_shape)
        print("state-dict %-9s strict load ok  %s" % (name, " ".join(keys)))


if __name__ == "__main__":
    main()
