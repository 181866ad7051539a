// Baseline datasets the benchmark makes itself, so the value of each curation step is measured:
//
//   random-pairs    two frames drawn at random from the same video (seeded PCG32), no geometric check
//   mimic-preset    `mimic mine --preset mimic`
//   default-preset  `mimic mine` (the default preset)
//   no-upper-bound  `mimic mine --overlap-upper 100` (the default preset without the 75% upper bound)
import fs from "node:fs";
import path from "node:path";
import type { Frame, PairRecord } from "../contracts.js";
import { byteOrder, videoId } from "../mine/shard.js";
import { DatasetWriter, type VideoResult } from "../mine/writer.js";
import { Pcg32 } from "../prng.js";
import { type MimicRunner, runMimic } from "../run_mimic.js";
import { decodeFrames } from "../video/decode.js";
import { listVideos } from "../video/folder.js";

/** The configHash recorded for random pairs (there is no mining config). */
export const RANDOM_PAIRS_HASH = "random-pairs";

export interface RandomPairsConfig {
  /** PCG32 seed; stream = the video's index in byte order of relative paths. */
  seed: number;
  /** Pairs drawn per video; null: as many as the video has sampled frames. */
  pairsPerVideo: number | null;
  /** Frame sampling interval, seconds (MIMIC: 1). */
  everySec: number;
  /** Square frame size, pixels (MIMIC: 224). */
  size: number;
  /** JPEG quality of the written frames. */
  jpegQuality: number;
}

export const randomPairsDefaults: RandomPairsConfig = { seed: 0, pairsPerVideo: null, everySec: 1, size: 224, jpegQuality: 95 };

const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/**
 * Write the random-pairs baseline in the mined-dataset layout (DatasetWriter): pairs (i, j), i != j,
 * of sampled frames of one video, with empty correspondence, overlap 0 and H identity. The same
 * videos and config give byte-identical pairs.csv, pairs.jsonl, config.json and JPEGs.
 * Frames of one video are held in memory (size^2 * 3 bytes each).
 */
export async function makeRandomPairs(
  videos: string,
  out: string,
  cfg: RandomPairsConfig = randomPairsDefaults,
  opts: { force?: boolean } = {},
): Promise<{ videos: number; pairs: number; failed: number }> {
  const list = listVideos(videos);
  const source = path.basename(path.resolve(videos)).replace(/[^A-Za-z0-9._-]+/g, "_") || "videos";
  const writer = DatasetWriter.open(out, {
    source,
    config: { kind: "random-pairs", ...cfg },
    configHash: RANDOM_PAIRS_HASH,
    seed: cfg.seed,
    jpegQuality: cfg.jpegQuality,
    resume: false,
    force: Boolean(opts.force),
  });
  try {
    return await writeRandomPairs(writer, list.videos, videos, source, out, cfg);
  } finally {
    writer.close(); // release the output's lock, also when a write fails
  }
}

async function writeRandomPairs(
  writer: DatasetWriter,
  list: ReturnType<typeof listVideos>["videos"],
  videos: string,
  source: string,
  out: string,
  cfg: RandomPairsConfig,
): Promise<{ videos: number; pairs: number; failed: number }> {
  const entries = [...list].sort((a, b) => byteOrder(a.rel, b.rel));
  for (const [vi, v] of entries.entries()) {
    const id = videoId(v.rel);
    const t0 = performance.now();
    const base: VideoResult = { video: v.rel, videoId: id, status: "done", frames: 0, candidates: 0, kept: 0, rejected: {}, seconds: 0 };
    try {
      const frames: Frame[] = [];
      for await (const f of decodeFrames(v.path, {
        videoId: id,
        sampling: { kind: "interval", seconds: cfg.everySec },
        size: { width: cfg.size, height: cfg.size },
        resize: "stretch",
      }))
        frames.push(f);
      const n = frames.length;
      const count = n < 2 ? 0 : (cfg.pairsPerVideo ?? n);
      const rng = new Pcg32(cfg.seed, vi);
      const records: PairRecord[] = [];
      for (let k = 0; k < count; k++) {
        const i = rng.nextBelow(n);
        let j = rng.nextBelow(n - 1);
        if (j >= i) j++;
        const a = frames[i];
        const b = frames[j];
        records.push(
          await writer.writePair(v.rel, id, k, {
            t1: a.ptsSec,
            t2: b.ptsSec,
            img1: a,
            img2: b,
            H: IDENTITY,
            inliers: 0,
            overlap: 0,
            correspondence: {},
          }),
        );
      }
      writer.finishVideo({ ...base, frames: n, candidates: count, kept: count, seconds: secs(t0) }, records);
    } catch (e) {
      writer.finishVideo({ ...base, status: "failed", error: (e as Error).message, seconds: secs(t0) }, []);
    }
  }
  const t = writer.totals();
  // stats.json without timings, so it is reproducible too.
  fs.writeFileSync(
    path.join(out, "stats.json"),
    `${JSON.stringify({ source, configHash: RANDOM_PAIRS_HASH, config: cfg, input: videos, ...t }, null, 2)}\n`,
  );
  fs.writeFileSync(
    path.join(out, "README.md"),
    `# Random frame pairs: ${source}\n\nA \`mimic benchmark\` baseline: ${t.kept} pairs of frames drawn at random (PCG32 seed ${cfg.seed}) from the same video of \`${videos}\`, sampled every ${cfg.everySec} s at ${cfg.size}x${cfg.size}; no matching, no geometric check. Correspondences are empty, overlap 0, H identity. Load it like a mined dataset (pairs.csv).\n`,
  );
  return { videos: t.videos, pairs: t.kept, failed: t.failed };
}

/** The baselines, in the order they are made: name -> `mimic mine` flags (null: random pairs). */
export const baselineRecipes: ReadonlyArray<{ name: string; mineArgs: string[] | null; what: string }> = [
  { name: "random-pairs", mineArgs: null, what: "random frame pairs of the same video, no geometric check" },
  { name: "mimic-preset", mineArgs: ["--preset", "mimic"], what: "mimic mine --preset mimic" },
  { name: "default-preset", mineArgs: [], what: "mimic mine (default preset)" },
  { name: "no-upper-bound", mineArgs: ["--overlap-upper", "100"], what: "mimic mine --overlap-upper 100" },
];

export interface BaselinesOptions {
  seed?: number;
  /** Redo baselines whose folder already has a stats.json (default: keep them). */
  force?: boolean;
  quiet?: boolean;
  runner?: MimicRunner;
  /** Only these baselines (default: all). */
  only?: string[];
}

/** Make the baseline datasets under `out`/<name>/. Returns each one's folder and whether it was reused. */
export async function makeBaselines(
  videos: string,
  out: string,
  opts: BaselinesOptions = {},
): Promise<Array<{ name: string; dir: string; reused: boolean }>> {
  if (!fs.existsSync(videos)) throw new Error(`videos folder ${videos} does not exist; pass the folder of videos to mine`);
  const run = opts.runner ?? runMimic;
  const made: Array<{ name: string; dir: string; reused: boolean }> = [];
  fs.mkdirSync(out, { recursive: true });
  for (const b of baselineRecipes) {
    if (opts.only && !opts.only.includes(b.name)) continue;
    const dir = path.join(out, b.name);
    if (!opts.force && fs.existsSync(path.join(dir, "stats.json")) && fs.existsSync(path.join(dir, "pairs.csv"))) {
      made.push({ name: b.name, dir, reused: true });
      continue;
    }
    if (!opts.quiet) process.stderr.write(`baseline ${b.name}: ${b.what}\n`);
    if (b.mineArgs === null) await makeRandomPairs(videos, dir, { ...randomPairsDefaults, seed: opts.seed ?? 0 }, { force: true });
    else {
      const code = await run(
        ["mine", videos, "--out", dir, "--force", ...b.mineArgs, ...(opts.quiet ? ["--quiet"] : [])],
        Boolean(opts.quiet),
      );
      if (code !== 0) throw new Error(`baseline ${b.name}: 'mimic mine' failed (exit ${code}); run it by hand to see why`);
    }
    made.push({ name: b.name, dir, reused: false });
  }
  return made;
}

const secs = (t0: number) => Math.round(performance.now() - t0) / 1000;
