// The mining pipeline (`minePairs`, used by `mimic mine` and examples/mine-folder.ts):
//
//   videos (sorted, sharded) --decode (ffmpeg, one pass, next video prefetched)--> Frames at size x size
//     --per batch of frames, one submission: RGB->gray, sharpness, SIFT--> Features
//     --candidate pairs (consecutive, or a window of k partners)--> twoViewBatch (match, RANSAC,
//       patch correspondences on the GPU) --filters--> kept pairs --> DatasetWriter
//
// Memory stays bounded: per video only the last `window + 1` frames and the current batch are held,
// the next video's decoder is stopped by backpressure after a fixed number of frames.
import fs from "node:fs";
import path from "node:path";
import type { Frame, PairRecord } from "../contracts.js";
import type { SiftConfig } from "../features/config.js";
import { createFeatureStore, destroyFeatureStore, type FeatureStore, releaseFeatures, type StoredFeatures } from "../features/store.js";
import { correspondenceRecord } from "../geometry/correspondence.js";
import type { TwoViewConfig } from "../geometry/two_view.js";
import { describeAdapter, type Gpu, getGpu } from "../gpu/device.js";
import { UsageError } from "../io/errors.js";
import { safeSegment } from "../io/outdir.js";
import { decodeFrames, type VideoWarning } from "../video/decode.js";
import { listVideos, VIDEO_EXTENSIONS, type VideoEntry, type VideoList, videoIdOf } from "../video/folder.js";
import { VideoError } from "../video/probe.js";
import { decodeSequence, sequenceTimes } from "../video/sequence.js";
import { type MineStats, writeCard, writeStats } from "./card.js";
import { configHash, type MineConfig, validateMineConfig } from "./config.js";
import { type MineProgress, RunProgress } from "./progress.js";
import { byteOrder, inShard, type Shard, videoId } from "./shard.js";
import { describeBatch, isBlurry, stageConfigs, type Verdict, verifyPairs, workingFrame } from "./verify.js";
import { type CandidateLine, DatasetWriter, type VideoResult } from "./writer.js";

export interface MineOptions {
  /**
   * A folder searched recursively for videos and frame sequences (folders of 2+ images), a text
   * file listing videos and sequence folders, or one video file.
   */
  input: string;
  /** Output dataset folder. */
  out: string;
  /** Label of the output folder (default: the input's name). */
  source?: string;
  config: MineConfig;
  resume?: boolean;
  force?: boolean;
  shard?: Shard | null;
  quiet?: boolean;
  /**
   * Called before the first video, when each video starts and finishes, and after each batch of
   * frames within a video: counts within the video and the run, rates and an ETA (progress.ts).
   */
  onProgress?: (p: MineProgress) => void;
  /** Frames per GPU submission (default 8). */
  batch?: number;
}

export interface MineSummary extends MineStats {
  out: string;
}

/** Mine every video of `opts.input` into `opts.out`. One broken video never stops the run. */
export async function minePairs(opts: MineOptions): Promise<MineSummary> {
  const cfg = opts.config;
  validateMineConfig(cfg);
  const t0 = performance.now();
  if (!fs.existsSync(opts.input))
    throw new UsageError(`input ${opts.input} does not exist. Fix: give a folder of videos, a list file or a video`);
  const list = listInput(opts.input);
  if (list.videos.length === 0 && list.errors.length === 0)
    throw new Error(
      `no videos in ${opts.input} (extensions ${VIDEO_EXTENSIONS.join(" ")}${list.ignored.length ? `; ${list.ignored.length} other file(s) ignored` : ""}). Fix: point it at a folder or list of videos`,
    );
  // Frame times of the sequences, checked before anything is written: a sequence without
  // timestamp names needs cfg.fps (VideoError 'needs-fps', naming the folders).
  const times = new Map<string, number[]>();
  const noFps: string[] = [];
  for (const v of list.videos)
    if (v.sequence && inShard(v.rel, opts.shard ?? null)) {
      try {
        times.set(v.rel, sequenceTimes(v.sequence, cfg.fps));
      } catch {
        noFps.push(v.path);
      }
    }
  if (noFps.length)
    throw new VideoError(
      "needs-fps",
      noFps[0],
      `${noFps.length === 1 ? "this frame folder's names are" : `the names of ${noFps.length} frame folders (this one first) are`} not timestamps (like 1341847980.722988.png), so the frame rate is needed`,
      "pass --fps <frames per second>",
    );
  const source = sourceLabel(opts.input, opts.source);
  const hash = configHash(cfg);
  const writer = DatasetWriter.open(opts.out, {
    source,
    config: cfg,
    configHash: hash,
    seed: cfg.seed,
    jpegQuality: cfg.jpegQuality,
    resume: Boolean(opts.resume),
    force: Boolean(opts.force),
    // --out may not be, hold or sit inside the input, nor hold a listed video (--force would delete it).
    inputs: [opts.input, ...list.videos.map((v) => v.path)],
  });
  try {
    return await mineInto(writer, list, times, source, hash, t0, opts);
  } finally {
    writer.close();
  }
}

/**
 * The name of <out>/<source>: --source as given (odd characters replaced; '', '.', '..' and
 * separators refused), or the input's name without its extension with leading dots dropped
 * (a video named '...mp4' gives 'videos', never '..').
 */
export function sourceLabel(input: string, given?: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_");
  if (given !== undefined) return safeSegment("--source", clean(safeSegment("--source", given)));
  const stem = clean(path.basename(path.resolve(input)).replace(/\.[^.]+$/, "")).replace(/^\.+/, "");
  return safeSegment("the default source label", stem || "videos");
}

async function mineInto(
  writer: DatasetWriter,
  list: VideoList,
  times: Map<string, number[]>,
  source: string,
  hash: string,
  t0: number,
  opts: MineOptions,
): Promise<MineSummary> {
  const cfg = opts.config;
  const gpu = await getGpu();
  const stages = stageConfigs(cfg);
  const videos = list.videos.filter((v) => inShard(v.rel, opts.shard ?? null)).sort((a, b) => byteOrder(a.rel, b.rel));
  const todo = videos.filter((v) => !writer.finished.has(v.rel));

  // Entries that could not even be listed (a list file naming a missing video) are failed videos.
  for (const e of list.errors) {
    const rel = path.relative(path.resolve(opts.input), e.file) || e.file;
    if (!writer.finished.has(rel) && inShard(rel, opts.shard ?? null)) writer.finishVideo(failed(rel, e.message), []);
  }

  const tracker = new RunProgress(todo, cfg.everySec, times, opts.onProgress);
  opts.onProgress?.(tracker.snapshot());
  const timings: Record<string, number> = {}; // seconds per stage, on the main thread's clock
  let runFrames = 0;
  let runCandidates = 0;
  // The next video is decoded while the GPU works on the current one.
  const decodeNext = (v: VideoEntry) => decodeForMining(v, cfg, gpu, times.get(v.rel));
  let next: Prefetch | null = todo.length ? decodeNext(todo[0]) : null;
  // Descriptors stay on the GPU from SIFT to matching: one store for the run (it grows as needed;
  // a sample's rows go back when the sample is forgotten).
  const batchSize = opts.batch ?? 8;
  const k = cfg.candidates === "window" ? cfg.window : 1;
  const store = createFeatureStore(gpu, { rows: (batchSize + k + 1) * 1024, rootSift: Boolean(stages.twoView.match.rootSift) });
  try {
    for (const [i, v] of todo.entries()) {
      const frames = next as Prefetch;
      next = i + 1 < todo.length ? decodeNext(todo[i + 1]) : null;
      const tv = performance.now();
      tracker.start(i);
      let result: VideoResult;
      let records: PairRecord[] = [];
      let candidates: CandidateLine[] = [];
      try {
        const r = await mineVideo(gpu, v, frames, cfg, stages, writer, store, batchSize, timings, (n, c, kept) =>
          tracker.batch(n, c, kept),
        );
        records = r.records;
        candidates = r.candidates;
        result = { ...r.result, seconds: round3((performance.now() - tv) / 1e3) };
      } catch (e) {
        frames.stop();
        result = failed(v.rel, (e as Error).message);
      }
      writer.finishVideo(result, records, candidates);
      runFrames += result.frames;
      runCandidates += result.candidates;
      tracker.finish(result.frames, result.candidates, result.kept);
      if (result.status === "failed" && !opts.quiet) process.stderr.write(`mimic mine: ${v.rel}: ${result.error}\n`);
      if (!opts.quiet) for (const w of result.warnings ?? []) process.stderr.write(`mimic mine: ${v.rel}: ${w}\n`);
    }
  } finally {
    destroyFeatureStore(store);
  }

  tracker.stop();
  const seconds = (performance.now() - t0) / 1e3;
  const stats: MineStats = {
    source,
    configHash: hash,
    config: cfg,
    input: opts.input,
    shard: opts.shard ? `${opts.shard.index}/${opts.shard.count}` : null,
    ignoredFiles: list.ignored.length,
    ...writer.totals(),
    run: {
      seconds: round3(seconds),
      videos: todo.length,
      candidates: runCandidates,
      candidatesPerSec: round3(runCandidates / Math.max(seconds, 1e-9)),
      framesPerSec: round3(runFrames / Math.max(seconds, 1e-9)),
      stageSeconds: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, round3(v)])),
    },
    adapter: describeAdapter(gpu.adapter),
  };
  writeStats(opts.out, stats);
  writeCard(opts.out, stats);
  return { ...stats, out: opts.out };
}

const round3 = (v: number) => Math.round(v * 1e3) / 1e3;

/**
 * Decode a video's (or frame sequence's) samples at size x size. 'area': ffmpeg (sharp for
 * sequences) crops and scales. 'opencv-linear': frames are decoded at the native size, then
 * cropped and resized on the host (workingFrame).
 */
function decodeForMining(v: VideoEntry, cfg: MineConfig, gpu: Gpu, times?: number[]): Prefetch {
  const size = { width: cfg.size, height: cfg.size };
  if (v.sequence) {
    const seq = {
      videoId: videoId(v.rel),
      times: times ?? sequenceTimes(v.sequence, cfg.fps),
      sampling: { kind: "interval" as const, seconds: cfg.everySec },
    };
    if (cfg.scaler === "area")
      return new Prefetch(
        decodeSequence(v.sequence, { ...seq, size, resize: cfg.resize, crop: cfg.cropBottom ? { bottom: cfg.cropBottom } : undefined }),
      );
    return new Prefetch(decodeSequence(v.sequence, seq), 32, (f) => workingFrame(f, cfg));
  }
  // On a CPU adapter (lavapipe) the decoder and the "GPU" share the cores: one decoder thread
  // costs less CPU in all (no frame-threading overhead); on a real GPU, ffmpeg's default threads.
  const threads = gpu.adapter.isFallback ? 1 : undefined;
  const base = { videoId: videoId(v.rel), sampling: { kind: "interval" as const, seconds: cfg.everySec }, threads };
  if (cfg.scaler === "area")
    return new Prefetch(
      decodeFrames(v.path, { ...base, size, resize: cfg.resize, crop: cfg.cropBottom ? { bottom: cfg.cropBottom } : undefined }),
    );
  return new Prefetch(decodeFrames(v.path, base), 32, (f) => workingFrame(f, cfg));
}

/** The videos and frame sequences of a folder or list file, or a single video file. */
function listInput(input: string): VideoList {
  const ext = path.extname(input).toLowerCase();
  if (VIDEO_EXTENSIONS.includes(ext) && fs.existsSync(input) && fs.statSync(input).isFile()) {
    const rel = path.basename(input);
    return { source: input, videos: [{ path: path.resolve(input), rel, id: videoIdOf(rel) }], ignored: [], errors: [] };
  }
  return listVideos(input, { sequences: true });
}

function failed(rel: string, error: string): VideoResult {
  return { video: rel, videoId: videoId(rel), status: "failed", error, frames: 0, candidates: 0, kept: 0, rejected: {}, seconds: 0 };
}

interface Sample {
  index: number; // sample number within the video
  frame: Frame;
  feats: StoredFeatures; // descriptors in the run's feature store (GPU)
  sharp: number;
}

/** A candidate's verdict (verify.ts) and which samples it joins. */
interface Outcome extends Verdict {
  a: number;
  b: number;
}

/** Mine one video: returns its pairs (already written as folders) and counts. */
async function mineVideo(
  gpu: Gpu,
  v: VideoEntry,
  frames: Prefetch,
  cfg: MineConfig,
  stages: { sift: SiftConfig; twoView: TwoViewConfig },
  writer: DatasetWriter,
  store: FeatureStore,
  batchSize: number,
  timings: Record<string, number>,
  /** After each batch: samples decoded, candidates verified, pairs kept so far in this video. */
  onBatch?: (samples: number, candidates: number, kept: number) => void,
): Promise<{ result: VideoResult; records: PairRecord[]; candidates: CandidateLine[] }> {
  const miner = new VideoMiner(gpu, v, cfg, stages, writer, timings, store);
  try {
    let batch: Frame[] = [];
    let tf = performance.now();
    for await (const f of frames) {
      timings.decodeWait = (timings.decodeWait ?? 0) + (performance.now() - tf) / 1e3;
      batch.push(f);
      if (batch.length === batchSize) {
        await miner.addBatch(batch);
        onBatch?.(miner.samples, miner.candidateCount, miner.keptCount);
        batch = [];
      }
      tf = performance.now();
    }
    if (batch.length) {
      await miner.addBatch(batch);
      onBatch?.(miner.samples, miner.candidateCount, miner.keptCount);
    }
    await miner.decideRemaining();
  } catch (e) {
    await miner.abandon();
    throw e;
  }
  return miner.finish(frames.warnings);
}

/**
 * The state of mining one video and its stages, in the order a batch of frames goes through them:
 *   addBatch: describe (features + sharpness on the GPU) -> pair (candidates completed by the batch,
 *     blurry frames left out) -> verify (match, RANSAC, correspondences) -> decide (consecutive: at
 *     once; window: an anchor once all its partners are verified, the one nearest the overlap
 *     band's centre wins) -> keep (the pair is written while the GPU goes on) -> forget (samples no
 *     pending pair needs)
 *   decideRemaining (at the end of the video) -> finish (await the writes, counts and warnings).
 */
class VideoMiner {
  private readonly id: string;
  /** Candidate partners per sample: 1 (consecutive) or the window size. */
  private readonly k: number;
  /** The last k+1 samples (and any an undecided anchor still needs). */
  private readonly held: Sample[] = [];
  /** Window mode: anchor -> outcomes so far. */
  private readonly pending = new Map<number, Outcome[]>();
  private readonly rejected: Record<string, number> = {};
  private readonly candidates: CandidateLine[] = [];
  /**
   * Kept pairs being written (JPEG encoding on sharp's threads, temp folder + rename) while the GPU
   * goes on with the next batch; at most MAX_WRITES in flight, all awaited before the video's
   * manifest lines are appended (writer.finishVideo).
   */
  private readonly writes: Promise<PairRecord>[] = [];
  private written = 0;
  /** Samples decoded so far. */
  samples = 0;
  /** Candidate pairs verified so far. */
  candidateCount = 0;

  constructor(
    private readonly gpu: Gpu,
    private readonly video: VideoEntry,
    private readonly cfg: MineConfig,
    private readonly stages: { sift: SiftConfig; twoView: TwoViewConfig },
    private readonly writer: DatasetWriter,
    /** Seconds per stage, on the main thread's clock (shared by the run). */
    private readonly timings: Record<string, number>,
    /** Where the held samples' descriptors live (shared by the run; rows released as samples go). */
    private readonly store: FeatureStore,
  ) {
    this.id = videoId(video.rel);
    this.k = cfg.candidates === "window" ? cfg.window : 1;
  }

  /** Pairs kept so far. */
  get keptCount(): number {
    return this.writes.length;
  }

  /** All stages for one batch of frames. */
  async addBatch(batch: Frame[]): Promise<void> {
    await this.describe(batch);
    const pairs = this.pair(batch.length);
    const verdicts = await this.verify(pairs);
    for (const [j, [a, b]] of pairs.entries()) await this.decide({ a, b, ...verdicts[j] });
    if (this.k > 1) {
      const newest = this.held[this.held.length - 1].index;
      for (const a of [...this.pending.keys()].sort((x, y) => x - y)) if (a + this.k <= newest) await this.decideAnchor(a);
    }
    this.forget();
  }

  /** End of the video: decide every anchor still waiting for partners. */
  async decideRemaining(): Promise<void> {
    for (const a of [...this.pending.keys()].sort((x, y) => x - y)) await this.decideAnchor(a);
  }

  /** After a failure: no write may land after the caller removes a failed video's folder. */
  async abandon(): Promise<void> {
    this.releaseAll();
    await Promise.allSettled(this.writes);
  }

  /** Await the writes; the video's result, its records and candidate lines. */
  async finish(warningsIn: VideoWarning[]): Promise<{ result: VideoResult; records: PairRecord[]; candidates: CandidateLine[] }> {
    this.releaseAll();
    for (const w of warningsIn) this.reject(`warning-${w.code}`);
    const warnings = warningsIn.map((w) => w.message);
    const tw = performance.now();
    const settled = await Promise.allSettled(this.writes);
    this.timings.write = (this.timings.write ?? 0) + (performance.now() - tw) / 1e3;
    const failedWrite = settled.find((r) => r.status === "rejected");
    if (failedWrite) throw (failedWrite as PromiseRejectedResult).reason;
    const records = settled.map((r) => (r as PromiseFulfilledResult<PairRecord>).value);
    return {
      result: {
        video: this.video.rel,
        videoId: this.id,
        status: "done",
        frames: this.samples,
        candidates: this.candidateCount,
        kept: records.length,
        rejected: this.rejected,
        seconds: 0,
        ...(warnings.length ? { warnings } : {}),
      },
      records,
      candidates: this.candidates,
    };
  }

  // ---- the stages ----

  /** Features and sharpness of the batch (one GPU submission); every frame becomes a held sample. */
  private async describe(batch: Frame[]): Promise<void> {
    const t = performance.now();
    const fresh = await describeBatch(this.gpu, batch, this.cfg.size, this.stages.sift, this.cfg.gray, this.store);
    this.timings.features = (this.timings.features ?? 0) + (performance.now() - t) / 1e3;
    for (const [i, f] of batch.entries()) {
      const s: Sample = { index: this.samples++, frame: f, feats: fresh.feats[i], sharp: fresh.sharp[i] };
      if (isBlurry(s.sharp, this.cfg)) this.reject("blurry-frame");
      this.held.push(s);
    }
  }

  /** Candidate pairs (a, b) that the newest `n` samples completed, without blurry frames. */
  private pair(n: number): Array<[number, number]> {
    const pairs: Array<[number, number]> = [];
    for (const s of this.held.slice(-n)) for (let a = Math.max(0, s.index - this.k); a < s.index; a++) pairs.push([a, s.index]);
    const usable = pairs.filter(([a, b]) => !isBlurry(this.sampleAt(a).sharp, this.cfg) && !isBlurry(this.sampleAt(b).sharp, this.cfg));
    this.candidateCount += usable.length;
    return usable;
  }

  /** Match, RANSAC and correspondences of the pairs on the GPU: one verdict each. */
  private async verify(pairs: Array<[number, number]>): Promise<Verdict[]> {
    if (!pairs.length) return [];
    const pos = (index: number) => this.held.findIndex((h) => h.index === index);
    const featList = this.held.map((h) => h.feats);
    const at = pairs.map(([a, b]) => [pos(a), pos(b)] as [number, number]);
    return verifyPairs(this.gpu, featList, at, this.cfg, this.stages, this.timings);
  }

  /** Consecutive mode: keep or reject now. Window mode: wait for the anchor's other partners. */
  private async decide(o: Outcome): Promise<void> {
    if (this.k > 1) {
      const list = this.pending.get(o.a) ?? [];
      list.push(o);
      this.pending.set(o.a, list);
    } else if (o.reason === null) {
      this.note(o, true);
      await this.keep(o);
    } else {
      this.reject(o.reason);
      this.note(o, false, o.reason);
    }
  }

  /** Window mode: anchor a's partner nearest the overlap band's centre is kept, the rest rejected. */
  private async decideAnchor(a: number): Promise<void> {
    const outs = this.pending.get(a) ?? [];
    this.pending.delete(a);
    const centre = (this.cfg.overlapLower + this.cfg.overlapUpper) / 200;
    let best: Outcome | null = null;
    for (const o of outs)
      if (o.reason === null && (!best || Math.abs((o.overlap ?? 0) - centre) < Math.abs((best.overlap ?? 0) - centre))) best = o;
    for (const o of outs) {
      if (o === best) continue;
      const why = o.reason ?? "window-not-best";
      this.reject(why);
      this.note(o, false, why);
    }
    if (best) {
      this.note(best, true);
      await this.keep(best);
    }
  }

  /** Write a kept pair (in flight; waits for the oldest write when MAX_WRITES are in flight). */
  private async keep(o: Outcome): Promise<void> {
    const corr = o.tv.correspondence;
    const fit = o.tv.homography;
    if (!corr || !o.tv.Hgrid || fit.kind !== "model") return;
    const sa = this.sampleAt(o.a);
    const sb = this.sampleAt(o.b);
    const w = this.writer.writePair(this.video.rel, this.id, this.writes.length, {
      t1: sa.frame.ptsSec,
      t2: sb.frame.ptsSec,
      img1: sa.frame,
      img2: sb.frame,
      H: Array.from(o.tv.Hgrid),
      inliers: fit.fit.numInliers,
      overlap: corr.overlap,
      correspondence: correspondenceRecord(corr),
    });
    w.catch(() => {}); // a failure surfaces when awaited, not as an unhandled rejection
    this.writes.push(w);
    if (this.writes.length - this.written >= MAX_WRITES) {
      const tw = performance.now();
      await this.writes[this.written++];
      this.timings.write = (this.timings.write ?? 0) + (performance.now() - tw) / 1e3;
    }
  }

  /** Drop the samples no pending pair needs. */
  private forget(): void {
    const keepFrom = Math.min(this.held[this.held.length - 1].index - this.k, ...[...this.pending.keys()]);
    while (this.held.length && this.held[0].index < keepFrom) releaseFeatures((this.held.shift() as Sample).feats);
  }

  /** The video is done (or failed): give every held sample's store rows back. */
  private releaseAll(): void {
    for (const s of this.held.splice(0)) releaseFeatures(s.feats);
  }

  // ---- bookkeeping ----

  private reject(why: string): void {
    this.rejected[why] = (this.rejected[why] ?? 0) + 1;
  }

  /** A line of candidates.jsonl. */
  private note(o: Outcome, kept: boolean, reason?: string): void {
    this.candidates.push({
      video: this.video.rel,
      t1: this.sampleAt(o.a).frame.ptsSec,
      t2: this.sampleAt(o.b).frame.ptsSec,
      overlap: o.overlap === null ? null : Math.round(o.overlap * 1e6) / 1e6,
      kept,
      ...(reason ? { reason } : {}),
    });
  }

  private sampleAt(index: number): Sample {
    const s = this.held.find((x) => x.index === index);
    if (!s) throw new Error(`internal: sample ${index} no longer held`);
    return s;
  }
}

/** Pair writes in flight per video (each holds its two frames until written). */
const MAX_WRITES = 16;

// ---- decoding ahead -------------------------------------------------------------------------------

/**
 * Pulls frames from a decoder into a bounded queue as soon as it is created, so the next video
 * decodes while the current one is on the GPU; the decoder waits (backpressure) when the queue is
 * full. Errors surface when the frames are consumed.
 */
class Prefetch implements AsyncIterable<Frame> {
  private queue: Frame[] = [];
  private done = false;
  private error: unknown = null;
  private wake: (() => void) | null = null;
  private room: (() => void) | null = null;
  private stopped = false;

  constructor(
    private readonly stream: AsyncGenerator<Frame, void, undefined> & { readonly warnings: VideoWarning[] },
    private readonly capacity = 32,
    /** Applied to each frame as it arrives (e.g. resizing). */
    private readonly map: (f: Frame) => Frame = (f) => f,
  ) {
    this.pump().catch(() => {});
  }

  get warnings() {
    return this.stream.warnings;
  }

  stop(): void {
    this.stopped = true;
    this.room?.();
    void this.stream.return(undefined);
  }

  private async pump(): Promise<void> {
    try {
      for await (const f of this.stream) {
        if (this.stopped) break;
        this.queue.push(this.map(f));
        this.wake?.();
        while (this.queue.length >= this.capacity && !this.stopped) await new Promise<void>((r) => (this.room = r));
      }
    } catch (e) {
      this.error = e;
    }
    this.done = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Frame> {
    for (;;) {
      if (this.queue.length) {
        const f = this.queue.shift() as Frame;
        this.room?.();
        yield f;
        continue;
      }
      if (this.error) throw this.error;
      if (this.done) return;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}
