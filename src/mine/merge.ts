// `mimic merge`: join the outputs of sharded mining runs (`mimic mine --shard i/N`) into one
// dataset. Shards must share the source and config hash. Records come out in video order, so the
// merged manifests (pairs, candidates, progress) equal those of one unsharded run byte for byte;
// stats.json and the dataset card are mine's, with the run fields summed over the shards.
import fs from "node:fs";
import path from "node:path";
import type { PairRecord } from "../contracts.js";
import { prepareOut, safeSegment } from "../io/outdir.js";
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
  if (shardDirs.length === 0) throw new Error("merge: give at least one shard folder");
  let source = "";
  let hash = "";
  let configJson = "";
  const results: VideoResult[] = [];
  const records: PairRecord[] = [];
  /** Per shard, the video ids whose progress line says done: only their pair folders are copied. */
  const doneIn = new Map<string, Set<string>>();
  for (const dir of shardDirs) {
    const cfgFile = path.join(dir, "config.json");
    if (!fs.existsSync(cfgFile)) throw new Error(`merge: ${dir} has no config.json. Fix: give folders written by 'mimic mine'`);
    const cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8")) as { configHash: string; source: string };
    safeSegment(`merge: ${cfgFile}: source`, cfg.source); // it names a folder under --out: never '..' or a path
    if (!hash) {
      hash = cfg.configHash;
      source = cfg.source;
      configJson = fs.readFileSync(cfgFile, "utf8");
    } else if (cfg.configHash !== hash || cfg.source !== source)
      throw new Error(
        `merge: ${dir} was mined with config ${cfg.configHash} / source '${cfg.source}', the first shard with ${hash} / '${source}'. Fix: merge only shards of one run`,
      );
    const done = new Set<string>();
    doneIn.set(dir, done);
    for (const line of readLines(path.join(dir, "progress.jsonl"))) {
      const r = JSON.parse(line) as VideoResult;
      results.push(r);
      if (r.status === "done") done.add(r.videoId);
    }
    readLines(path.join(dir, "pairs.jsonl")).forEach((line, i) => {
      const r = JSON.parse(line) as PairRecord;
      checkRecord(r, source, `${path.join(dir, "pairs.jsonl")} line ${i + 1}`);
      if (done.has(r.id.split("/")[1])) records.push(r);
    });
  }
  const seen = new Set<string>();
  for (const r of results) {
    if (seen.has(r.video))
      throw new Error(`merge: video ${r.video} appears in two shards. Fix: merge only shards of one run (same --shard N)`);
    seen.add(r.video);
  }
  // --out may not be, hold or sit inside a shard; --force replaces only a mimic-kit dataset; locked.
  const claim = prepareOut(out, { command: "merge", force: opts.force, inputs: shardDirs, owns: [source], log: opts.log });
  try {
    return writeMerged(shardDirs, doneIn, out, source, hash, configJson, results, records);
  } finally {
    claim.lock.release();
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
  const candidates = new Map<string, string[]>();
  for (const dir of shardDirs)
    for (const line of readLines(path.join(dir, "candidates.jsonl"))) {
      const video = (JSON.parse(line) as CandidateLine).video;
      if (merged.has(video)) candidates.set(video, [...(candidates.get(video) ?? []), line]);
    }
  const order = [...candidates.keys()].sort(byteOrder);
  fs.writeFileSync(
    path.join(out, "candidates.jsonl"),
    order
      .flatMap((v) => candidates.get(v) ?? [])
      .map((l) => `${l}\n`)
      .join(""),
  );
  const stats = mergedStats(shardDirs, source, hash, JSON.parse(configJson).config as MineConfig, results);
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
  source: string,
  hash: string,
  config: MineConfig,
  results: VideoResult[],
): MineStats & { mergedFrom: number } {
  const shards = shardDirs.map((d) => {
    const f = path.join(d, "stats.json");
    return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, "utf8")) as Partial<MineStats>) : {};
  });
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
