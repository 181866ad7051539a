// Mine a folder of videos with the library API (what `mimic mine` does), then read the pairs back.
//
//   npm run build && node dist/examples/mine-folder.js <videos-dir> <out-dir>
import fs from "node:fs";
import path from "node:path";
import { minePairs, minePresets, type PairRecord } from "../src/index.js";

const [input, out] = process.argv.slice(2);
if (!input || !out) {
  console.error("usage: node dist/examples/mine-folder.js <videos-dir> <out-dir>");
  process.exit(2);
}

// Start from MIMIC's recipe and change what you need; the config hash in every record says how
// the pairs were made.
const config = { ...minePresets.mimic, everySec: 0.5, candidates: "window" as const, window: 2 };
const summary = await minePairs({ input, out, config, force: true });
console.log(`${summary.kept} pairs from ${summary.done} videos (${summary.failed} failed), config ${summary.configHash}`);
console.log("rejections:", summary.rejected);

// Each line of pairs.jsonl is a PairRecord: two frames, the homography and the patch correspondences.
const first = fs.readFileSync(path.join(out, "pairs.jsonl"), "utf8").split("\n").filter(Boolean)[0];
if (first) {
  const rec = JSON.parse(first) as PairRecord;
  console.log(
    `first pair: ${rec.path1} <-> ${rec.path2}, overlap ${(100 * rec.overlap).toFixed(1)}%, ${Object.keys(rec.correspondence).length} patch correspondences`,
  );
}
