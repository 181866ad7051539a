// Frame-sequence sources: a folder of images (jpg, png) taken as one video.
//
//   <dir>/*.jpg|*.png --order (timestamps, else natural sort)--> times (names, else i / fps)
//     --sampling (same rule as decode.ts)--> sampled files --sharp, `parallel` in flight--> Frames
//
// - Order: when every stem is a decimal timestamp (TUM RGB-D style `1341847980.722988.png`), by
//   that number; otherwise by natural sort of the names (digit runs compared as numbers, so
//   frame9 < frame10). Ties (0010 vs 10) fall back to byte order: the order is total.
// - Times: the timestamps themselves (seconds, as the dataset's ground truth is keyed), else
//   position / fps. Sampling runs on times relative to the first frame, like a video's pts.
// - Decoding: sharp (libvips, on libuv's thread pool), `parallel` frames in flight, yielded in
//   list order; memory is `parallel` decoded images plus the consumer's queue.
// - A frame that cannot be read (missing, truncated, not an image) is skipped and reported as a
//   warning naming the file; the sequence goes on. No readable frame at all is a VideoError.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import type { Frame } from "../contracts.js";
import { type CropFractions, cropRect, type ResizeMode, type Sampling, type VideoWarning } from "./decode.js";
import { VideoError } from "./probe.js";

/** File extensions (lower-case, with the dot) taken as frames of a sequence. */
export const IMAGE_EXTENSIONS: readonly string[] = [".jpg", ".jpeg", ".png"];

/** A folder of images in sequence order. */
export interface FrameSequence {
  /** The folder (absolute). */
  dir: string;
  /** Image file names in sequence order. */
  files: string[];
  /** Each file's time in seconds from its name (TUM style), or null: the names are not all timestamps. */
  stamps: number[] | null;
}

const STAMP = /^\d+\.\d+$/;
const isImage = (name: string) => IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
const stem = (name: string) => name.slice(0, name.length - path.extname(name).length);

/**
 * Natural order: digit runs compare by value (leading zeros ignored), other runs by bytes; equal
 * keys fall back to byte order of the whole names (so 'f010' and 'f10' still have an order).
 */
export function naturalCompare(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i];
    const y = rb[i];
    const dx = x.charCodeAt(0) >= 48 && x.charCodeAt(0) <= 57;
    const dy = y.charCodeAt(0) >= 48 && y.charCodeAt(0) <= 57;
    if (dx && dy) {
      const nx = x.replace(/^0+(?=\d)/, "");
      const ny = y.replace(/^0+(?=\d)/, "");
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
    } else if (x !== y) {
      // A number sorts before text at the same position (frame1 < frame_a).
      if (dx !== dy) return dx ? -1 : 1;
      return x < y ? -1 : 1;
    }
  }
  if (ra.length !== rb.length) return ra.length - rb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The image files directly in `dir` (hidden ones skipped), or null when it cannot be listed. */
export function imageFiles(dir: string): string[] | null {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith(".") || !isImage(e.name)) continue;
    // A symlink to an image counts; stat only those (a plain file needs no extra call).
    if (e.isFile() || (e.isSymbolicLink() && statIsFile(path.join(dir, e.name)))) out.push(e.name);
  }
  return out;
}

function statIsFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return true; // a broken link is listed, then reported as a missing frame
  }
}

/** A sequence from a list of image names in `dir`: ordered, with timestamps when the names are ones. */
export function sequenceOf(dir: string, names: string[]): FrameSequence {
  const stamped = names.length > 0 && names.every((n) => STAMP.test(stem(n)));
  if (stamped) {
    const keyed = names.map((n) => ({ n, t: Number(stem(n)) }));
    keyed.sort((x, y) => x.t - y.t || naturalCompare(x.n, y.n));
    return { dir: path.resolve(dir), files: keyed.map((k) => k.n), stamps: keyed.map((k) => k.t) };
  }
  return { dir: path.resolve(dir), files: [...names].sort(naturalCompare), stamps: null };
}

/** Each frame's time: its name's timestamp, else position / fps. Throws a VideoError ('needs-fps') without either. */
export function sequenceTimes(seq: FrameSequence, fps?: number): number[] {
  if (seq.stamps) return seq.stamps;
  if (!(fps !== undefined && fps > 0 && Number.isFinite(fps)))
    throw new VideoError(
      "needs-fps",
      seq.dir,
      "its frame names are not timestamps (like 1341847980.722988.png), so its frame rate is needed",
      "pass --fps <frames per second>",
    );
  return seq.files.map((_, i) => i / fps);
}

const EPS = 1e-6;

/**
 * Which frames a sampling rule picks, by the rule decode.ts's select filter applies to a video's
 * pts, on times relative to the first frame. Returns positions in `times`.
 */
export function sampleSequence(times: number[], s: Sampling): number[] {
  const out: number[] = [];
  const t0 = times.length ? times[0] : 0;
  if (s.kind === "all") return times.map((_, i) => i);
  if (s.kind === "every-nth") {
    if (!(Number.isInteger(s.n) && s.n >= 1)) throw new RangeError(`sampling every-nth: n must be an integer >= 1, got ${s.n}`);
    for (let i = 0; i < times.length; i += s.n) out.push(i);
    return out;
  }
  if (s.kind === "interval") {
    if (!(s.seconds > 0 && Number.isFinite(s.seconds))) throw new RangeError(`sampling interval: seconds must be > 0, got ${s.seconds}`);
    let next = 0;
    times.forEach((abs, i) => {
      const t = abs - t0;
      if (t >= next - EPS) {
        out.push(i);
        next = (Math.floor((t + EPS) / s.seconds) + 1) * s.seconds;
      }
    });
    return out;
  }
  const targets = [...new Set(s.seconds)].sort((a, b) => a - b);
  let k = 0;
  times.forEach((abs, i) => {
    const t = abs - t0;
    if (k < targets.length && t >= targets[k] - EPS) {
      out.push(i);
      while (k < targets.length && targets[k] - EPS <= t) k++;
    }
  });
  return out;
}

export interface ImageDecodeOptions {
  /** Output size; default the image's (rotated) size after crop. */
  size?: { width: number; height: number };
  /** Default 'stretch'. */
  resize?: ResizeMode;
  /** Fractions cut away first (same rectangle as decode.ts's cropRect). */
  crop?: CropFractions;
}

/**
 * One image file to RGB at the requested size: EXIF orientation applied, alpha dropped, cropped
 * by cropRect's rectangle, resized by sharp's linear kernel over the whole reduction (anti-aliased).
 * Runs on sharp's threads. Throws on a missing, truncated or unreadable file.
 */
export async function decodeImage(
  file: string,
  opts: ImageDecodeOptions = {},
): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const meta = await sharp(file, { failOn: "warning" }).metadata();
  let w = meta.width ?? 0;
  let h = meta.height ?? 0;
  if ((meta.orientation ?? 1) >= 5) [w, h] = [h, w];
  let img = sharp(file, { failOn: "warning" }).rotate().removeAlpha().toColourspace("srgb");
  if (opts.crop || opts.size) {
    const r = cropRect(w, h, opts.crop, opts.size, opts.resize ?? "stretch");
    if (r.x !== 0 || r.y !== 0 || r.w !== w || r.h !== h) img = img.extract({ left: r.x, top: r.y, width: r.w, height: r.h });
  }
  if (opts.size) img = img.resize(opts.size.width, opts.size.height, { fit: "fill", kernel: "linear", fastShrinkOnLoad: false });
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  return { width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export interface SequenceDecodeOptions extends ImageDecodeOptions {
  /** Frame.videoId; default the folder's name. */
  videoId?: string;
  /** Each file's time (sequenceTimes()). */
  times: number[];
  /** Default { kind: "all" }. */
  sampling?: Sampling;
  /** Frames decoded at once (default: the number of cores, at most 4). */
  parallel?: number;
  /** Called for each skipped frame (also collected in the stream's warnings). */
  onWarning?: (w: VideoWarning) => void;
}

/** Frames of a sequence, with the frames that were skipped. */
export type SequenceStream = AsyncGenerator<Frame, void, undefined> & { readonly warnings: VideoWarning[] };

/**
 * Decode the sampled frames of a sequence in order, `parallel` at a time. Frame.index counts
 * delivered frames (0, 1, 2, ...), ptsSec is the frame's time. Breaking out of the loop stops it.
 */
export function decodeSequence(seq: FrameSequence, opts: SequenceDecodeOptions): SequenceStream {
  const warnings: VideoWarning[] = [];
  const gen = runSequence(seq, opts, (w) => {
    warnings.push(w);
    opts.onWarning?.(w);
  });
  return Object.assign(gen, { warnings });
}

async function* runSequence(seq: FrameSequence, opts: SequenceDecodeOptions, warn: (w: VideoWarning) => void): AsyncGenerator<Frame> {
  if (opts.times.length !== seq.files.length) throw new RangeError(`${seq.dir}: ${opts.times.length} times for ${seq.files.length} frames`);
  const picks = sampleSequence(opts.times, opts.sampling ?? { kind: "all" });
  const parallel = Math.max(1, opts.parallel ?? Math.min(4, os.availableParallelism()));
  const videoId = opts.videoId ?? path.basename(seq.dir);
  type Slot = Promise<{ width: number; height: number; rgb: Uint8Array } | Error>;
  const inflight: Slot[] = [];
  const start = (k: number): Slot => {
    const p = decodeImage(path.join(seq.dir, seq.files[picks[k]]), opts).catch((e: unknown) =>
      e instanceof Error ? e : new Error(String(e)),
    );
    return p;
  };
  let delivered = 0;
  let lastError = "";
  let launched = 0;
  try {
    for (let k = 0; k < picks.length; k++) {
      while (launched < picks.length && launched < k + parallel) inflight.push(start(launched++));
      const r = await (inflight.shift() as Slot);
      const file = path.join(seq.dir, seq.files[picks[k]]);
      if (r instanceof Error) {
        const missing = !fs.existsSync(file);
        lastError = r.message;
        warn({
          file,
          code: missing ? "missing-frame" : "corrupt-frame",
          message: `${file}: ${missing ? "missing" : `unreadable (${r.message.split("\n")[0]})`}; frame skipped`,
        });
        continue;
      }
      yield { videoId, index: delivered++, ptsSec: opts.times[picks[k]], ...r };
    }
  } finally {
    // Stopped early: let the decodes in flight finish (their results are dropped).
    await Promise.all(inflight);
  }
  if (delivered === 0 && picks.length > 0)
    throw new VideoError("decode-failed", seq.dir, `no frame could be read (last: ${lastError})`, "check the images in the folder");
}
