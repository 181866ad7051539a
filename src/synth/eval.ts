// `mimic eval-mining <mined-dir> --gt <synth-dir>`: mining quality against the ground truth of a
// synthetic dataset (`mimic synth`), for a dataset mined from its videos/.
//
// Per mined pair (pairs.jsonl: video, t1, t2, overlap, correspondence) the true correspondence of
// the two frames (truth.ts, on the miner's patch grid from <mined-dir>/config.json) gives:
//   precision           predicted patch pairs whose view-2 patch is the true partner (micro average)
//   precisionNeighbour  ... or one of its 8 neighbours (one patch of slack)
//   recall              truly overlapping view-1 patches that the pair maps at all
//   recallCorrect       truly overlapping view-1 patches mapped to their true partner
//   meanAbsOverlapError |mined overlap - true overlap| in percentage points
// Over every candidate pair the miner considered (its candidates.jsonl, else its sampling and
// candidate rule replayed):
//   keepRejectAccuracy  kept == (true overlap inside the band), with the confusion counts
import fs from "node:fs";
import path from "node:path";
import { openSynthScene, type SynthSceneReader } from "./dataset.js";
import { cropRegion, DEFAULT_TRUTH, type TruthOptions, type TruthView, trueCorrespondence } from "./truth.js";

/** The parts of the miner's config that define its frames, grid and band (mine/config.ts). */
export interface MinedGridConfig {
  everySec: number;
  size: number;
  patch: number;
  resize: "stretch" | "center-crop";
  cropBottom: number;
  overlapLower: number;
  overlapUpper: number;
  candidates: "consecutive" | "window";
  window: number;
}

const MIMIC_GRID: MinedGridConfig = {
  everySec: 1,
  size: 224,
  patch: 16,
  resize: "stretch",
  cropBottom: 0,
  overlapLower: 50,
  overlapUpper: 75,
  candidates: "consecutive",
  window: 1,
};

export interface EvalMiningResult {
  mined: string;
  gt: string;
  /** Mined pairs evaluated (those whose video is a scene of the gt dataset). */
  pairs: number;
  /** Mined pairs skipped because their video is not in the gt dataset. */
  skippedPairs: number;
  precision: number;
  precisionNeighbour: number;
  recall: number;
  recallCorrect: number;
  /** Percentage points. */
  meanAbsOverlapError: number;
  /** Fraction of kept pairs whose true overlap is inside the band. */
  keptInBand: number;
  keepRejectAccuracy: number;
  candidates: number;
  /** Where the candidate set came from: the miner's candidates.jsonl, or replayed from its config. */
  candidateSource: "candidates.jsonl" | "replayed";
  /** Scenes whose video the miner failed on (progress.jsonl); they have no candidates. */
  failedVideos: string[];
  /** Mean |mined - true overlap| (points) over all candidates with an overlap (candidates.jsonl only). */
  candidateOverlapError: number | null;
  confusion: { keptInBand: number; keptOutOfBand: number; rejectedInBand: number; rejectedOutOfBand: number };
  /** True overlap (%) per evaluated pair, in pairs.jsonl order. */
  perPair: { video: string; t1: number; t2: number; minedOverlap: number; trueOverlap: number; precision: number; recall: number }[];
  grid: MinedGridConfig;
}

interface MinedRecord {
  video: string;
  t1: number;
  t2: number;
  overlap: number;
  correspondence: Record<string, number>;
}

function readJsonl(file: string): MinedRecord[] {
  if (!fs.existsSync(file)) throw new Error(`${file} not found: is ${path.dirname(file)} a 'mimic mine' output?`);
  const out: MinedRecord[] = [];
  fs.readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (!line.trim()) return;
      let r: MinedRecord;
      try {
        r = JSON.parse(line);
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
      }
      if (typeof r.video !== "string" || typeof r.t1 !== "number" || typeof r.t2 !== "number" || typeof r.correspondence !== "object")
        throw new Error(`${file}:${i + 1}: a pair record needs video, t1, t2 and correspondence`);
      out.push(r);
    });
  return out;
}

/** The miner's grid config from <mined>/config.json ({config: MineConfig}), MIMIC defaults otherwise. */
export function minedGridConfig(minedDir: string): MinedGridConfig {
  const file = path.join(minedDir, "config.json");
  if (!fs.existsSync(file)) return { ...MIMIC_GRID };
  let j: { config?: unknown };
  try {
    j = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}. Fix: point at the output folder of 'mimic mine' (its config.json)`);
  }
  const c = (j.config ?? j) as Partial<MinedGridConfig>;
  const out = { ...MIMIC_GRID };
  for (const k of Object.keys(MIMIC_GRID) as (keyof MinedGridConfig)[]) if (c[k] !== undefined) (out as Record<string, unknown>)[k] = c[k];
  return out;
}

const sceneOf = (video: string): string => path.basename(video).replace(/\.[^.]+$/, "");
const neighbours = (a: number, b: number, n: number): boolean =>
  Math.abs(Math.floor(a / n) - Math.floor(b / n)) <= 1 && Math.abs((a % n) - (b % n)) <= 1;

/** Evaluate the mined dataset in `minedDir` against the synth dataset in `gtDir`. */
export async function evalMining(minedDir: string, gtDir: string, truthOpts: Partial<TruthOptions> = {}): Promise<EvalMiningResult> {
  const grid = minedGridConfig(minedDir);
  const records = readJsonl(path.join(minedDir, "pairs.jsonl"));
  const n = grid.size / grid.patch;
  const scenes = new Map<string, SynthSceneReader | null>();
  const scene = (video: string): SynthSceneReader | null => {
    const id = sceneOf(video);
    if (!scenes.has(id)) {
      try {
        scenes.set(id, openSynthScene(gtDir, id));
      } catch {
        scenes.set(id, null);
      }
    }
    return scenes.get(id) ?? null;
  };
  const optsFor = (s: SynthSceneReader): TruthOptions => ({
    ...DEFAULT_TRUTH,
    ...truthOpts,
    grid: { size: grid.size, patch: grid.patch, region: cropRegion(s.K.width, s.K.height, grid.cropBottom, grid.resize) },
  });
  const viewCache = new Map<string, TruthView>();
  const view = async (s: SynthSceneReader, f: number): Promise<TruthView> => {
    const key = `${s.poses.scene}/${f}`;
    let v = viewCache.get(key);
    if (!v) {
      v = await s.view(f);
      if (viewCache.size > 64) viewCache.clear();
      viewCache.set(key, v);
    }
    return v;
  };
  const lo = grid.overlapLower / 100;
  const hi = grid.overlapUpper / 100;
  const band = (o: number) => o > lo && o < hi; // exclusive, as the miner

  let predicted = 0;
  let correct = 0;
  let correctNb = 0;
  let trueValid = 0;
  let found = 0;
  let foundCorrect = 0;
  let absErr = 0;
  let keptInBand = 0;
  let skipped = 0;
  const perPair: EvalMiningResult["perPair"] = [];
  const kept = new Set<string>();
  for (const r of records) {
    const s = scene(r.video);
    if (!s) {
      skipped++;
      continue;
    }
    const f1 = s.frameAt(r.t1);
    const f2 = s.frameAt(r.t2);
    kept.add(`${s.poses.scene}|${f1}|${f2}`);
    const t = trueCorrespondence(await view(s, f1), await view(s, f2), optsFor(s));
    let pc = 0;
    let pred = 0;
    let fnd = 0;
    for (const [k, q] of Object.entries(r.correspondence)) {
      const p = Number(k);
      pred++;
      if (t.partner[p] === q) pc++;
      if (t.partner[p] >= 0 && neighbours(t.partner[p], q, n)) correctNb++;
    }
    let valid = 0;
    for (let p = 0; p < n * n; p++) {
      if (t.partner[p] < 0) continue;
      valid++;
      const q = r.correspondence[p];
      if (q !== undefined) {
        fnd++;
        if (q === t.partner[p]) foundCorrect++;
      }
    }
    predicted += pred;
    correct += pc;
    trueValid += valid;
    found += fnd;
    const mined = r.overlap > 1 ? r.overlap / 100 : r.overlap;
    absErr += Math.abs(mined - t.overlap) * 100;
    if (band(t.overlap)) keptInBand++;
    perPair.push({
      video: r.video,
      t1: r.t1,
      t2: r.t2,
      minedOverlap: mined * 100,
      trueOverlap: t.overlap * 100,
      precision: pred ? pc / pred : 0,
      recall: valid ? fnd / valid : 0,
    });
  }
  const evaluated = perPair.length;

  const conf = { keptInBand: 0, keptOutOfBand: 0, rejectedInBand: 0, rejectedOutOfBand: 0 };
  const count = (isKept: boolean, inB: boolean) => {
    if (isKept && inB) conf.keptInBand++;
    else if (isKept) conf.keptOutOfBand++;
    else if (inB) conf.rejectedInBand++;
    else conf.rejectedOutOfBand++;
  };
  // The candidates: from <mined>/candidates.jsonl when the miner wrote one (every candidate pair
  // with kept true/false), else replayed from its config (sampling and candidate rule).
  const candFile = path.join(minedDir, "candidates.jsonl");
  let candidateSource: "candidates.jsonl" | "replayed" = "replayed";
  let candOverlapErr = 0;
  let candOverlapN = 0;
  if (fs.existsSync(candFile)) {
    candidateSource = "candidates.jsonl";
    for (const line of fs.readFileSync(candFile, "utf8").split("\n")) {
      if (!line.trim()) continue;
      const c = JSON.parse(line) as { video: string; t1: number; t2: number; kept: boolean; overlap?: number };
      const s = scene(c.video);
      if (!s) continue;
      const t = trueCorrespondence(await view(s, s.frameAt(c.t1)), await view(s, s.frameAt(c.t2)), optsFor(s));
      count(Boolean(c.kept), band(t.overlap));
      if (typeof c.overlap === "number") {
        candOverlapErr += Math.abs((c.overlap > 1 ? c.overlap / 100 : c.overlap) - t.overlap) * 100;
        candOverlapN++;
      }
    }
  }
  // Replay: every gt scene with a video is considered (a video with no pairs may simply have
  // yielded none).
  const videosDir = path.join(gtDir, "videos");
  const sceneIds = fs.existsSync(videosDir)
    ? fs
        .readdirSync(videosDir)
        .filter((f) => f.endsWith(".poses.json"))
        .map((f) => f.replace(/\.poses\.json$/, ""))
        .sort()
    : [];
  // videos the miner failed on (progress.jsonl) have no candidates: leave them out of the replay
  const failed = new Set<string>();
  const progFile = path.join(minedDir, "progress.jsonl");
  if (fs.existsSync(progFile))
    for (const line of fs.readFileSync(progFile, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const p = JSON.parse(line) as { video?: string; status?: string };
        if (p.status === "failed" && p.video) failed.add(sceneOf(p.video));
      } catch {}
    }
  for (const id of candidateSource === "replayed" ? sceneIds.filter((x) => !failed.has(x)) : []) {
    const s = scene(id);
    if (!s) continue;
    const duration = s.poses.frames.length / s.poses.fps;
    const samples: number[] = [];
    for (let k = 0; k * grid.everySec < duration - 1e-9; k++) {
      const f = Math.ceil(k * grid.everySec * s.poses.fps - 1e-6);
      if (f < s.poses.frames.length && samples[samples.length - 1] !== f) samples.push(f);
    }
    const w = grid.candidates === "window" ? grid.window : 1;
    for (let i = 0; i < samples.length; i++)
      for (let j = 1; j <= w && i + j < samples.length; j++) {
        const f1 = samples[i];
        const f2 = samples[i + j];
        const t = trueCorrespondence(await view(s, f1), await view(s, f2), optsFor(s));
        count(kept.has(`${id}|${f1}|${f2}`), band(t.overlap));
      }
  }
  const candidates = conf.keptInBand + conf.keptOutOfBand + conf.rejectedInBand + conf.rejectedOutOfBand;
  return {
    mined: minedDir,
    gt: gtDir,
    pairs: evaluated,
    skippedPairs: skipped,
    precision: predicted ? correct / predicted : 0,
    precisionNeighbour: predicted ? correctNb / predicted : 0,
    recall: trueValid ? found / trueValid : 0,
    recallCorrect: trueValid ? foundCorrect / trueValid : 0,
    meanAbsOverlapError: evaluated ? absErr / evaluated : 0,
    keptInBand: evaluated ? keptInBand / evaluated : 0,
    keepRejectAccuracy: candidates ? (conf.keptInBand + conf.rejectedOutOfBand) / candidates : 0,
    candidates,
    candidateSource,
    failedVideos: [...failed].sort(),
    candidateOverlapError: candOverlapN ? candOverlapErr / candOverlapN : null,
    confusion: conf,
    perPair,
    grid,
  };
}
