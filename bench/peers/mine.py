#!/usr/bin/python3
# Peer for bench/mine.ts: MIMIC's mining recipe with OpenCV on the CPU, as its data-curation
# scripts describe it: for each video, frames 1 s apart (VideoCapture seek per sample), resized to
# 224x224; consecutive pairs; SIFT; BFMatcher.knnMatch(k=2) + ratio 0.7; findHomography(RANSAC,
# 5.0) when more than 10 matches; patch votes (4x4 fixed sample grid per 16 px patch instead of 100
# random pixels, so it is deterministic), first-come one-to-one, both ways, smaller kept; keep
# 50 < overlap% < 75.
# Usage: mine.py <video> ...   -> JSON {"seconds": s, "candidates": [{video, t1, overlap|null, kept}]}
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cv2
import numpy as np

# MIMIC's patch overlap (fixed 4x4 sample grid per patch, both ways, smaller kept): the same code
# as the matching bench's peer.
from match import H, W, overlap  # noqa: E402  (bench/peers/match.py, beside this file)


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
    if d1 is None or d2 is None or len(k1) < 2 or len(k2) < 2:
        return None
    good = [m for m, n in (p for p in bf.knnMatch(d1, d2, k=2) if len(p) == 2) if m.distance < 0.7 * n.distance]
    if len(good) <= 10:
        return None
    src = np.float32([k1[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
    dst = np.float32([k2[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
    Hm, _ = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    if Hm is None:
        return None
    return overlap(Hm)


def main():
    sift = cv2.SIFT_create()
    bf = cv2.BFMatcher()
    out = []
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
            ov = verify(sift, bf, prev, cur)
            out.append({"video": os.path.basename(video), "t1": i, "overlap": ov, "kept": ov is not None and 50 < 100 * ov < 75})
            prev = cur
    print(json.dumps({"seconds": time.perf_counter() - t0, "candidates": out}))


if __name__ == "__main__":
    main()
