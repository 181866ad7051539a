// `mimic merge`: join the outputs of sharded mining runs (`mimic mine --shard i/N`) into one
// dataset. Shards must share the source and config hash. Records come out in video order, so the
// merged manifests (pairs, candidates, progress) equal those of one unsharded run byte for byte;
// stats.json and the dataset card are mine's, with the run fields summed over the shards.
import fs from "node:fs";
import path from "node:path";
import type { PairRecord } from "../contracts.js";
import { UsageError } from "../io/errors.js";
import { prepareOut, realish, safeSegment } from "../io/outdir.js";
import { type MineStats, writeCard, writeStats } from "./card.js";
import type { MineConfig } from "./config.js";
import { byteOrder } from "./shard.js";
import { type CandidateLine, checkRecord, csvLine, readLines, totalsOf, type VideoResult } from "./writer.js";

export interface MergeResult {
  out: string;
  shards: number;
  videos: number;
  pairs: number;
}

export function mergeShards(shardDirs: string[], out: string, opts: { force?: boolean; log?: (msg: string) => void } = {}): MergeResult {
  if (shardDirs.length === 0) throw new UsageError("merge: give at least one shard folder");
  // Every shard is read and checked before --out is touched: a broken one leaves nothing behind.
  let source = "";
  let hash = "";
  let configJson = "";
  const results: VideoResult[] = [];
  const records: PairRecord[] = [];
  /** Per shard, the video ids whose progress line says done: only their pair folders are copied. */
  const doneIn = new Map<string, Set<string>>();
  /** candidates.jsonl lines by video, each shard's in the order mined. */
  const candidates = new Map<string, string[]>();
  const stats: Partial<MineStats>[] = [];
  const real = new Map<string, string>();
  for (const dir of shardDirs) {
    const cfgFile = path.join(dir, "config.json");
    if (!fs.existsSync(cfgFile)) throw new UsageError(`merge: ${dir} has no config.json. Fix: give folders written by 'mimic mine'`);
    const twin = real.get(realish(dir));
    if (twin !== undefined) throw new UsageError(`merge: the shard ${dir} is given twice (also as ${twin}). Fix: name each shard once`);
    real.set(realish(dir), dir);
    const cfg = parseJson(fs.readFileSync(cfgFile, "utf8"), cfgFile) as { configHash: string; source: string };
    safeSegment(`merge: ${cfgFile}: source`, cfg.source); // it names a folder under --out: never '..' or a path
    if (!hash) {
      hash = cfg.configHash;
      source = cfg.source;
      configJson = fs.readFileSync(cfgFile, "utf8");
    } else if (cfg.configHash !== hash || cfg.source !== source)
      throw new UsageError(
        `merge: ${dir} was mined with config ${cfg.configHash} / source '${cfg.source}', the first shard with ${hash} / '${source}'. Fix: merge only shards of one run`,
      );
    const done = new Set<string>();
    doneIn.set(dir, done);
    const progress = path.join(dir, "progress.jsonl");
    readLines(progress).forEach((line, i) => {
      const r = parseJson(line, `${progress} line ${i + 1}`) as VideoResult;
      results.push(r);
      if (r.status === "done") done.add(r.videoId);
    });
    const pairs = path.join(dir, "pairs.jsonl");
    readLines(pairs).forEach((line, i) => {
      const r = parseJson(line, `${pairs} line ${i + 1}`) as PairRecord;
      checkRecord(r, source, `${pairs} line ${i + 1}`);
      if (done.has(r.id.split("/")[1])) records.push(r);
    });
    const cands = path.join(dir, "candidates.jsonl");
    readLines(cands).forEach((line, i) => {
      const video = (parseJson(line, `${cands} line ${i + 1}`) as CandidateLine).video;
      candidates.set(video, [...(candidates.get(video) ?? []), line]);
    });
    const statsFile = path.join(dir, "stats.json");
    stats.push(fs.existsSync(statsFile) ? (parseJson(fs.readFileSync(statsFile, "utf8"), statsFile) as Partial<MineStats>) : {});
  }
  const seen = new Set<string>();
  for (const r of results) {
    if (seen.has(r.video))
      throw new UsageError(`merge: video ${r.video} appears in two shards. Fix: merge only shards of one run (same --shard N)`);
    seen.add(r.video);
  }
  // --out may not be, hold or sit inside a shard; --force replaces only a mimic-kit dataset; locked.
  const claim = prepareOut(out, { command: "merge", force: opts.force, inputs: shardDirs, owns: [source], log: opts.log });
  try {
    return writeMerged(shardDirs, doneIn, out, source, hash, configJson, results, records, candidates, stats);
  } finally {
    claim.lock.release();
  }
}

/** A shard's JSON (a file, or one line of a .jsonl), or a UsageError naming where it is broken. */
function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(
      `merge: ${where} is not valid JSON (${(e as Error).message}). Fix: finish that shard with 'mimic mine --resume', or mine it again`,
    );
  }
}

function writeMerged(
  shardDirs: string[],
  doneIn: Map<string, Set<string>>,
  out: string,
  source: string,
  hash: string,
  configJson: string,
  results: VideoResult[],
  records: PairRecord[],
  candidates: Map<string, string[]>,
  shardStats: Partial<MineStats>[],
): MergeResult {
  // Copy the pair folders of finished videos: an interrupted shard also holds folders of the video
  // it was mining (and temp folders), which no manifest line names.
  for (const dir of shardDirs) {
    const srcRoot = path.join(dir, source);
    if (!fs.existsSync(srcRoot)) continue;
    for (const vid of fs.readdirSync(srcRoot)) {
      if (!doneIn.get(dir)?.has(vid)) continue;
      // Copy real folders only: a symlink in a shard would bring in files from anywhere.
      if (!fs.lstatSync(path.join(srcRoot, vid)).isDirectory()) continue;
      fs.cpSync(path.join(srcRoot, vid), path.join(out, source, vid), { recursive: true, verbatimSymlinks: true });
    }
  }
  // Manifests in video order (then pair number), as an unsharded run writes them.
  const videoOf = new Map(results.map((r) => [r.videoId, r.video]));
  const key = (r: PairRecord) => videoOf.get(r.id.split("/")[1]) ?? "";
  records.sort((a, b) => byteOrder(key(a), key(b)) || Number(a.id.split("/")[2]) - Number(b.id.split("/")[2]));
  results.sort((a, b) => byteOrder(a.video, b.video));
  fs.writeFileSync(path.join(out, "config.json"), configJson);
  fs.writeFileSync(path.join(out, "pairs.jsonl"), records.map((r) => `${JSON.stringify(r)}\n`).join(""));
  fs.writeFileSync(path.join(out, "pairs.csv"), ["path1,path2,correspondence", ...records.map(csvLine)].map((l) => `${l}\n`).join(""));
  fs.writeFileSync(path.join(out, "progress.jsonl"), results.map((r) => `${JSON.stringify(r)}\n`).join(""));
  // Candidates of the videos merged, in video order (each video's lines in the order mined).
  const merged = new Set(results.map((r) => r.video));
  const order = [...candidates.keys()].filter((v) => merged.has(v)).sort(byteOrder);
  fs.writeFileSync(
    path.join(out, "candidates.jsonl"),
    order
      .flatMap((v) => candidates.get(v) ?? [])
      .map((l) => `${l}\n`)
      .join(""),
  );
  const stats = mergedStats(shardDirs, shardStats, source, hash, JSON.parse(configJson).config as MineConfig, results);
  writeStats(out, stats);
  writeCard(out, stats);
  return { out, shards: shardDirs.length, videos: results.length, pairs: records.length };
}

/**
 * stats.json of the merged dataset: mine's fields, totals over the merged videos, and run fields
 * summed over the shards' runs (seconds are machine-seconds; rates are per machine-second).
 */
function mergedStats(
  shardDirs: string[],
  shards: Partial<MineStats>[],
  source: string,
  hash: string,
  config: MineConfig,
  results: VideoResult[],
): MineStats & { mergedFrom: number } {
  const run = { seconds: 0, videos: 0, candidates: 0, frames: 0, stageSeconds: {} as Record<string, number> };
  for (const s of shards) {
    if (!s.run) continue;
    run.seconds += s.run.seconds;
    run.videos += s.run.videos;
    run.candidates += s.run.candidates;
    run.frames += s.run.framesPerSec * s.run.seconds;
    for (const [k, v] of Object.entries(s.run.stageSeconds ?? {})) run.stageSeconds[k] = (run.stageSeconds[k] ?? 0) + v;
  }
  const r3 = (v: number) => Math.round(v * 1e3) / 1e3;
  const uniq = (xs: Array<string | undefined>) => [...new Set(xs.filter((x): x is string => !!x))].join("; ");
  return {
    source,
    configHash: hash,
    config,
    input: uniq(shards.map((s) => s.input)) || shardDirs.join(", "),
    shard: null,
    ignoredFiles: Math.max(0, ...shards.map((s) => s.ignoredFiles ?? 0)),
    ...totalsOf(results),
    run: {
      seconds: r3(run.seconds),
      videos: run.videos,
      candidates: run.candidates,
      candidatesPerSec: r3(run.candidates / Math.max(run.seconds, 1e-9)),
      framesPerSec: r3(run.frames / Math.max(run.seconds, 1e-9)),
      stageSeconds: Object.fromEntries(Object.entries(run.stageSeconds).map(([k, v]) => [k, r3(v)])),
    },
    adapter: uniq(shards.map((s) => s.adapter)),
    mergedFrom: shardDirs.length,
  };
}
