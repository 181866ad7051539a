// The mined dataset on disk (README.md, "The mined dataset"), written crash-safely:
//
//   <out>/<source>/<video-id>/<pair-no>/0000.jpg 0001.jpg corresponding.json
//   <out>/pairs.csv       path1,path2,correspondence (relative to <out>; MIMIC's loader columns)
//   <out>/pairs.jsonl     one PairRecord per line, with the config hash and seed
//   <out>/progress.jsonl  one VideoResult per finished (or failed) video: the resume journal
//   <out>/candidates.jsonl one line per verified candidate pair (overlap, kept, reason): for the report
//   <out>/config.json     the effective config and its hash
//   <out>/stats.json      counts, rejection reasons, timings   <out>/README.md  the dataset card
//
// Each pair is written into a temp folder and renamed into place. A video's manifest lines are
// appended when the video is finished, followed by its progress line; a video counts as finished
// only when that progress line is written, so on
// --resume everything of unfinished videos (folders and manifest lines) is dropped and redone:
// no duplicates, no partial pairs, and the manifests come out byte-identical to an uninterrupted run.
import fs from "node:fs";
import path from "node:path";
import type { PairRecord } from "../contracts.js";
import { encodeJpeg, type RgbImage } from "../image/io.js";
import { UsageError } from "../io/errors.js";
import { type OutLock, prepareOut, safeSegment } from "../io/outdir.js";
import type { MineConfig } from "./config.js";
import { byteOrder } from "./shard.js";

/** What happened to one video; one line of progress.jsonl. */
export interface VideoResult {
  video: string; // path relative to the input root (or as listed)
  videoId: string;
  status: "done" | "failed";
  error?: string;
  frames: number; // sampled frames decoded
  candidates: number; // candidate pairs verified
  kept: number;
  rejected: Record<string, number>; // reason -> count
  seconds: number; // wall time spent on this video
  /** What went wrong without stopping it, naming the file (a skipped frame of a sequence, a truncated video). */
  warnings?: string[];
}

/** One verified candidate pair (a line of candidates.jsonl). */
export interface CandidateLine {
  video: string;
  t1: number;
  t2: number;
  /** Fraction of patches with a partner, or null when no homography was found. */
  overlap: number | null;
  kept: boolean;
  reason?: string;
}

/** <out>/config.json: the effective config (mimic mine's: a MineConfig) and its hash; the report reads it through this type. */
export interface DatasetConfigFile<C = MineConfig> {
  configHash: string;
  source: string;
  config: C;
}

export interface MinedPair {
  t1: number;
  t2: number;
  img1: RgbImage;
  img2: RgbImage;
  H: number[];
  inliers: number;
  overlap: number;
  correspondence: Record<number, number>;
}

export interface WriterOptions {
  source: string;
  config: unknown;
  configHash: string;
  seed: number;
  jpegQuality: number;
  /** Continue a previous run in `out` (same config hash required). */
  resume: boolean;
  /** Replace a previous mimic-kit output in `out` (only the entries mine wrote are removed). */
  force: boolean;
  /** What the run reads (input folder, list file, videos): `out` may not be, hold or sit in one. */
  inputs?: string[];
  /** "merge" for merged datasets (default "mine"). */
  command?: "mine" | "merge";
  /** Where --force removals and lock take-overs are reported (default stderr). */
  log?: (msg: string) => void;
}

export class DatasetWriter {
  /** Videos already finished (from progress.jsonl), by relative path. */
  readonly finished = new Map<string, VideoResult>();
  private lock: OutLock | null = null;

  private constructor(
    readonly out: string,
    readonly opts: WriterOptions,
  ) {}

  static open(out: string, opts: WriterOptions): DatasetWriter {
    safeSegment("the source label", opts.source);
    // Checked before the folder is claimed: a refused --resume leaves the marker as it was (it
    // would otherwise list the new source as mimic-kit's, for a later --force to delete).
    if (opts.resume) checkResumable(out, opts);
    // Refuses an --out that is or holds an input, a non-empty one without --resume/--force, and
    // --force on a folder mimic-kit did not write; --force removes only what mine wrote; locks.
    const claim = prepareOut(out, {
      command: opts.command ?? "mine",
      resume: opts.resume,
      force: opts.force,
      inputs: opts.inputs,
      owns: [opts.source],
      log: opts.log,
    });
    const w = new DatasetWriter(out, opts);
    w.lock = claim.lock;
    try {
      const srcDir = path.join(out, opts.source);
      if (fs.existsSync(srcDir) && !fs.lstatSync(srcDir).isDirectory())
        throw new Error(
          `${srcDir} is not a folder (a file or a symlink); mimic-kit writes pairs only into folders it made. Fix: choose another --out`,
        );
      if (claim.existed && opts.resume) w.recover();
      const file: DatasetConfigFile<unknown> = { configHash: opts.configHash, source: opts.source, config: opts.config };
      fs.writeFileSync(path.join(out, "config.json"), `${JSON.stringify(file, null, 2)}\n`);
      if (!fs.existsSync(w.csvPath)) fs.writeFileSync(w.csvPath, "path1,path2,correspondence\n");
      if (!fs.existsSync(w.jsonlPath)) fs.writeFileSync(w.jsonlPath, "");
    } catch (e) {
      w.close();
      throw e;
    }
    return w;
  }

  /** Release the output folder's lock (the run is over). */
  close(): void {
    this.lock?.release();
    this.lock = null;
  }

  get csvPath(): string {
    return path.join(this.out, "pairs.csv");
  }
  get jsonlPath(): string {
    return path.join(this.out, "pairs.jsonl");
  }
  get candidatesPath(): string {
    return path.join(this.out, "candidates.jsonl");
  }
  get progressPath(): string {
    return path.join(this.out, "progress.jsonl");
  }

  /** Bring a previous run's folder back to the state "finished videos only". */
  private recover(): void {
    for (const line of readLines(this.progressPath)) {
      try {
        const r = JSON.parse(line) as VideoResult;
        // A video that failed for a transient reason (I/O, no memory, too many open files) is
        // retried: it is dropped here like an unfinished one.
        if (r.status === "failed" && isTransient(r.error)) this.finished.delete(r.video);
        else this.finished.set(r.video, r);
      } catch {
        // a torn last line from a crash: that video is not finished
      }
    }
    const done = new Set([...this.finished.values()].map((r) => r.videoId));
    // progress.jsonl: keep only whole lines.
    rewriteLines(
      this.progressPath,
      [...this.finished.values()].map((r) => JSON.stringify(r)),
    );
    // Manifests: keep lines of finished videos only, in their original order.
    const records: PairRecord[] = [];
    readLines(this.jsonlPath).forEach((line, i) => {
      let r: PairRecord;
      try {
        r = JSON.parse(line) as PairRecord;
      } catch {
        return;
      }
      checkRecord(r, this.opts.source, `${this.jsonlPath} line ${i + 1}`);
      if (done.has(r.id.split("/")[1])) records.push(r);
    });
    rewriteLines(
      this.jsonlPath,
      records.map((r) => JSON.stringify(r)),
    );
    rewriteLines(this.csvPath, ["path1,path2,correspondence", ...records.map(csvLine)]);
    const finishedVideos = new Set(this.finished.keys());
    rewriteLines(
      this.candidatesPath,
      readLines(this.candidatesPath).filter((l) => {
        try {
          return finishedVideos.has((JSON.parse(l) as CandidateLine).video);
        } catch {
          return false;
        }
      }),
    );
    // Pair folders of unfinished videos (and temp folders) go.
    const srcDir = path.join(this.out, this.opts.source);
    // (srcDir is a real folder directly under out: open() checked; a symlinked entry is unlinked, not followed.)
    if (fs.existsSync(srcDir))
      for (const vid of fs.readdirSync(srcDir))
        if (!done.has(vid) || fs.lstatSync(path.join(srcDir, vid)).isSymbolicLink())
          fs.rmSync(path.join(srcDir, vid), { recursive: true, force: true });
  }

  /** Write one pair's folder atomically. Returns its record (appended by finishVideo). */
  async writePair(video: string, videoId: string, pairNo: number, p: MinedPair): Promise<PairRecord> {
    const rel = `${this.opts.source}/${videoId}/${pairNo}`;
    const dir = path.join(this.out, rel);
    const tmp = path.join(this.out, this.opts.source, videoId, `.tmp-${pairNo}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const [j1, j2] = await Promise.all([encodeJpeg(p.img1, this.opts.jpegQuality), encodeJpeg(p.img2, this.opts.jpegQuality)]);
    fs.writeFileSync(path.join(tmp, "0000.jpg"), j1);
    fs.writeFileSync(path.join(tmp, "0001.jpg"), j2);
    fs.writeFileSync(path.join(tmp, "corresponding.json"), `${JSON.stringify(p.correspondence)}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    const record: PairRecord & { config: string; seed: number } = {
      id: rel,
      source: this.opts.source,
      video,
      t1: round6(p.t1),
      t2: round6(p.t2),
      path1: `${rel}/0000.jpg`,
      path2: `${rel}/0001.jpg`,
      H: p.H.map((v) => Number(v.toPrecision(10))),
      inliers: p.inliers,
      overlap: round6(p.overlap),
      correspondence: p.correspondence,
      config: this.opts.configHash,
      seed: this.opts.seed,
    };
    return record;
  }

  /**
   * Mark a video finished: append its pairs' manifest lines, then its progress line (the resume
   * point). A failed video's pair folders are removed and it contributes no manifest lines.
   */
  finishVideo(r: VideoResult, records: PairRecord[], candidates: CandidateLine[] = []): void {
    if (candidates.length) fs.appendFileSync(this.candidatesPath, candidates.map((c) => `${JSON.stringify(c)}\n`).join(""));
    if (r.status === "failed") fs.rmSync(path.join(this.out, this.opts.source, r.videoId), { recursive: true, force: true });
    else if (records.length) {
      fs.appendFileSync(this.jsonlPath, records.map((x) => `${JSON.stringify(x)}\n`).join(""));
      fs.appendFileSync(this.csvPath, records.map((x) => `${csvLine(x)}\n`).join(""));
    }
    this.finished.set(r.video, r);
    fs.appendFileSync(this.progressPath, `${JSON.stringify(r)}\n`);
  }

  /** Totals over every finished video (this run and resumed ones), in video order. */
  totals(): Totals {
    return totalsOf([...this.finished.values()]);
  }
}

/** A --resume must use the config and source of the run in `out` (its config.json): else a UsageError. */
function checkResumable(out: string, opts: WriterOptions): void {
  const cfgFile = path.join(out, "config.json");
  if (!fs.existsSync(cfgFile)) return;
  let prev: { configHash?: unknown; source?: unknown };
  try {
    prev = JSON.parse(fs.readFileSync(cfgFile, "utf8"));
  } catch (e) {
    throw new UsageError(
      `cannot resume ${out}: ${cfgFile} is not readable JSON (${(e as Error).message}). Fix: use --force, or a new --out`,
    );
  }
  if (prev.configHash !== opts.configHash || prev.source !== opts.source)
    throw new UsageError(
      `cannot resume ${out}: it was mined with config ${prev.configHash} (source '${prev.source}'), this run has ${opts.configHash} (source '${opts.source}'). Fix: use the same flags as that run, or a new --out`,
    );
}

export interface Totals {
  videos: number;
  done: number;
  failed: number;
  frames: number;
  candidates: number;
  kept: number;
  rejected: Record<string, number>;
  failures: Array<{ video: string; error: string }>;
}

export function totalsOf(results: VideoResult[]): Totals {
  const t: Totals = { videos: 0, done: 0, failed: 0, frames: 0, candidates: 0, kept: 0, rejected: {}, failures: [] };
  for (const r of [...results].sort((a, b) => byteOrder(a.video, b.video))) {
    t.videos++;
    if (r.status === "done") t.done++;
    else {
      t.failed++;
      t.failures.push({ video: r.video, error: r.error ?? "unknown error" });
    }
    t.frames += r.frames;
    t.candidates += r.candidates;
    t.kept += r.kept;
    for (const [k, v] of Object.entries(r.rejected)) t.rejected[k] = (t.rejected[k] ?? 0) + v;
  }
  return t;
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * A record read back from a manifest must name its own pair folder <source>/<video-id>/<n> and the
 * two images in it: pairs.csv is rebuilt from these, and train reads the paths.
 */
export function checkRecord(r: PairRecord, source: string, where: string): void {
  const m = typeof r.id === "string" ? /^([^/\\]+)\/([^/\\]+)\/(\d+)$/.exec(r.id) : null;
  if (!m || m[1] !== source || m[2] === "." || m[2] === ".." || r.path1 !== `${r.id}/0000.jpg` || r.path2 !== `${r.id}/0001.jpg`)
    throw new UsageError(
      `${where}: record ${JSON.stringify({ id: r.id, path1: r.path1, path2: r.path2 })} is not a pair of source '${source}' (<source>/<video-id>/<n>/0000.jpg, 0001.jpg). Fix: repair the manifest, or mine into a new --out`,
    );
}

/** Whether a video's error is worth retrying on --resume (an errno of the moment, not a broken file). */
export function isTransient(error: string | undefined): boolean {
  return /\b(EIO|EAGAIN|EBUSY|EINTR|EMFILE|ENFILE|ENOMEM|ENOSPC|EDQUOT|ETIMEDOUT|ECONNRESET|ESTALE)\b/.test(error ?? "");
}

/** One pairs.csv row (RFC 4180 quoting where needed). */
export function csvLine(r: Pick<PairRecord, "path1" | "path2" | "id">): string {
  const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [r.path1, r.path2, `${r.id}/corresponding.json`].map(q).join(",");
}

/** Whole lines of a text file (a torn last line without its newline is dropped). */
export function readLines(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, "utf8");
  const lines = text.split("\n");
  lines.pop(); // after the last "\n" (or a torn line)
  return lines.filter((l) => l.length > 0);
}

function rewriteLines(file: string, lines: string[]): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, lines.map((l) => `${l}\n`).join(""));
  fs.renameSync(tmp, file);
}
