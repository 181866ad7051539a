"""numpy matmul (OpenBLAS) GFLOP/s peer for bench/matmul.ts.

Usage: matmul.py M,N,K [M,N,K ...]  -> one JSON object on stdout:
  {"numpy": {"M,N,K": gflops, ...}, "torch": {...} (when python3-torch imports), "blas": "...",
   "coretype": "...", "threads": N}: the OpenBLAS core and threads numpy's matmul ran with.
float32 C = A @ B with A (M, K), B (K, N); median of 5 timed rounds after a warm-up. numpy uses the
BLAS that /usr/bin/python3's numpy is linked to (Debian: the libblas.so.3 alternative, which is the
slow reference BLAS unless libopenblas0 is installed); torch uses its own kernels, all cores.
bench/matmul.ts runs this without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE so OpenBLAS picks its kernels.
"""
import json
import os
import sys
import time

import numpy as np

from blas import openblas_loaded  # bench/peers/blas.py, next to this file


def gflops(m, n, k, matmul, a, b, c):
    matmul(a, b, c)
    reps = max(1, min(100, int(1e9 / (2 * m * n * k))))
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            matmul(a, b, c)
        times.append((time.perf_counter() - t0) / reps)
    times.sort()
    return 2 * m * n * k / times[len(times) // 2] / 1e9


def blas_name():
    import ctypes.util
    import os

    lib = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    return os.path.basename(os.path.dirname(lib)) + "/" + os.path.basename(lib) if os.path.exists(lib) else str(ctypes.util.find_library("blas"))


try:
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
except Exception:  # torch is optional
    torch = None

loaded = openblas_loaded()
out = {
    "numpy": {},
    "blas": blas_name(),
    "coretype": f"{loaded[1]} ({loaded[2]})" if loaded else "no OpenBLAS loaded",
    "threads": loaded[3] if loaded else 1,
}
if torch is not None:
    out["torch"] = {}
for arg in sys.argv[1:]:
    m, n, k = (int(v) for v in arg.split(","))
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    out["numpy"][arg] = gflops(m, n, k, lambda x, y, z: np.matmul(x, y, out=z), a, b, c)
    if torch is not None:
        ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)
        out["torch"][arg] = gflops(m, n, k, lambda x, y, z: torch.matmul(x, y, out=z), ta, tb, tc)
print(json.dumps(out))
