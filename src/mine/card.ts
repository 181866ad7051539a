// The dataset card (<out>/README.md) and stats.json of a mined dataset.
import fs from "node:fs";
import path from "node:path";
import type { MineConfig } from "./config.js";
import type { Totals } from "./writer.js";

export interface MineStats extends Totals {
  source: string;
  configHash: string;
  config: MineConfig;
  input: string;
  shard: string | null;
  ignoredFiles: number;
  /** This run only (a resumed run counts what it did itself). */
  run: {
    seconds: number;
    videos: number;
    candidates: number;
    candidatesPerSec: number;
    framesPerSec: number;
    /** Seconds the main thread waited on each stage (decodeWait, features, match, ransac, correspondences, write). */
    stageSeconds?: Record<string, number>;
  };
  adapter: string;
}

export function writeStats(out: string, s: MineStats): void {
  fs.writeFileSync(path.join(out, "stats.json"), `${JSON.stringify(s, null, 2)}\n`);
}

export function writeCard(out: string, s: MineStats): void {
  const c = s.config;
  const rej = Object.entries(s.rejected)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `| ${k} | ${v} |`)
    .join("\n");
  const text = `# Mined multi-view pairs: ${s.source}

Mined by mimic-kit from \`${s.input}\`${s.shard ? ` (shard ${s.shard})` : ""} with config \`${s.configHash}\`.

| | |
|---|---|
| videos | ${s.done} mined, ${s.failed} failed${s.ignoredFiles ? `, ${s.ignoredFiles} non-video files ignored` : ""} |
| sampled frames | ${s.frames} |
| candidate pairs verified | ${s.candidates} |
| pairs kept | ${s.kept} |

## Parameters

Frames every ${c.everySec} s, resized to ${c.size}x${c.size} (${c.resize}${c.cropBottom ? `, bottom ${c.cropBottom * 100}% cropped` : ""});
SIFT (${c.siftUpsample ? "2x upsampled first octave" : "no upsampling"}, contrast ${c.siftContrast}${c.maxFeatures ? `, at most ${c.maxFeatures} features` : ""}); ratio test ${c.ratio}${c.mutual ? " with mutual check" : ""};
more than ${c.minMatches} matches; RANSAC homography at ${c.ransacThreshold} px; ${c.patch} px patches
(${c.size / c.patch}x${c.size / c.patch} grid, index row by row from the top left), correspondences '${c.correspondence}';
kept when ${c.overlapLower}% < overlap < ${c.overlapUpper}%; candidates '${c.candidates}'${c.candidates === "window" ? ` (next ${c.window} samples)` : ""}.
The full config is in \`config.json\`; every record in \`pairs.jsonl\` carries its hash.

## Rejections

| reason | pairs or frames |
|---|---|
${rej || "| (none) | 0 |"}
${s.failures.length ? `\n## Failed videos\n\n${s.failures.map((f) => `- \`${f.video}\`: ${f.error}`).join("\n")}\n` : ""}
## Layout

\`\`\`
<this folder>/${s.source}/<video-id>/<pair-no>/0000.jpg 0001.jpg corresponding.json
pairs.csv      path1,path2,correspondence   (relative to this folder; the columns MIMIC's loader reads)
pairs.jsonl    one record per pair: video, t1, t2, H (view 1 -> view 2, pixels at ${c.size}x${c.size}), inliers, overlap, correspondence
stats.json     counts, rejection reasons, timings
\`\`\`

\`corresponding.json\` maps a patch of view 1 to its patch in view 2 (patch 0 is the top-left one).

## Loading it

- MIMIC's PyTorch code: point its \`MultiViewDataset\` at \`pairs.csv\` with this folder as the base path.
- mimic-kit: \`mimic train --data <this folder>\`.
`;
  fs.writeFileSync(path.join(out, "README.md"), text);
}
