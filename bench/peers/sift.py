"""OpenCV SIFT peer for bench/sift.ts.

Usage: sift.py <dir> <repeats>
Reads <dir>/manifest.json: {"timing": [[name, ...], ...] groups of same-size PNGs,
"score": [name, ...]}. For each timing group: images/s (median over `repeats` passes over the
group, single process, OpenCV's default threads) and keypoints/image. For each "score" image
writes <name>.kp.f32 (N, 4: x, y, size, angle) and <name>.desc.f32 (N, 128, L2-normalised) for
the scoring done in TypeScript. Prints one JSON object.
"""
import json
import os
import sys
import time

import cv2
import numpy as np


def main():
    d, repeats = sys.argv[1], int(sys.argv[2])
    man = json.load(open(os.path.join(d, "manifest.json")))
    sift = cv2.SIFT_create()
    out = {"opencv": cv2.__version__, "threads": cv2.getNumThreads(), "timing": []}
    for group in man["timing"]:
        imgs = [cv2.imread(os.path.join(d, n), cv2.IMREAD_GRAYSCALE) for n in group]
        sift.detectAndCompute(imgs[0], None)  # warm-up
        times, kps = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for im in imgs:
                k, _ = sift.detectAndCompute(im, None)
                kps.append(len(k))
            times.append(time.perf_counter() - t0)
        times.sort()
        out["timing"].append({"images": len(imgs), "sec": times[len(times) // 2], "kp_per_image": float(np.mean(kps))})
    for n in man["score"]:
        im = cv2.imread(os.path.join(d, n), cv2.IMREAD_GRAYSCALE)
        k, desc = sift.detectAndCompute(im, None)
        kp = np.array([[p.pt[0], p.pt[1], p.size, p.angle] for p in k], dtype=np.float32).reshape(-1, 4)
        if desc is None:
            desc = np.zeros((0, 128), np.float32)
        desc = desc.astype(np.float32)
        desc /= np.maximum(np.linalg.norm(desc, axis=1, keepdims=True), 1e-7)
        kp.tofile(os.path.join(d, n + ".kp.f32"))
        desc.tofile(os.path.join(d, n + ".desc.f32"))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
