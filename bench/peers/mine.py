#!/usr/bin/python3
# Peer for bench/mine.ts: MIMIC's mining recipe with OpenCV on the CPU, as its data-curation
# scripts do it (github.com/RAIVNLab/MIMIC datasets/*_multipro.py, utils.py, constants.py): for each
# video, frames 1 s apart (VideoCapture seek per sample), cv2.resize to 224x224 (INTER_LINEAR);
# consecutive pairs; gray (cvtColor), SIFT; BFMatcher.knnMatch(k=2) + ratio 0.7;
# findHomography(RANSAC, 5.0) when more than 10 matches; per 16 px patch the majority partner
# (find_majority: "out" is a candidate, the first value to reach the top count wins), first-come
# one-to-one, both ways, the smaller kept; keep 50 < overlap% < 75.
# One deviation, for determinism: MIMIC votes with 100 random pixels of the patch; this votes with
# all 256 (the area majority those random votes estimate), visited row by row.
# Usage: mine.py <video> ...   -> JSON {"seconds": s, "candidates": [{video, t1, overlap|null, kept,
#   kp, matches, inliers, H}]}; MIMIC_PEER_DUMP=<dir> also saves each pair's two frames (debugging).
import json
import os
import sys
import time

import cv2
import numpy as np

W = H = 224  # constants.py: WIDTH, HEIGHT
P = 16  # PATCH_SIZE
NC = W // P
NP = NC * (H // P)  # N_TOTAL
S = P  # samples per patch side: every pixel

# Sample pixels (NP*S*S, 1, 2), patch-major, row by row inside a patch.
_offs = ((2 * np.arange(S) + 1) * P) // (2 * S)
_pc = np.arange(NP)
_sx = (_pc % NC)[:, None, None] * P + _offs[None, None, :]
_sy = (_pc // NC)[:, None, None] * P + _offs[None, :, None]
SAMPLES = np.stack(np.broadcast_arrays(_sx, _sy), -1).reshape(-1, 1, 2).astype(np.float32)
_KEY0 = np.repeat(np.arange(NP) * (NP + 1), S * S)
_POS = np.tile(np.arange(S * S), NP)


def targets(Hm):
    """find_corres_patch for every patch: majority target (-1 = 'out'), ties to the first to reach the count."""
    d = cv2.perspectiveTransform(SAMPLES, Hm).reshape(NP * S * S, 2)
    u, v = d[:, 0], d[:, 1]
    out = (u < 0) | (v < 0) | (u >= W) | (v >= H) | ~np.isfinite(u) | ~np.isfinite(v)
    t = np.where(out, -1, (np.clip(v, 0, H - 1).astype(np.int64) // P) * NC + np.clip(u, 0, W - 1).astype(np.int64) // P)
    key = _KEY0 + t + 1
    counts = np.bincount(key, minlength=NP * (NP + 1)).reshape(NP, NP + 1)
    # a value with the top count reached it at its last occurrence: the earliest such occurrence wins
    last = np.full(NP * (NP + 1), -1)
    np.maximum.at(last, key, _POS)
    last = last.reshape(NP, NP + 1)
    score = np.where(counts == counts.max(1, keepdims=True), last, 1 << 30)
    return score.argmin(1) - 1


def one_to_one(t):
    """Patches in index order; 'out' and targets already taken are skipped."""
    used = set()
    for x in t.tolist():
        if x >= 0 and x not in used:
            used.add(x)
    return len(used)


def overlap(Hm):
    return min(one_to_one(targets(Hm)), one_to_one(targets(np.linalg.inv(Hm)))) / NP


def frame_at(cap, sec):
    cap.set(cv2.CAP_PROP_POS_MSEC, 1000 * sec)
    ok, f = cap.read()
    if not ok:
        return None
    return cv2.resize(cv2.cvtColor(f, cv2.COLOR_BGR2RGB), (W, H))


def verify(sift, bf, img1, img2):
    g1 = cv2.cvtColor(img1, cv2.COLOR_RGB2GRAY)
    g2 = cv2.cvtColor(img2, cv2.COLOR_RGB2GRAY)
    k1, d1 = sift.detectAndCompute(g1, None)
    k2, d2 = sift.detectAndCompute(g2, None)
    info = {"kp": [len(k1), len(k2)]}
    if d1 is None or d2 is None:
        return None, info
    good = [m for m, n in (p for p in bf.knnMatch(d1, d2, k=2) if len(p) == 2) if m.distance < 0.7 * n.distance]
    info["matches"] = len(good)
    if len(good) <= 10:
        return None, info
    src = np.float32([k1[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
    dst = np.float32([k2[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
    Hm, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    if Hm is None:
        return None, info
    info["inliers"] = int(mask.sum())
    info["H"] = (Hm / Hm[2, 2]).ravel().tolist()
    return overlap(Hm), info


def main():
    sift = cv2.SIFT_create()
    bf = cv2.BFMatcher()
    out = []
    dump = os.environ.get("MIMIC_PEER_DUMP")  # debugging: save each pair's two frames (2, H, W, 3) here
    t0 = time.perf_counter()
    for video in sys.argv[1:]:
        cap = cv2.VideoCapture(video)
        fps = cap.get(cv2.CAP_PROP_FPS)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        seconds = int(n // fps) if fps > 0 else 0
        prev = frame_at(cap, 0) if seconds > 0 else None
        for i in range(seconds - 1):
            cur = frame_at(cap, i + 1)
            if prev is None or cur is None:
                break
            ov, info = verify(sift, bf, prev, cur)
            out.append({"video": os.path.basename(video), "t1": i, "overlap": ov, "kept": ov is not None and 50 < 100 * ov < 75, **info})
            if dump:
                base = os.path.join(dump, f"{os.path.basename(video)}@{i}")
                np.save(base + ".npy", np.stack([prev, cur]))
            prev = cur
    print(json.dumps({"seconds": time.perf_counter() - t0, "candidates": out}))


if __name__ == "__main__":
    main()
