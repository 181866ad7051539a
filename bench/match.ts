// The two-view chain (brute-force match + ratio test, RANSAC homography, patch correspondences)
// at MIMIC's size (224 x 224, 16 px patches) vs MIMIC's own recipe in OpenCV on the CPU
// (bench/peers/match.py: BFMatcher knnMatch + ratio 0.7, findHomography RANSAC 5.0, a vectorised
// numpy patch overlap), on the same features, in the same run. Features are synthetic (points
// of a plane under a known homography, 30% outlier correspondences, unmatched distractors), with
// SIFT-like counts per 224 x 224 image, passed to the peer through a temporary file.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Features } from "../src/contracts.js";
import { patchCorrespondences } from "../src/geometry/correspondence.js";
import { matchedPoints, ransacBatch } from "../src/geometry/ransac.js";
import { syntheticPair } from "../src/geometry/synthetic.js";
import { twoView, twoViewBatch, twoViewPresets } from "../src/geometry/two_view.js";
import { describeAdapter, getGpu } from "../src/gpu/device.js";
import { matchPairs } from "../src/match/matcher.js";
import { type BenchOptions, type BenchResult, row, runPython, timeMs } from "./lib.js";

const here = path.dirname(fileURLToPath(import.meta.url));

export async function bench(opts: BenchOptions = {}): Promise<BenchResult> {
  const gpu = await getGpu();
  const numPairs = opts.quick ? 4 : 32;
  const repeats = opts.quick ? 2 : 3;
  const points = 350;
  const distractors = 150;
  const pairs = Array.from({ length: numPairs }, (_, i) => syntheticPair(1000 + i, { points, distractors, outlierFraction: 0.3 }));
  const feats: Features[] = pairs.flatMap((p) => [p.a, p.b]);
  const list = pairs.map((_, i) => [2 * i, 2 * i + 1] as const);
  const cfg = twoViewPresets.mimic;

  // ours: whole chain batched over all pairs, then per stage, then one pair at a time
  const total = await timeMs(() => twoViewBatch(gpu, feats, list, cfg), repeats);
  const matches = await matchPairs(gpu, feats, list, cfg.match);
  const tMatch = await timeMs(() => matchPairs(gpu, feats, list, cfg.match), repeats);
  const probs = list.map(([a, b], i) => matchedPoints(feats[a], feats[b], matches[i]));
  const fits = await ransacBatch(gpu, probs, cfg.ransac);
  const tRansac = await timeMs(() => ransacBatch(gpu, probs, cfg.ransac), repeats);
  const Hs = fits.flatMap((f) => (f.kind === "model" ? [f.fit.H] : []));
  const tCorr = await timeMs(() => patchCorrespondences(gpu, Hs, cfg.correspondence), repeats);
  const single = await timeMs(async () => {
    for (const [a, b] of list.slice(0, Math.min(8, numPairs))) await twoView(gpu, feats[a], feats[b], cfg);
  }, 1);
  const singlePairs = Math.min(8, numPairs);

  // peer: same features through a temporary file
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-bench-match-"));
  const bin = path.join(dir, "features.bin");
  const meta = path.join(dir, "meta.json");
  const parts: Float32Array[] = [];
  for (const p of pairs) parts.push(p.a.desc, p.a.xy, p.b.desc, p.b.xy);
  fs.writeFileSync(bin, Buffer.concat(parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
  fs.writeFileSync(meta, JSON.stringify({ pairs: pairs.map((p) => [p.a.count, p.b.count]) }));
  let peer: { seconds: Record<string, number>; cv2: string; threads: number; results: Array<{ overlap: number } | null> };
  try {
    peer = JSON.parse(runPython(path.join(here, "..", "..", "bench", "peers", "match.py"), [bin, meta, String(repeats)]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // agreement of the accepted overlaps (both sides run MIMIC's recipe)
  const ours = await twoViewBatch(gpu, feats, list, cfg);
  let agree = 0;
  let both = 0;
  ours.forEach((r, i) => {
    const pr = peer.results[i];
    if (!r.correspondence || !pr) return;
    both++;
    if (Math.abs(r.correspondence.overlap - pr.overlap) <= 3 / 196) agree++;
  });

  const pps = (ms: number) => numPairs / (ms / 1e3);
  const s = peer.seconds;
  const ppsPeer = (sec: number) => numPairs / sec;
  return {
    name: "match",
    peer: `OpenCV ${peer.cv2} (CPU, ${peer.threads} threads) + numpy`,
    adapter: describeAdapter(gpu.adapter),
    rows: [
      row(`match + RANSAC + correspondences, ${numPairs} pairs batched`, "pairs/s", pps(total), ppsPeer(s.total)),
      row(`  match (BF, ratio 0.7), ${points + distractors} features/image`, "pairs/s", pps(tMatch), ppsPeer(s.match)),
      row("  RANSAC homography (5 px) + refinement", "pairs/s", pps(tRansac), ppsPeer(s.ransac)),
      row("  patch correspondences 14x14 (both ways)", "pairs/s", Hs.length / (tCorr / 1e3), ppsPeer(s.overlap)),
      row("whole chain, one pair per call", "pairs/s", singlePairs / (single / 1e3), ppsPeer(s.total)),
    ],
    notes: [
      `Synthetic features at 224x224: ${points} correspondences (30% outliers) + ${distractors} distractors per image; MIMIC preset on both sides. ` +
        `Median of ${repeats} runs; ours includes uploads and readbacks. Overlaps agree within 3 patches on ${agree}/${both} pairs ` +
        "(the peer's RANSAC draws its own samples and refines with LM; its patch majority breaks ties by lowest index).",
    ],
  };
}
