#!/usr/bin/python3
"""PyTorch as a peer of bench/run.ts: a long-lived process that takes one JSON request per
line on stdin and answers one JSON line on stdout (bench/torch-peer.ts is the other end).

  {"op": "hello"}                       versions, threads
  {"op": "setup", "row": {...}, ...}    build one row's tensors / model, warm it up, answer the
                                        first result's sampled values (for the agreement check)
  {"op": "time", "n": 1}                run the row n times, each timed with time.perf_counter
  {"op": "cpu"}                         this process's CPU seconds so far (all threads)
  {"op": "free"} / {"op": "quit"}

The node side alternates: one sample of verydeep, one of this process, and so on, so that a
change in the host's speed (other guests on the VM's host) hits both. Each side times only
its own work; the pipe's round trip is outside both timings.

Inputs and weights are not sent: both sides compute them from the same counter hash
(`formula` here, `formulaArray` in torch-peer.ts), bit for bit, so the results can be
compared at sampled positions without moving hundreds of MB through the pipe.

Threads: Debian's torch starts with 1 thread on this VM. OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS must be set before torch is imported, and torch.set_num_threads after.
"""
import json
import os
import platform
import resource
import sys
import time

THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(THREADS)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DEFAULT_THREADS = torch.get_num_threads()
torch.set_num_threads(THREADS)
torch.manual_seed(0)
# the protocol's channel: anything torch or numpy prints must not end up in it
OUT = sys.stdout
sys.stdout = sys.stderr


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def formula(n, seed, scale):
    """uniform in [-scale, scale): a counter hash of (i, seed), float32; the same bits as
    formulaArray in bench/torch-peer.ts (uint32 arithmetic wraps in both)"""
    out = np.empty(n, dtype=np.float32)
    base = np.uint32((seed * 0x9E3779B9) & 0xFFFFFFFF)
    step = 1 << 22
    for s in range(0, n, step):
        h = np.arange(s, min(n, s + step), dtype=np.uint32) + base
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x7FEB352D)
        h ^= h >> np.uint32(15)
        h *= np.uint32(0x846CA68B)
        h ^= h >> np.uint32(16)
        out[s:s + len(h)] = ((h.astype(np.float64) / 4294967296.0) * 2.0 - 1.0) * scale
    return torch.from_numpy(out)


def sample_positions(n, m):
    """m evenly spaced positions of n (all of them when n <= m); sampledPositions in torch-peer.ts"""
    if n <= m:
        return np.arange(n, dtype=np.int64)
    return (np.arange(m, dtype=np.int64) * n) // m


def sampled(t, m):
    flat = t.detach().reshape(-1)
    idx = sample_positions(flat.numel(), m)
    return dict(n=int(flat.numel()), values=[float(v) for v in flat[torch.from_numpy(idx)].tolist()],
                absSum=float(flat.abs().double().sum()))


# ---------------- models: torchvision's layout (features / classifier), without its avgpool ----------------
class Vgg(nn.Module):
    def __init__(self, cfg, input_size, fc, classes, dropout):
        super().__init__()
        layers, c = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
                c = v
        self.features = nn.Sequential(*layers)
        s = input_size // 2 ** cfg.count("M")
        self.classifier = nn.Sequential(
            nn.Linear(c * s * s, fc), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(fc, fc), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(fc, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def fill(model, params):
    """the parameters from the formula, in the order and with the shapes the node side names"""
    own = list(model.named_parameters())
    names = [[n, list(p.shape)] for n, p in own]
    want = [[p["name"], p["shape"]] for p in params]
    if names != want:
        raise ValueError(f"torch-peer: parameters differ from verydeep's: torch has {names[:4]}... ({len(names)}), verydeep {want[:4]}... ({len(want)})")
    with torch.no_grad():
        for (_, p), spec in zip(own, params):
            p.copy_(formula(p.numel(), spec["seed"], spec["scale"]).reshape(p.shape))


# ---------------- rows ----------------
def build(row):
    """(fn, first-result extractor) for one row; fn runs the timed work once"""
    kind = row["kind"]
    if kind == "conv":
        N, C, S, K = row["N"], row["C"], row["S"], row["K"]
        x = formula(N * C * S * S, row["x"][0], row["x"][1]).reshape(N, C, S, S)
        dy = formula(N * C * S * S, row["dy"][0], row["dy"][1]).reshape(N, C, S, S)
        w = formula(C * C * K * K, row["w"][0], row["w"][1]).reshape(C, C, K, K)
        b = formula(C, row["b"][0], row["b"][1])
        p = K // 2
        cb = torch.ops.aten.convolution_backward
        if row["pass"] == "fwd":
            return lambda: F.conv2d(x, w, b, padding=p)
        if row["pass"] == "dx":
            return lambda: cb(dy, x, w, None, [1, 1], [p, p], [1, 1], False, [0, 0], 1, [True, False, False])[0]
        if row["pass"] == "dw":
            return lambda: cb(dy, x, w, None, [1, 1], [p, p], [1, 1], False, [0, 0], 1, [False, True, False])[1]
        raise ValueError(f"torch-peer: unknown conv pass {row['pass']!r}")
    if kind == "vgg":
        model = Vgg(row["cfg"], row["inputSize"], row["fc"], row["classes"], row["dropout"]).eval()
        fill(model, row["params"])
        N, s = row["N"], row["inputSize"]
        x = formula(N * 3 * s * s, row["x"][0], row["x"][1]).reshape(N, 3, s, s)
        return lambda: model(x)
    if kind == "train":
        model = Vgg(row["cfg"], row["inputSize"], row["fc"], row["classes"], row["dropout"]).train()
        if row.get("params"):
            fill(model, row["params"])
        opt = torch.optim.SGD(model.parameters(), lr=row["lr"], momentum=row["momentum"], weight_decay=row["weightDecay"])
        N, s = row["N"], row["inputSize"]
        x = formula(N * 3 * s * s, row["x"][0], row["x"][1]).reshape(N, 3, s, s)
        y = torch.tensor(row["labels"], dtype=torch.int64)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss.detach().reshape(1)
        step.grad_enabled = True
        step.params = sum(p.numel() for p in model.parameters())
        return step
    raise ValueError(f"torch-peer: unknown row kind {kind!r}")


state = {}


def run_once():
    fn = state["fn"]
    if getattr(fn, "grad_enabled", False):
        return fn()
    with torch.no_grad():
        return fn()


def handle(req):
    op = req.get("op")
    if op == "hello":
        return dict(torch=torch.__version__, numpy=np.__version__, python=platform.python_version(), executable=sys.executable,
                    threads=torch.get_num_threads(), defaultThreads=DEFAULT_THREADS, interopThreads=torch.get_num_interop_threads(),
                    mkldnn=torch.backends.mkldnn.is_available(), cuda=torch.cuda.is_available(),
                    parallel=[l.strip() for l in torch.__config__.parallel_info().splitlines() if "backend" in l or "OpenMP" in l][:2],
                    pid=os.getpid())
    if op == "cpu":
        return dict(cpuS=cpu_s())
    if op == "setup":
        state.clear()
        t0 = time.perf_counter()
        state["fn"] = build(req["row"])
        setup_ms = (time.perf_counter() - t0) * 1e3
        # warm-up, by the rules of bench/harness.ts's measure(): at least minWarmups runs and
        # minWarmupMs, at most 20; one run is enough when it takes over 2 s
        warm, warm_ms, last_ms, first = 0, 0.0, 0.0, None
        t0 = time.perf_counter()
        while warm < 20:
            s = time.perf_counter()
            out = run_once()
            last_ms = (time.perf_counter() - s) * 1e3
            if warm == 0:
                first = sampled(out, req.get("sample", 4096))
            warm += 1
            warm_ms = (time.perf_counter() - t0) * 1e3
            if last_ms > 2000 or (warm >= req.get("minWarmups", 2) and warm_ms >= req.get("minWarmupMs", 300)):
                break
        extra = {"params": state["fn"].params} if hasattr(state["fn"], "params") else {}
        return dict(setupMs=setup_ms, warmups=warm, warmupMs=warm_ms, lastMs=last_ms, first=first, cpuS=cpu_s(), **extra)
    if op == "time":
        ms, cpu = [], []
        for _ in range(int(req.get("n", 1))):
            c = cpu_s()
            t = time.perf_counter()
            run_once()
            ms.append((time.perf_counter() - t) * 1e3)
            cpu.append(cpu_s() - c)
        return dict(samplesMs=ms, sampleCpuS=cpu, cpuS=cpu_s())
    if op == "free":
        state.clear()
        return dict(cpuS=cpu_s())
    raise ValueError(f"torch-peer: unknown op {op!r}")


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if req.get("op") == "quit":
                break
            res = dict(ok=True, **handle(req))
        except Exception as e:  # the node side turns this into the row's 'error' cell
            res = dict(ok=False, error=f"{type(e).__name__}: {e}")
        OUT.write(json.dumps(res) + "\n")
        OUT.flush()


if __name__ == "__main__":
    main()
