#!/usr/bin/python3
"""Peer for bench/train.ts: training throughput of the same MIM model in PyTorch on the CPU.

The model is test/fixtures/make_reference.py's MIM (the PyTorch reference the parity tests use),
imported, not copied. One training step = forward (view 1 masked, view 2 unmasked for CroCo),
masked MSE, backward, AdamW (betas 0.9, 0.95, wd 0.05). Random inputs; masks by sorting noise.

Usage: train.py '<json: {"config": {...ModelConfig}, "batch": B, "warmup": W, "steps": N}>'
Prints one JSON line: {"imgPerSec", "secPerStep", "threads", "torch", "blas", "coretype"}: which BLAS
torch's CPU matmuls use (its build config) and, when that is OpenBLAS, the core its kernels were
picked for (openblas_get_corename of the library loaded in this process). bench/train.ts runs this
without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the environment so OpenBLAS picks its own kernels.
"""

import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "fixtures"))

import torch  # noqa: E402

import make_reference as ref  # noqa: E402
from blas import openblas_loaded  # noqa: E402  (bench/peers/blas.py, next to this file)


def blas_setup():
    """(BLAS named in torch's build config, OpenBLAS core loaded in this process or 'no OpenBLAS')."""
    m = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    blas = m.group(1) if m else "unknown"
    loaded = openblas_loaded()
    if loaded is None:
        return blas, "no OpenBLAS loaded"
    lib, core, config, _threads = loaded
    return f"{blas}: {os.path.realpath(lib)}", f"{core} ({config})"


def main():
    a = json.loads(sys.argv[1])
    c = dict(a["config"])
    # all cores the process may use (Debian's torch defaults to 1 thread here), unless "threads" is given
    torch.set_num_threads(int(a.get("threads") or len(os.sched_getaffinity(0))))
    B = int(a["batch"])
    torch.manual_seed(0)
    m = ref.MIM(c)
    ref.mae_init(m)
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05)
    S, p = c["imgSize"], c["patchSize"]
    L = (S // p) ** 2
    keep = int(L * (1 - c["maskRatio"]))
    croco = c["objective"] == "croco"

    def step():
        v1 = torch.randn(B, 3, S, S)
        v2 = torch.randn(B, 3, S, S) if croco else None
        ids_shuffle = torch.argsort(torch.rand(B, L), dim=1)
        mask = torch.ones(B, L)
        mask[:, :keep] = 0
        mask = torch.gather(mask, 1, torch.argsort(ids_shuffle, dim=1))
        pred, _, _ = m(v1, v2, ids_shuffle, keep)
        loss = ref.masked_loss(v1, pred, mask, p, c.get("normPixLoss", False))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(int(a.get("warmup", 1))):
        step()
    n = int(a.get("steps", 3))
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    dt = (time.perf_counter() - t0) / n
    blas, core = blas_setup()
    print(
        json.dumps(
            {
                "imgPerSec": B / dt,
                "secPerStep": dt,
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
                "blas": blas,
                "coretype": core,
            }
        )
    )


if __name__ == "__main__":
    main()
