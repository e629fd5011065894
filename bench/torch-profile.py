#!/usr/bin/python3
"""The PyTorch side of bench/profile-step.ts: the CIFAR VGG-11 training step (torch-peer.py's
Vgg, config A at 32x32, FC 512, dropout 0.5, SGD lr 0.01 momentum 0.9 weight decay 5e-4) run
under torch.profiler; prints one JSON line: milliseconds per step for each group of
operators (self CPU time, which on CPU is the time the operator's own code ran, its
OpenMP threads included), named as profile-step.ts names its kernel groups, and the whole
step timed with perf_counter outside the profiler.

Convolutions are told apart by their input's shape (record_shapes). torch 1.13 runs a conv's
input and weight gradients in one operator (mkldnn_convolution_backward via
convolution_backward), so its backward gets one group per layer, "conv backward (input +
weight)", against which the table sets our two.
"""
import importlib.util
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("torch_peer", os.path.join(HERE, "torch-peer.py"))
peer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peer)  # sets the threads (2) before torch starts, like the bench's peer
torch, F = peer.torch, peer.F
from torch.profiler import ProfilerActivity, profile  # noqa: E402


def arg(name, default):
    for a in sys.argv[1:]:
        if a.startswith(f"--{name}="):
            return int(a.split("=", 1)[1])
    return default


STEPS, BATCH = arg("steps", 10), arg("batch", 64)
CFG = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
# the bench's training row (torch-peer.py builds it as for `npm run bench`): He-uniform torch
# init, input seed 14, labels (7i + 3) mod 10, SGD lr 0.01 momentum 0.9 weight decay 5e-4
step = peer.build({"kind": "train", "cfg": CFG, "inputSize": 32, "fc": 512, "classes": 10, "dropout": 0.5, "params": None,
                   "lr": 0.01, "momentum": 0.9, "weightDecay": 5e-4, "N": BATCH, "x": [14, 1.0],
                   "labels": [(i * 7 + 3) % 10 for i in range(BATCH)]})
# each conv layer by its input's (channels, side): two layers can share an input width
LAYERS, side, cin = {}, 32, 3
for v in CFG:
    if v == "M":
        side //= 2
    else:
        LAYERS[(cin, side)] = v
        cin = v


def conv_name(shapes, kind):
    """the layer of an aten conv op, by its input's shape [N, C, H, W]"""
    for s in shapes:
        if len(s) == 4 and s[0] == BATCH:
            cin, h = s[1], s[2]
            return f"conv {kind} {cin}→{LAYERS[(cin, h)]} @{h}²"
    return f"conv {kind} (shape unknown)"


def classify(ev):
    n = ev.key
    if n in ("aten::mkldnn_convolution", "aten::_convolution", "aten::convolution", "aten::conv2d", "aten::_nnpack_spatial_convolution", "aten::thnn_conv2d"):
        return conv_name(ev.input_shapes, "fwd")
    if "convolution_backward" in n:
        return conv_name(ev.input_shapes[1:], "backward (input + weight)")
    if n in ("aten::addmm", "aten::mm", "aten::linear", "aten::t", "aten::matmul") or "AddmmBackward" in n or "MmBackward" in n:
        return "fully connected (3 layers, all passes)"
    if "relu" in n.lower() or "threshold" in n:
        return "ReLU fwd + bwd"
    if "max_pool" in n.lower() or "MaxPool" in n:
        return "max-pool fwd + bwd"
    if "dropout" in n.lower() or "bernoulli" in n or "Dropout" in n or n in ("aten::mul", "aten::div_", "aten::empty_like"):
        return "dropout fwd + bwd"
    if "sgd" in n.lower() or n in ("aten::add_", "aten::mul_", "aten::_foreach_add_", "aten::_foreach_mul_", "aten::_foreach_add", "aten::zero_", "aten::fill_"):
        return "SGD update"
    if "softmax" in n or "nll" in n or "cross_entropy" in n or "NllLoss" in n:
        return "softmax cross-entropy"
    return "host side (autograd, pool, masks, hops)"


for _ in range(3):
    step()
t0 = time.perf_counter()
for _ in range(STEPS):
    step()
whole = (time.perf_counter() - t0) * 1000 / STEPS
with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    for _ in range(STEPS):
        step()
groups = {}
for ev in prof.key_averages(group_by_input_shape=True):
    if ev.self_cpu_time_total <= 0:
        continue
    k = classify(ev)
    groups[k] = groups.get(k, 0.0) + ev.self_cpu_time_total / 1000 / STEPS
# the profiler's own overhead inflates the sum: scale the groups to the unprofiled step
total = sum(groups.values())
out = {k: v * whole / total for k, v in groups.items()}
out["whole step"] = whole
peer.OUT.write(json.dumps(out) + "\n")
peer.OUT.flush()
