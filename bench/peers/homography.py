#!/usr/bin/python3
# Peer for bench/match.ts (homography accuracy): MIMIC's recipe in OpenCV on 8-bit PNG pairs:
#   SIFT_create() defaults (2x upsampling), BFMatcher().knnMatch(k=2) + ratio 0.7,
#   findHomography(RANSAC, 5.0) when > 10 matches; and, as a second reference, the same matches
#   through findHomography(USAC_MAGSAC, 5.0) where this OpenCV has it.
# Usage: homography.py <dir>   (reads <dir>/manifest.json {"pairs": [[a.png, b.png], ...]})
#   -> JSON {"opencv": version, "ransac": [H or null, ...], "magsac": [H or null, ...] or null}
import json
import os
import sys

import cv2
import numpy as np


def main():
    d = sys.argv[1]
    man = json.load(open(os.path.join(d, "manifest.json")))
    sift = cv2.SIFT_create()
    bf = cv2.BFMatcher()
    has_magsac = hasattr(cv2, "USAC_MAGSAC")
    out = {"opencv": cv2.__version__, "ransac": [], "magsac": [] if has_magsac else None}
    for a, b in man["pairs"]:
        ia = cv2.imread(os.path.join(d, a), cv2.IMREAD_GRAYSCALE)
        ib = cv2.imread(os.path.join(d, b), cv2.IMREAD_GRAYSCALE)
        ka, da = sift.detectAndCompute(ia, None)
        kb, db = sift.detectAndCompute(ib, None)
        good = []
        if da is not None and db is not None and len(kb) >= 2:
            for m, n in bf.knnMatch(da, db, k=2):
                if m.distance < 0.7 * n.distance:
                    good.append(m)
        hr = hm = None
        if len(good) > 10:
            src = np.float32([ka[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
            dst = np.float32([kb[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
            hr, _ = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
            if has_magsac:
                hm, _ = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, 5.0)
        out["ransac"].append(None if hr is None else hr.reshape(-1).tolist())
        if has_magsac:
            out["magsac"].append(None if hm is None else hm.reshape(-1).tolist())
    print(json.dumps(out))


main()
