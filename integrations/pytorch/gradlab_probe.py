"""gradlab's probe for PyTorch: record the gradient flow of your own model in gradlab's schema.

Copy this one file next to your training script (it needs only torch), then:

    from gradlab_probe import Probe
    probe = Probe(model, "runs/mine", every=100, name="mine")   # hooks the model's layers
    for step, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y); opt.zero_grad(); loss.backward()
        probe.record(step, loss)      # after backward, before opt.step(); records when step % every == 0
        opt.step()
    probe.close()

and look at it with `npx gradlab report runs/mine`, `npx gradlab compare runs/mine runs/seed`, or
the lab's "Open metrics…". The folder holds:

- metrics.jsonl: one JSON record per recorded step, in the schema gradlab writes for its own runs
  (published as docs/metrics.schema.json in the gradlab package):
    {"step", "epoch", "loss", "accuracy"?, "layers": [{"name", "type", "params": {"weight": {"gradNorm",
     "gradMeanAbs", "gradMaxAbs", "gradRms", "updateRatio", "nonFinite", "zeros"}, ...}, "deltaNorm",
     "gain", "activation": {"mean", "std", "saturated", "dead"}, "hist"?, "hGradNorm"?, "cGradNorm"?,
     "sigmaMax"?, "pascanu"?, "gates"?}]}
- probe.json: what the report needs besides the records (the model's layers and parameter shapes, the
  optimizer, the command line, torch's version) and the list of what could not be measured, and why.
- summary.json (written by close()): steps, the last loss, and the recorded-step count.

What is measured, with gradlab's definitions (the per-example mean makes δ independent of the batch
size; a loss that is a batch mean is assumed, as nn.CrossEntropyLoss's default):
- per parameter tensor: the gradient's L2 norm, mean |g|, max |g|, RMS, NaN/Inf count and exact zeros,
  and ‖W_after − W_before‖ / ‖W_before‖ of the optimizer step that follows the record;
- per layer (nn.Linear, nn.Conv*d, nn.BatchNorm*d, nn.LayerNorm, and any module with parameters of its
  own): deltaNorm = Σ_b ‖∂L/∂z_b‖ over the batch of the gradient at the module's output z (for the
  batch-mean loss this is the mean per-example ‖∂ℓ_b/∂z_b‖); gain = deltaNorm over the next measured
  layer's; activation statistics of the activation module that consumes z (nn.Sigmoid, nn.Tanh, nn.ReLU,
  nn.Softsign, … or z itself when none does): mean, std, saturated (|f′| < 0.01·max f′) and dead (ReLU
  units at or below 0 for the whole batch); histograms on gradlab's fixed bins;
- per nn.RNN / nn.LSTM / nn.GRU (one layer, one direction, as gradlab's): the per-time-step total
  ‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖ for LSTM), through the recurrence, σ_max(W_hh), σ_max·γ and the saturation of
  the forget (LSTM) or update (GRU) gate. PyTorch does not keep h_t as separate tensors, so on a recorded
  step the probe re-runs the layer's recurrence step by step from the captured input (no effect on the
  model, its gradients or any random number generator) and back-propagates the captured output gradient.

The probe changes nothing in the training: hooks are attached only for the forward pass of a step that
will be recorded and removed after it, nothing draws random numbers, nothing writes .grad. Call
record() on every step (it returns at once when the step is not recorded).
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn

SCHEMA_VERSION = 1
__version__ = "1.0.0"

# gradlab's fixed histogram bins: |g| on half-decade log bins from 1e-10 to 10 (22 bins plus under
# and over), activations on 20 linear bins over [-1, 1] plus under and over. Bin k counts values in
# [edges[k-1], edges[k]).
GRAD_HIST_EDGES = [10.0 ** (-10 + i / 2) for i in range(23)]
ACT_HIST_EDGES = [-1 + i * 0.1 for i in range(21)]

# activation module → (gradlab name, max f′, saturating, can die, f′ from (z, y))
ACTIVATIONS = {
    nn.Sigmoid: ("sigmoid", 0.25, True, False, lambda z, y: y * (1 - y)),
    nn.Tanh: ("tanh", 1.0, True, False, lambda z, y: 1 - y * y),
    nn.Softsign: ("softsign", 1.0, True, False, lambda z, y: 1 / (1 + z.abs()) ** 2),
    nn.ReLU: ("relu", 1.0, False, True, None),
    nn.LeakyReLU: ("leaky_relu", 1.0, False, False, None),
    nn.ELU: ("elu", 1.0, False, False, None),
    nn.GELU: ("gelu", 1.129, False, False, None),
}

LAYER_TYPES = [
    (nn.Linear, "dense"), (nn.Conv1d, "conv1d"), (nn.Conv2d, "conv2d"), (nn.Conv3d, "conv3d"),
    (nn.BatchNorm1d, "batchnorm"), (nn.BatchNorm2d, "batchnorm"), (nn.BatchNorm3d, "batchnorm"),
    (nn.LayerNorm, "layernorm"), (nn.LSTM, "lstm"), (nn.GRU, "gru"), (nn.RNN, "rnn"),
]


def _type_of(module):
    for cls, name in LAYER_TYPES:
        if isinstance(module, cls):
            return name
    return type(module).__name__.lower()


def _finite_or_none(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _clean(obj):
    """NaN and ±Inf become null, as gradlab writes them."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def _vector_stats(g):
    """gradNorm, gradMeanAbs, gradMaxAbs, gradRms, nonFinite, zeros of a gradient, as gradlab's vectorStats."""
    g = g.detach().reshape(-1).double()
    n = max(1, g.numel())
    finite = torch.isfinite(g)
    bad = int((~finite).sum())
    zeros = int((g == 0).sum())
    if bad:
        q = float("nan") if bool(torch.isnan(g).any()) else float("inf")
        return {"gradNorm": q, "gradMeanAbs": q, "gradMaxAbs": q, "gradRms": q, "nonFinite": bad, "zeros": zeros}
    a = g.abs()
    sq = float((g * g).sum())
    return {"gradNorm": math.sqrt(sq), "gradMeanAbs": float(a.sum()) / n, "gradMaxAbs": float(a.max()) if g.numel() else 0.0,
            "gradRms": math.sqrt(sq / n), "nonFinite": 0, "zeros": zeros}


def _histogram(values, edges, absolute):
    v = values.detach().reshape(-1).double()
    v = v[~torch.isnan(v)]
    if absolute:
        v = v.abs()
    bins = torch.bucketize(v, torch.tensor(edges, dtype=torch.float64), right=True)
    return [int(c) for c in torch.bincount(bins, minlength=len(edges) + 1).tolist()]


def _row_norm_sum(t, batch_dim=0):
    """Σ_b ‖t_b‖₂ with b along batch_dim: for the batch-mean loss, the mean per-example gradient norm."""
    t = t.detach().double().movedim(batch_dim, 0)
    return float(t.reshape(t.shape[0], -1).norm(dim=1).sum())


class _Layer:
    """One recorded module: its parameters, and on a recorded step its output z and ∂L/∂z."""

    def __init__(self, name, module):
        self.name = name
        self.module = module
        self.type = _type_of(module)
        self.params = [(k, p) for k, p in module.named_parameters(recurse=False)]
        self.recurrent = isinstance(module, (nn.RNN, nn.LSTM, nn.GRU))
        self.z = None          # output of the module's last call on the recorded step
        self.dz = None         # ∂L/∂z
        self.calls = 0         # calls on the recorded step (a shared module is called more than once)
        self.act = None        # (module, its output y) of the activation module that consumed z
        self.rec_in = None     # recurrent: (input, h0) of the last call
        self.rec_out = None    # recurrent: (output, h_n, c_n) of the last call
        self.rec_grads = {}    # recurrent: ∂L/∂ of output, h_n, c_n


class Probe:
    """Records the gradient flow of `model` into `out_dir` every `every` steps. See the module's doc."""

    def __init__(self, model, out_dir, every=100, name=None, optimizer=None, histograms=True):
        if not isinstance(model, nn.Module):
            raise TypeError("Probe: model must be a torch.nn.Module, got %s" % type(model).__name__)
        if not (isinstance(every, int) and every >= 1):
            raise ValueError("Probe: every must be a positive integer, got %r" % (every,))
        self.model = model
        self.out_dir = out_dir
        self.every = every
        self.name = name or os.path.basename(os.path.normpath(out_dir))
        self.histograms = histograms
        self.notes = []
        self._noted = set()
        self._layers = []
        self._by_module = {}
        for qname, module in model.named_modules():
            if module is model and qname == "":
                own = list(module.named_parameters(recurse=False))
                if not own:
                    continue
            typ = _type_of(module)
            has_own = any(True for _ in module.named_parameters(recurse=False))
            if not has_own and not any(isinstance(module, cls) for cls, _ in LAYER_TYPES):
                continue
            if id(module) in self._by_module:
                continue
            layer = _Layer(qname or "model", module)
            self._layers.append(layer)
            self._by_module[id(module)] = layer
            if layer.recurrent and (module.num_layers != 1 or module.bidirectional or getattr(module, "proj_size", 0)):
                self._note(layer.name, "%s with num_layers=%d, bidirectional=%s: per-step ∂L/∂h_t not measured (only "
                           "one-layer, one-direction recurrences are unrolled); parameters are recorded"
                           % (typ, module.num_layers, module.bidirectional))
            for key, p in layer.params:
                if not p.requires_grad:
                    self._note(layer.name, "%s.%s is frozen (requires_grad=False): not recorded" % (layer.name, key))
            del typ
        self._activation_modules = [m for _, m in model.named_modules() if type(m) in ACTIVATIONS]
        self._handles = []
        self._armed = True       # the next forward pass belongs to a step that will be recorded
        self._always = False     # record() is not called on every step: keep hooks on all the time
        self._forward_order = []
        self._snapshot = None    # (step, {param: copy}) of the recorded step, until the update is known
        self._pending = None     # the record waiting for its update ratios
        self._last_step = None
        self._last_loss = None
        self._records = 0
        os.makedirs(out_dir, exist_ok=True)
        for fname in ("metrics.jsonl", "summary.json"):
            path = os.path.join(out_dir, fname)
            if os.path.exists(path):
                os.remove(path)
        self._metrics = open(os.path.join(out_dir, "metrics.jsonl"), "w", encoding="utf-8")
        self._write_json("probe.json", self._metadata(optimizer))
        self._attach()

    # ------------------------------------------------------------------ hooks

    def _note(self, where, text):
        if text not in self._noted:
            self._noted.add(text)
            self.notes.append({"layer": where, "note": text})

    def _attach(self):
        """Hooks for one forward pass: capture each recorded module's output and its gradient."""
        if self._handles:
            return
        self._forward_order = []
        for layer in self._layers:
            layer.z = layer.dz = layer.act = None
            layer.calls = 0
            layer.rec_in = layer.rec_out = None
            layer.rec_grads = {}
            self._handles.append(layer.module.register_forward_hook(self._make_forward_hook(layer)))
        self._outputs = {}
        for m in self._activation_modules:
            self._handles.append(m.register_forward_hook(self._activation_hook))
        # Each forward pass of the whole model starts the capture afresh, so the pass that counts is
        # the last one before record() (an evaluation pass in between is forgotten).
        self._handles.append(self.model.register_forward_pre_hook(self._start_pass))

    def _start_pass(self, module, inputs):
        self._forward_order = []
        self._outputs = {}
        for layer in self._layers:
            layer.z = layer.dz = layer.act = None
            layer.calls = 0
            layer.rec_in = layer.rec_out = None
            layer.rec_grads = {}

    def _detach(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    def _make_forward_hook(self, layer):
        def hook(module, inputs, output):
            layer.calls += 1
            if layer not in self._forward_order:
                self._forward_order.append(layer)
            if layer.recurrent:
                out, state = output
                h_n, c_n = state if isinstance(state, tuple) else (state, None)
                layer.rec_in = (inputs[0], inputs[1] if len(inputs) > 1 else None)
                layer.rec_out = (out, h_n, c_n)
                layer.rec_grads = {}
                for key, t in (("out", out), ("h_n", h_n), ("c_n", c_n)):
                    if t is not None and t.requires_grad:
                        t.register_hook(self._store(layer.rec_grads, key))
                return
            if not torch.is_tensor(output):
                return
            layer.z = output
            layer.dz = None
            layer.act = None
            self._outputs[id(output)] = layer
            if output.requires_grad:
                def grad_hook(g, layer=layer, z=output):
                    if layer.z is z:
                        layer.dz = g
                output.register_hook(grad_hook)
        return hook

    @staticmethod
    def _store(bag, key):
        def hook(g):
            bag[key] = g
        return hook

    def _activation_hook(self, module, inputs, output):
        if inputs and torch.is_tensor(inputs[0]):
            layer = self._outputs.get(id(inputs[0]))
            if layer is not None and layer.z is inputs[0]:
                layer.act = (module, output)

    # ------------------------------------------------------------------ recording

    def record(self, step, loss, epoch=0, accuracy=None):
        """Call after loss.backward() and before optimizer.step(), on every step."""
        step = int(step)
        loss_value = float(loss.detach()) if torch.is_tensor(loss) else float(loss)
        self._finish_pending(step)
        due = step % self.every == 0
        if due:
            if not self._handles:
                # record() was not called on the steps in between: hooks stay on from now on.
                self._always = True
                self._note("", "record() was not called on every step, so this step's forward pass was not seen; "
                               "call it on every step (it returns at once when not recording)")
                self._write_record(step, epoch, loss_value, accuracy, measured=False)
            else:
                self._write_record(step, epoch, loss_value, accuracy, measured=True)
        self._last_step, self._last_loss = step, loss_value
        # Hooks for the next forward pass only if that step will be recorded.
        self._detach()
        if self._always or (step + 1) % self.every == 0:
            self._attach()

    def _write_record(self, step, epoch, loss, accuracy, measured):
        layers = []
        order = [l for l in self._forward_order if l in self._layers] if measured else []
        order += [l for l in self._layers if l not in order]
        snapshot = {}
        for layer in order:
            params = {}
            for key, p in layer.params:
                if not p.requires_grad:
                    continue
                if p.grad is None:
                    self._note(layer.name, "%s.%s got no gradient on step %d (unused in the forward pass?)" % (layer.name, key, step))
                    continue
                params[key] = dict(_vector_stats(p.grad), updateRatio=None)
                snapshot[(layer.name, key)] = p.detach().clone()
            rec = {"name": layer.name, "type": layer.type, "params": params, "deltaNorm": None, "gain": None, "activation": None}
            if measured and layer.calls > 1:
                self._note(layer.name, "%s is called %d times per forward pass: δ and activations are measured at its last call"
                           % (layer.name, layer.calls))
            if measured and layer.recurrent:
                self._recurrent_record(layer, rec)
            elif measured and layer.z is not None:
                self._layer_record(layer, rec)
            elif measured:
                self._note(layer.name, "%s was not called in the forward pass of step %d: no δ" % (layer.name, step))
            layers.append(rec)
        nxt = None
        for rec in reversed(layers):
            d = rec["deltaNorm"]
            if d is None:
                continue
            rec["gain"] = None if nxt is None else (d / nxt if nxt != 0 else None)
            nxt = d
        record = {"step": step, "epoch": int(epoch), "loss": loss}
        if accuracy is not None:
            record["accuracy"] = float(accuracy)
        record["layers"] = layers
        self._pending = record
        self._snapshot = (step, snapshot)

    def _layer_record(self, layer, rec):
        z = layer.z.detach()
        B = z.shape[0]
        if layer.dz is not None:
            rec["deltaNorm"] = _row_norm_sum(layer.dz)
        elif z.requires_grad or layer.z.requires_grad:
            self._note(layer.name, "%s's output got no gradient: no δ" % layer.name)
        act_module, y = layer.act if layer.act is not None else (None, layer.z)
        y = y.detach().double()
        zz = z.double()
        activation = {"mean": float(y.mean()), "std": float(y.std(unbiased=False)) if y.numel() else 0.0,
                      "saturated": None, "dead": None}
        info = ACTIVATIONS.get(type(act_module)) if act_module is not None else None
        if info is not None:
            _, max_df, saturating, can_die, df = info
            if saturating:
                activation["saturated"] = float((df(zz, y).abs() < 0.01 * max_df).double().mean())
            if can_die:
                alive = (zz.reshape(B, -1) > 0).any(dim=0)
                activation["dead"] = float((~alive).double().mean())
        rec["activation"] = activation
        if self.histograms:
            w = None
            for key in ("weight", "weight_ih_l0"):
                w = dict(layer.params).get(key)
                if w is not None:
                    break
            if w is None and layer.params:
                w = layer.params[0][1]
            rec["hist"] = {"grad": _histogram(w.grad, GRAD_HIST_EDGES, True) if w is not None and w.grad is not None else [],
                           "act": _histogram(y, ACT_HIST_EDGES, False)}

    def _recurrent_record(self, layer, rec):
        m = layer.module
        if m.num_layers != 1 or m.bidirectional or getattr(m, "proj_size", 0) or layer.rec_in is None:
            return
        x, h0 = layer.rec_in
        out, h_n, c_n = layer.rec_out
        grads = layer.rec_grads
        if not grads:
            self._note(layer.name, "%s's outputs got no gradient: no ∂L/∂h_t" % layer.name)
            return
        with torch.enable_grad():
            steps = _unroll(m, x.detach(), h0)
            hs, cs, zs, gates = steps["h"], steps["c"], steps["z"], steps["gates"]
            outputs, grad_outputs = [], []
            seq = torch.stack(hs, dim=1 if m.batch_first else 0)
            if "out" in grads:
                outputs.append(seq); grad_outputs.append(grads["out"].detach().to(seq.dtype))
            if "h_n" in grads:
                outputs.append(hs[-1]); grad_outputs.append(grads["h_n"].detach()[0].to(seq.dtype))
            if "c_n" in grads and cs:
                outputs.append(cs[-1]); grad_outputs.append(grads["c_n"].detach()[0].to(seq.dtype))
            wrt = hs + cs + zs
            d = torch.autograd.grad(outputs, wrt, grad_outputs=grad_outputs, allow_unused=True)
        T = len(hs)
        zero = lambda t: torch.zeros_like(t)
        dh = [g if g is not None else zero(hs[i]) for i, g in enumerate(d[:T])]
        dc = [g if g is not None else zero(cs[i]) for i, g in enumerate(d[T:T + len(cs)])]
        dz = [g if g is not None else zero(zs[i]) for i, g in enumerate(d[T + len(cs):])]
        rec["hGradNorm"] = [_row_norm_sum(g) for g in dh]
        if cs:
            rec["cGradNorm"] = [_row_norm_sum(g) for g in dc]
        W = m.weight_hh_l0.detach().double()
        sigma = float(torch.linalg.matrix_norm(W, ord=2))
        rec["sigmaMax"] = sigma
        rec["pascanu"] = sigma * 1.0   # γ: 1 for tanh and relu (nn.RNN), and for the tanh LSTM/GRU pass h_t through
        if isinstance(m, nn.RNN):
            # gradlab's rnn layer has a δ at its pre-activation z_t over the whole unrolled layer
            B = hs[0].shape[0]
            dzs = torch.stack(dz, dim=1).reshape(B, -1)
            rec["deltaNorm"] = _row_norm_sum(dzs)
            y = torch.stack([h.detach() for h in hs], dim=1).double()
            zall = torch.stack([z.detach() for z in zs], dim=1).double()
            activation = {"mean": float(y.mean()), "std": float(y.std(unbiased=False)), "saturated": None, "dead": None}
            if m.nonlinearity == "tanh":
                activation["saturated"] = float(((1 - y * y).abs() < 0.01).double().mean())
            else:
                alive = (zall.reshape(B, -1) > 0).any(dim=0)
                activation["dead"] = float((~alive).double().mean())
            rec["activation"] = activation
            rec["gates"] = []
        else:
            g = torch.stack([v.detach() for v in gates], dim=0).double()
            n = g.numel()
            rec["gates"] = [{"name": "forget" if isinstance(m, nn.LSTM) else "update",
                             "low": float((g < 0.01).sum()) / n, "high": float((g > 0.99).sum()) / n}]

    def _finish_pending(self, step=None):
        """The update of the recorded step is known once the optimizer has stepped: write the record."""
        if self._pending is None:
            return
        snap_step, snapshot = self._snapshot
        consecutive = step is None or step == snap_step + 1
        for rec in self._pending["layers"]:
            layer = next((l for l in self._layers if l.name == rec["name"]), None)
            for key, p in (layer.params if layer else []):
                before = snapshot.get((rec["name"], key))
                if before is None or key not in rec["params"]:
                    continue
                if not consecutive:
                    continue
                w2 = float((before.double() ** 2).sum())
                d2 = float(((p.detach().double() - before.double()) ** 2).sum())
                rec["params"][key]["updateRatio"] = math.sqrt(d2 / w2) if w2 > 0 else None
        if not consecutive:
            self._note("", "update ratios need record() on the step after a recorded one; they are null here")
        self._metrics.write(json.dumps(_clean(self._pending), allow_nan=False, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._metrics.flush()
        self._records += 1
        self._pending = None
        self._snapshot = None

    def close(self):
        """Write the last record (its update ratios from the weights now), summary.json and the notes."""
        self._detach()
        self._finish_pending(None)
        self._metrics.close()
        self._write_json("summary.json", {
            "source": "gradlab-probe", "name": self.name, "steps": (self._last_step + 1) if self._last_step is not None else 0,
            "finalLoss": _finite_or_none(self._last_loss) if self._last_loss is not None else None,
            "records": self._records, "testAccuracy": None,
        })
        meta = json.load(open(os.path.join(self.out_dir, "probe.json"), encoding="utf-8"))
        meta["notes"] = self.notes
        self._write_json("probe.json", meta)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ------------------------------------------------------------------ metadata

    def _metadata(self, optimizer):
        layers = []
        for layer in self._layers:
            layers.append({"name": layer.name, "type": layer.type, "module": type(layer.module).__name__,
                           "about": repr(layer.module).split("\n")[0][:200],
                           "params": {k: list(p.shape) for k, p in layer.params},
                           "trainable": sum(p.numel() for _, p in layer.params if p.requires_grad)})
        opt = None
        if optimizer is not None:
            groups = []
            for g in optimizer.param_groups:
                groups.append({k: v for k, v in g.items() if k != "params" and isinstance(v, (int, float, str, bool, type(None)))})
            opt = {"type": type(optimizer).__name__, "groups": groups}
        return {"schemaVersion": SCHEMA_VERSION, "source": "gradlab-probe", "probeVersion": __version__,
                "name": self.name, "every": self.every, "torch": torch.__version__,
                "command": [os.path.basename(sys.argv[0])] + sys.argv[1:] if sys.argv and sys.argv[0] else [],
                "model": {"class": type(self.model).__name__, "layers": layers,
                          "params": sum(p.numel() for p in self.model.parameters())},
                "optimizer": opt, "notes": self.notes}

    def _write_json(self, fname, obj):
        path = os.path.join(self.out_dir, fname)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(_clean(obj), f, indent=2, allow_nan=False, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, path)


def _unroll(m, x, h0):
    """Re-run a one-layer, one-direction nn.RNN/LSTM/GRU step by step with its own weights (detached), so
    each h_t (and c_t, z_t) is a tensor autograd can differentiate to. Returns lists over time."""
    if m.batch_first:
        x = x.transpose(0, 1)        # [T, B, D]
    T, B = x.shape[0], x.shape[1]
    H = m.hidden_size
    W_ih, W_hh = m.weight_ih_l0.detach(), m.weight_hh_l0.detach()
    b_ih = m.bias_ih_l0.detach() if m.bias else torch.zeros(W_ih.shape[0], dtype=x.dtype)
    b_hh = m.bias_hh_l0.detach() if m.bias else torch.zeros(W_hh.shape[0], dtype=x.dtype)
    lstm = isinstance(m, nn.LSTM)
    if h0 is None:
        h = torch.zeros(B, H, dtype=x.dtype)
        c = torch.zeros(B, H, dtype=x.dtype) if lstm else None
    elif lstm:
        h, c = h0[0][0].detach(), h0[1][0].detach()
    else:
        h, c = h0[0].detach(), None
    # The initial state is the one leaf that requires a gradient, so autograd records the unrolled
    # graph (everything else is detached: nothing reaches the model's .grad).
    h = h.clone().requires_grad_(True)
    if c is not None:
        c = c.clone().requires_grad_(True)
    hs, cs, zs, gates = [], [], [], []
    for t in range(T):
        a = x[t] @ W_ih.T + b_ih
        if lstm:
            pre = a + h @ W_hh.T + b_hh
            i, f, g, o = pre.chunk(4, dim=1)
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            cs.append(c)
            gates.append(f)
        elif isinstance(m, nn.GRU):
            hh = h @ W_hh.T + b_hh
            ar, az, an = a.chunk(3, dim=1)
            hr, hz, hn = hh.chunk(3, dim=1)
            r = torch.sigmoid(ar + hr)
            z = torch.sigmoid(az + hz)
            n = torch.tanh(an + r * hn)
            h = (1 - z) * n + z * h
            gates.append(z)
        else:
            z = a + h @ W_hh.T + b_hh
            zs.append(z)
            h = torch.tanh(z) if m.nonlinearity == "tanh" else torch.relu(z)
        hs.append(h)
    return {"h": hs, "c": cs, "z": zs, "gates": gates}
