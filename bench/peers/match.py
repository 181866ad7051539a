#!/usr/bin/python3
# Peer for bench/match.ts: MIMIC's two-view chain with OpenCV on the CPU, on the same features.
#   BFMatcher().knnMatch(k=2) + ratio 0.7 (MIMIC's loop), findHomography(RANSAC, 5.0) when > 10
#   matches, then a vectorised numpy patch overlap (4x4 sample grid per 16 px patch at 224x224,
#   majority, first-come one-to-one via np.unique, both ways, smaller kept).
# Usage: match.py <features.bin> <meta.json> <repeats>   -> JSON {stage: seconds (median), ...}
import json
import sys
import time

import cv2
import numpy as np

W = H = 224
P = 16
S = 4
NC, NR = W // P, H // P
NP = NC * NR

# Sample pixels (NP*S*S, 2), patch-major, row by row inside a patch.
offs = ((2 * np.arange(S) + 1) * P) // (2 * S)
pc = np.arange(NP)
sx = (pc % NC)[:, None, None] * P + offs[None, None, :]
sy = (pc // NC)[:, None, None] * P + offs[None, :, None]
SAMPLES = np.stack(np.broadcast_arrays(sx, sy), -1).reshape(-1, 1, 2).astype(np.float32)
VALUES = np.arange(-1, NP)


def targets(Hm):
    d = cv2.perspectiveTransform(SAMPLES, Hm).reshape(NP, S * S, 2)
    u, v = d[..., 0], d[..., 1]
    out = (u < 0) | (v < 0) | (u >= W) | (v >= H) | ~np.isfinite(u) | ~np.isfinite(v)
    t = np.where(out, -1, (np.clip(v, 0, H - 1).astype(np.int64) // P) * NC + np.clip(u, 0, W - 1).astype(np.int64) // P)
    counts = (t[:, :, None] == VALUES[None, None, :]).sum(1)
    return VALUES[counts.argmax(1)]


def one_to_one(t):
    keep = t >= 0
    _, first = np.unique(t[keep], return_index=True)
    return len(first)


def overlap(Hm):
    a = one_to_one(targets(Hm))
    b = one_to_one(targets(np.linalg.inv(Hm)))
    return min(a, b) / NP


def main():
    data = np.fromfile(sys.argv[1], dtype=np.float32)
    meta = json.load(open(sys.argv[2]))
    repeats = int(sys.argv[3])
    pairs = []
    off = 0
    for na, nb in meta["pairs"]:
        da = data[off:off + na * 128].reshape(na, 128); off += na * 128
        xa = data[off:off + na * 2].reshape(na, 2); off += na * 2
        db = data[off:off + nb * 128].reshape(nb, 128); off += nb * 128
        xb = data[off:off + nb * 2].reshape(nb, 2); off += nb * 2
        pairs.append((da, xa, db, xb))
    bf = cv2.BFMatcher()
    times = {"match": [], "ransac": [], "overlap": [], "total": []}
    result = []
    for _ in range(repeats):
        tm = tr = to = 0.0
        result = []
        t_all = time.perf_counter()
        for da, xa, db, xb in pairs:
            t0 = time.perf_counter()
            good = []
            for pair in bf.knnMatch(da, db, k=2):
                if len(pair) == 2 and pair[0].distance < 0.7 * pair[1].distance:
                    good.append(pair[0])
            t1 = time.perf_counter()
            tm += t1 - t0
            if len(good) <= 10:
                result.append(None)
                continue
            src = xa[[m.queryIdx for m in good]].reshape(-1, 1, 2)
            dst = xb[[m.trainIdx for m in good]].reshape(-1, 1, 2)
            Hm, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
            t2 = time.perf_counter()
            tr += t2 - t1
            if Hm is None:
                result.append(None)
                continue
            ov = overlap(Hm)
            to += time.perf_counter() - t2
            result.append({"matches": len(good), "inliers": int(mask.sum()), "overlap": ov})
        times["total"].append(time.perf_counter() - t_all)
        times["match"].append(tm)
        times["ransac"].append(tr)
        times["overlap"].append(to)
    med = {k: float(np.median(v)) for k, v in times.items()}
    print(json.dumps({"seconds": med, "pairs": len(pairs), "results": result, "cv2": cv2.__version__, "threads": cv2.getNumThreads()}))


if __name__ == "__main__":
    main()
