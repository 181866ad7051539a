#!/usr/bin/python3
# Peer for bench/video.ts: OpenCV's VideoCapture (its FFmpeg backend) on the same files.
#   seek:       for each sample time t: cap.set(CAP_PROP_POS_MSEC, t*1000); cap.read(); resize 224x224
#               (one seek per sample, the per-sample access pattern MIMIC uses)
#   sequential: read every frame, keep those at or after each 1 s target, resize 224x224
# Prints JSON {"seek": {"seconds", "cpu" (process CPU s, decoder threads included), "samples"}, "sequential": {...}, "maxrss_mb": ...}.
# Usage: video.py <video> <step seconds> <duration seconds>
import json
import resource
import sys
import time

import cv2

path, step, duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
cv2.setNumThreads(1)


def seek():
    cap = cv2.VideoCapture(path)
    n = 0
    t = 0.0
    t0 = time.perf_counter()
    c0 = time.process_time()
    while t < duration - 1e-9:
        cap.set(cv2.CAP_PROP_POS_MSEC, t * 1000.0)
        ok, frame = cap.read()
        if not ok:
            break
        cv2.resize(frame, (224, 224), interpolation=cv2.INTER_AREA)
        n += 1
        t += step
    cap.release()
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "samples": n}


def sequential():
    cap = cv2.VideoCapture(path)
    n = 0
    target = 0.0
    t0 = time.perf_counter()
    c0 = time.process_time()
    while True:
        ok = cap.grab()
        if not ok:
            break
        ts = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if ts >= target - 1e-6:
            ok, frame = cap.retrieve()
            cv2.resize(frame, (224, 224), interpolation=cv2.INTER_AREA)
            n += 1
            target = (int((ts + 1e-6) / step) + 1) * step
    cap.release()
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "samples": n}


out = {"seek": seek(), "sequential": sequential()}
out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
print(json.dumps(out))
