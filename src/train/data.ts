// Data for MIM pretraining from a mined dataset (README.md, "The mined dataset"):
// <dataset>/pairs.csv with columns path1,path2,correspondence (paths relative to <dataset>).
//
// PairLoader: batches of (view1, view2), each (B, 3, H, W) float32, decoded with sharp, resized to
// the model's input size (fit 'fill': mined frames are already square, and a plain resize keeps the
// patch grid that correspondences refer to), normalised with ImageNet mean/std (as MIMIC's
// transform), and the two views swapped at random per sample as MIMIC's MultiViewDataset does.
// FrameLoader: single images for MAE over the same frames (every distinct path1/path2).
//
// Determinism: epoch e visits rows in a Fisher-Yates permutation drawn from Pcg32(seed, 2e + 1) and
// sample i of that epoch is swapped when Pcg32(seed, 2e + 2)'s i-th nextBelow(2) is 1, so a run
// resumed at (epoch, batch) sees exactly the batches an uninterrupted run would.
// Decoding runs on worker_threads (sharp inside each worker) `prefetch` batches ahead, so the
// training step never waits on JPEG decoding; `workers: 0` decodes in-process.

import { access, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import sharp from "sharp";
import { insideOrThrow } from "../io/outdir.js";
import { Pcg32 } from "../prng.js";

/** ImageNet channel mean and std (torchvision Normalize in MAE/MIMIC). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface PairRow {
  path1: string;
  path2: string;
  correspondence: string;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. Returns rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

/** Read <dataset>/pairs.csv; errors name the file and the missing column or bad row. */
export async function readPairsCsv(dataset: string): Promise<PairRow[]> {
  const file = join(dataset, "pairs.csv");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}. Point --data at a dataset written by 'mimic mine' (it has pairs.csv).`);
  }
  const rows = parseCsv(text);
  if (rows.length === 0) throw new Error(`${file} is empty; expected a header 'path1,path2,correspondence' and one row per pair`);
  const header = rows[0].map((h) => h.trim());
  const col = (name: string) => header.indexOf(name);
  const missing = ["path1", "path2", "correspondence"].filter((n) => col(n) < 0);
  if (missing.length)
    throw new Error(
      `${file}: missing column(s) ${missing.join(", ")} (header is '${header.join(",")}'; expected path1,path2,correspondence)`,
    );
  const [c1, c2, cc] = [col("path1"), col("path2"), col("correspondence")];
  const out: PairRow[] = [];
  for (let r = 1; r < rows.length; r++) {
    const f = rows[r];
    if (f.length !== header.length) throw new Error(`${file}: line ${r + 1} has ${f.length} fields, the header has ${header.length}`);
    if (!f[c1] || !f[c2]) throw new Error(`${file}: line ${r + 1} has an empty path1/path2`);
    out.push({ path1: f[c1], path2: f[c2], correspondence: f[cc] });
  }
  if (out.length === 0) throw new Error(`${file} has a header but no pairs`);
  return out;
}

/** (3, S, S) normalised float32 from (S, S, 3) RGB bytes: (x / 255 - mean[c]) / std[c]. */
export function normalizeRgb(rgb: Uint8Array, S: number, out = new Float32Array(3 * S * S)): Float32Array {
  const n = S * S;
  for (let c = 0; c < 3; c++) {
    const m = IMAGENET_MEAN[c];
    const s = IMAGENET_STD[c];
    for (let i = 0; i < n; i++) out[c * n + i] = (rgb[i * 3 + c] / 255 - m) / s;
  }
  return out;
}

/** Inverse of normalizeRgb (for reconstruction pictures): (3, S, S) -> (S, S, 3) bytes, clamped. */
export function denormalizeRgb(chw: Float32Array, S: number): Uint8Array {
  const n = S * S;
  const out = new Uint8Array(3 * n);
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < n; i++)
      out[i * 3 + c] = Math.max(0, Math.min(255, Math.round((chw[c * n + i] * IMAGENET_STD[c] + IMAGENET_MEAN[c]) * 255)));
  return out;
}

/** Decode an image, resize to S x S (cubic, aspect not kept) and normalise: (3, S, S). In-process. */
export async function loadImage(file: string, S: number): Promise<Float32Array> {
  try {
    const { data } = await sharp(file)
      .rotate()
      .removeAlpha()
      .toColourspace("srgb")
      .resize(S, S, { fit: "fill", kernel: "cubic" })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return normalizeRgb(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), S);
  } catch (e) {
    throw new Error(`cannot decode image ${file}: ${(e as Error).message}`);
  }
}

// The worker: the same decode + normalisation as loadImage/normalizeRgb (a test checks they agree).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const sharp = require(workerData.sharpPath);
sharp.concurrency(1);
const { mean, std } = workerData;
parentPort.on("message", async (m) => {
  try {
    const { data } = await sharp(m.file).rotate().removeAlpha().toColourspace("srgb")
      .resize(m.size, m.size, { fit: "fill", kernel: "cubic" }).raw().toBuffer({ resolveWithObject: true });
    const n = m.size * m.size;
    const out = new Float32Array(3 * n);
    for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[c * n + i] = (data[i * 3 + c] / 255 - mean[c]) / std[c];
    parentPort.postMessage({ id: m.id, data: out }, [out.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) });
  }
});
`;

/** A pool of decode workers (sharp in each); requests go to the least-busy worker. */
export class DecodePool {
  private workers: { w: Worker; busy: number }[] = [];
  private pending = new Map<number, { resolve: (a: Float32Array) => void; reject: (e: Error) => void; file: string; wi: number }>();
  private nextId = 0;

  constructor(count: number) {
    const sharpPath = createRequire(import.meta.url).resolve("sharp");
    for (let i = 0; i < count; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { sharpPath, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] } });
      const slot = { w, busy: 0 };
      w.on("message", (m: { id: number; data?: Float32Array; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (--slot.busy === 0) w.unref();
        if (m.error !== undefined) p.reject(new Error(`cannot decode image ${p.file}: ${m.error}`));
        else p.resolve(m.data!);
      });
      w.on("error", (e) => {
        for (const [id, p] of this.pending)
          if (p.wi === i) {
            this.pending.delete(id);
            p.reject(new Error(`decode worker failed on ${p.file}: ${e.message}`));
          }
      });
      w.unref();
      this.workers.push(slot);
    }
  }

  /** Decode + resize + normalise one image on a worker: (3, S, S). */
  load(file: string, S: number): Promise<Float32Array> {
    let wi = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.workers[i].busy < this.workers[wi].busy) wi = i;
    const slot = this.workers[wi];
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, file, wi });
      if (slot.busy++ === 0) slot.w.ref();
      slot.w.postMessage({ id, file, size: S });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((s) => s.w.terminate()));
    this.workers = [];
    for (const p of this.pending.values()) p.reject(new Error("decode pool closed"));
    this.pending.clear();
  }
}

export interface LoaderOptions {
  /** Dataset folder (holds pairs.csv). */
  dataset: string;
  /** Model input side (ModelConfig.imgSize). */
  imgSize: number;
  /** Samples per batch. */
  batch: number;
  /** Seed for the visiting order and the view swaps. */
  seed: number;
  /** Shuffle rows each epoch (default true). */
  shuffle?: boolean;
  /** Swap view order at random per sample, as MIMIC (pairs only; default true). */
  swap?: boolean;
  /** Decode worker threads (default 2; 0 = decode in-process). */
  workers?: number;
  /** Batches decoded ahead (default 2). */
  prefetch?: number;
  /** Check that every image file exists when opening (default true). */
  checkFiles?: boolean;
}

export interface MimBatch {
  epoch: number;
  /** Batch index within the epoch. */
  index: number;
  /** Samples in this batch. */
  B: number;
  /** (B, 3, H, W) ImageNet-normalised; view 1 (masked) for CroCo, the image for MAE. */
  view1: Float32Array;
  /** (B, 3, H, W) view 2 (CroCo), or null for single-image batches. */
  view2: Float32Array | null;
  /** (B) dataset item index of each sample (row of pairs.csv, or frame index). */
  items: Int32Array;
  /** (B) 1 where path2 became view 1 (pairs only). */
  swapped: Uint8Array;
}

/** Base loader over items of 1 or 2 image files (absolute paths); drops the last partial batch. */
export class MimLoader {
  private pool: DecodePool | null;
  readonly imgSize: number;
  readonly batch: number;
  readonly seed: number;
  private readonly shuffle: boolean;
  private readonly swap: boolean;
  private readonly prefetch: number;

  protected constructor(
    /** Items: [file] (frames) or [file1, file2] (pairs), absolute paths. */
    readonly items: string[][],
    opts: LoaderOptions,
  ) {
    if (!(Number.isInteger(opts.batch) && opts.batch > 0)) throw new Error(`batch must be a positive integer (got ${opts.batch})`);
    if (items.length < opts.batch)
      throw new Error(
        `${opts.dataset} has ${items.length} ${items[0]?.length === 2 ? "pairs" : "frames"}, fewer than one batch of ${opts.batch}`,
      );
    this.imgSize = opts.imgSize;
    this.batch = opts.batch;
    this.seed = opts.seed >>> 0;
    this.shuffle = opts.shuffle ?? true;
    this.swap = (opts.swap ?? true) && items[0].length === 2;
    this.prefetch = Math.max(1, opts.prefetch ?? 2);
    const workers = opts.workers ?? 2;
    this.pool = workers > 0 ? new DecodePool(workers) : null;
  }

  /** Number of items (pairs or frames). */
  get size(): number {
    return this.items.length;
  }

  /** Full batches per epoch. */
  get batchesPerEpoch(): number {
    return Math.floor(this.items.length / this.batch);
  }

  /** The visiting order of an epoch (Fisher-Yates from Pcg32(seed, 2 * epoch + 1)). */
  order(epoch: number): Int32Array {
    const n = this.items.length;
    const o = Int32Array.from({ length: n }, (_, i) => i);
    if (!this.shuffle) return o;
    const r = new Pcg32(this.seed, 2 * epoch + 1);
    for (let i = n - 1; i > 0; i--) {
      const j = r.nextBelow(i + 1);
      const t = o[i];
      o[i] = o[j];
      o[j] = t;
    }
    return o;
  }

  /** Per-position swap bits of an epoch (Pcg32(seed, 2 * epoch + 2)), all 0 when swapping is off. */
  swaps(epoch: number): Uint8Array {
    const s = new Uint8Array(this.items.length);
    if (!this.swap) return s;
    const r = new Pcg32(this.seed, 2 * epoch + 2);
    for (let i = 0; i < s.length; i++) s[i] = r.nextBelow(2);
    return s;
  }

  private decode(file: string): Promise<Float32Array> {
    return this.pool ? this.pool.load(file, this.imgSize) : loadImage(file, this.imgSize);
  }

  private async loadBatch(epoch: number, index: number, order: Int32Array, swaps: Uint8Array): Promise<MimBatch> {
    const B = this.batch;
    const S = this.imgSize;
    const per = 3 * S * S;
    const pairs = this.items[0].length === 2;
    const view1 = new Float32Array(B * per); // (B, 3, S, S)
    const view2 = pairs ? new Float32Array(B * per) : null; // (B, 3, S, S)
    const itemIdx = new Int32Array(B);
    const swapped = new Uint8Array(B);
    const jobs: Promise<void>[] = [];
    for (let b = 0; b < B; b++) {
      const pos = index * B + b;
      const item = order[pos];
      itemIdx[b] = item;
      swapped[b] = swaps[pos];
      const files = this.items[item];
      const [f1, f2] = swapped[b] ? [files[1], files[0]] : files;
      jobs.push(this.decode(f1).then((x) => view1.set(x, b * per)));
      if (view2) jobs.push(this.decode(f2).then((x) => view2.set(x, b * per)));
    }
    await Promise.all(jobs);
    return { epoch, index, B, view1, view2, items: itemIdx, swapped };
  }

  /** One batch, decoded now (no prefetch); e.g. for a reconstruction picture. */
  batchAt(epoch: number, index: number): Promise<MimBatch> {
    if (index < 0 || index >= this.batchesPerEpoch) throw new Error(`batch ${index} is outside 0..${this.batchesPerEpoch - 1}`);
    return this.loadBatch(epoch, index, this.order(epoch), this.swaps(epoch));
  }

  /** The batches of one epoch from batch `from` on, `prefetch` batches decoded ahead. */
  async *epoch(epoch: number, from = 0): AsyncGenerator<MimBatch> {
    const order = this.order(epoch);
    const swaps = this.swaps(epoch);
    const nb = this.batchesPerEpoch;
    const queue: Promise<MimBatch>[] = [];
    let next = from;
    const fill = () => {
      while (queue.length < this.prefetch && next < nb) {
        const p = this.loadBatch(epoch, next++, order, swaps);
        p.catch(() => {}); // surfaced when awaited; never unhandled if the consumer stops early
        queue.push(p);
      }
    };
    fill();
    while (queue.length) {
      const p = queue.shift()!;
      fill();
      yield await p;
    }
  }

  /** Stop the decode workers. */
  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
  }
}

async function checkExists(dataset: string, files: string[], what: string): Promise<void> {
  const missing: string[] = [];
  await Promise.all(
    files.map((f) =>
      access(f).catch(() => {
        missing.push(f);
      }),
    ),
  );
  if (missing.length)
    throw new Error(
      `${join(dataset, "pairs.csv")}: ${missing.length} of ${files.length} ${what} files are missing, e.g. ${missing.slice(0, 3).join(", ")} (paths are relative to the dataset folder)`,
    );
}

/** A manifest path: relative, and inside the dataset after following symlinks, or a UsageError naming the row. */
function inDataset(dataset: string, rel: string, row: number): string {
  return insideOrThrow(dataset, rel, `${join(dataset, "pairs.csv")} row ${row + 1}`);
}

/** Pairs (view1, view2) from pairs.csv, for the CroCo objective. */
export class PairLoader extends MimLoader {
  /** The rows of pairs.csv, by item index. */
  rows: PairRow[] = [];

  static async open(opts: LoaderOptions): Promise<PairLoader> {
    const dataset = resolve(opts.dataset);
    const rows = await readPairsCsv(dataset);
    const items = rows.map((r, i) => [inDataset(dataset, r.path1, i), inDataset(dataset, r.path2, i)]);
    if (opts.checkFiles ?? true) await checkExists(dataset, items.flat(), "image");
    const l = new PairLoader(items, opts);
    l.rows = rows;
    return l;
  }
}

/** Single frames (every distinct path1/path2 of pairs.csv, in first-seen order), for MAE. */
export class FrameLoader extends MimLoader {
  static async open(opts: LoaderOptions): Promise<FrameLoader> {
    const dataset = resolve(opts.dataset);
    const rows = await readPairsCsv(dataset);
    const seen = new Set<string>();
    for (const [i, r] of rows.entries()) for (const p of [r.path1, r.path2]) seen.add(inDataset(dataset, p, i));
    const files = [...seen];
    if (opts.checkFiles ?? true) await checkExists(dataset, files, "image");
    return new FrameLoader(
      files.map((f) => [f]),
      opts,
    );
  }
}
