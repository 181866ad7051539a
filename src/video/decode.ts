// Streaming decode of one video into Frames, in ONE sequential ffmpeg pass (no seek per sample).
//
// ffmpeg -noautorotate -i file:<path> -map 0:<stream> -vf "select,rotate,crop,scale,format=rgb24,showinfo"
//        -fps_mode passthrough -f rawvideo pipe:1
//
// - Sampling happens first, inside ffmpeg (select filter), so frames that are not sampled are never
//   rotated, scaled, converted or piped. The rule picks, for each target time T, the first decoded
//   frame with pts >= T (1 us tolerance for float rounding of time bases).
// - Timestamps: showinfo (last in the chain) logs every delivered frame's integer pts and the link's
//   time base on stderr; ptsSec = pts * tb, exact (no printf rounding). pts are ffmpeg's: relative to
//   the file's start time (VideoInfo.startSec), i.e. the timeline `ffmpeg -ss` uses.
// - Frame size comes from the same showinfo line, so the byte stream on stdout is split exactly.
// - Backpressure: stdout is read on demand through its async iterator; while the consumer does not
//   pull, node stops reading the pipe and ffmpeg blocks on write. Memory: one frame plus the pipe
//   buffers (DecodeStats.peakBufferedBytes measures ours).
// - Frame.index is the frame's position in this stream (0, 1, 2, ...), not its number in the file.
// - Rotation: autorotation is off and the rotation is applied by us after sampling (same direction as
//   ffmpeg's autorotate; tested), so Frame.width/height are the display (rotated) size.
import { type ChildProcessByStdio, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import type { Frame } from "../contracts.js";
import { resolveFfmpeg } from "./ffmpeg.js";
import { ffmpegInput, lastError, probeVideo, VideoError, type VideoInfo } from "./probe.js";

/** Which frames to deliver. */
export type Sampling =
  /** every decoded frame */
  | { kind: "all" }
  /** the first frame at or after each multiple of `seconds` (0, s, 2s, ...); MIMIC uses 1 s */
  | { kind: "interval"; seconds: number }
  /** every n-th decoded frame (0, n, 2n, ...) */
  | { kind: "every-nth"; n: number }
  /** the first frame at or after each given time (seconds, sorted and de-duplicated; a frame is delivered once) */
  | { kind: "timestamps"; seconds: number[] };

/** How to reach `size`: 'stretch' ignores the aspect ratio (MIMIC); 'center-crop' crops to the target aspect first. */
export type ResizeMode = "stretch" | "center-crop";

/** Fractions of the (rotated) frame to cut away before resizing, each in [0, 1). */
export interface CropFractions {
  top?: number;
  bottom?: number;
  left?: number;
  right?: number;
}

/** Something that went wrong while decoding that did not stop it (e.g. a truncated file). */
export interface VideoWarning {
  file: string;
  code: "decode-errors" | "truncated" | "ffmpeg-exit" | "timestamps-not-reached" | "missing-frame" | "corrupt-frame";
  message: string;
}

export interface DecodeOptions {
  /** Frame.videoId; default: the file name without extension. */
  videoId?: string;
  /** Default { kind: "all" }. */
  sampling?: Sampling;
  /** Output size in pixels; default: the display size after crop. */
  size?: { width: number; height: number };
  /** Default 'stretch'. */
  resize?: ResizeMode;
  /** Cropped first (MIMIC's Mannequin recipe: { bottom: 0.2 }). */
  crop?: CropFractions;
  /** swscale filter for resizing; default 'area' (anti-aliased downscaling). */
  scaler?: "area" | "bilinear" | "bicubic" | "lanczos" | "neighbor";
  /** Stop after this many frames. */
  maxFrames?: number;
  /** Called for each warning (also collected in FrameStream.warnings). */
  onWarning?: (w: VideoWarning) => void;
  /** Metadata from probeVideo(), to skip probing again. */
  info?: VideoInfo;
  /**
   * ffmpeg's decoder and filter threads (-threads, -filter_threads); default: ffmpeg's choice (one
   * per core). 1 where the decoder shares the cores with other work (a CPU WebGPU adapter).
   */
  threads?: number;
}

/** Named option presets. */
export const decodePresets = {
  /** MIMIC: one frame per second, 224x224 ignoring the aspect ratio. */
  mimic: { sampling: { kind: "interval", seconds: 1 }, size: { width: 224, height: 224 }, resize: "stretch" },
  /** MIMIC's Mannequin recipe: also drop the bottom 20% (captions). */
  mimicMannequin: {
    sampling: { kind: "interval", seconds: 1 },
    size: { width: 224, height: 224 },
    resize: "stretch",
    crop: { bottom: 0.2 },
  },
} as const satisfies Record<string, DecodeOptions>;

export interface DecodeStats {
  /** Frames delivered. */
  frames: number;
  /** RGB bytes delivered. */
  bytes: number;
  /** Most bytes held in our read buffer at once (bounded: about one frame plus one pipe chunk). */
  peakBufferedBytes: number;
  /** The ffmpeg command line (for bug reports). */
  args: string[];
  /** ffmpeg's exit code (null while running or when killed by us). */
  exitCode: number | null;
  /** ffmpeg's process id once started (e.g. to sample its memory). */
  pid: number | null;
}

/** An async iterator of Frames that also exposes its warnings and counters. */
export type FrameStream = AsyncGenerator<Frame, void, undefined> & {
  readonly warnings: VideoWarning[];
  readonly stats: DecodeStats;
};

const EPS = 1e-6;

// ffmpeg children still running; killed if this process exits first (they would otherwise linger).
const live = new Set<{ kill(signal?: NodeJS.Signals): boolean }>();
let exitHook = false;
function track(p: { kill(signal?: NodeJS.Signals): boolean }): void {
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
  live.add(p);
}

/** Decimal text of a double that ffmpeg's expression parser reads back to the same value. */
function lit(x: number): string {
  if (x === Number.POSITIVE_INFINITY) return "1e300";
  return Number.isInteger(x) ? String(x) : x.toPrecision(17);
}

/** Balanced if-tree: value of targets[ld(0)] for 0 <= ld(0) < n, in O(log n) evaluations. */
function targetTree(t: number[], lo: number, hi: number): string {
  if (hi - lo === 1) return lit(t[lo]);
  const mid = (lo + hi) >> 1;
  return `if(lt(ld(0),${mid}),${targetTree(t, lo, mid)},${targetTree(t, mid, hi)})`;
}

/** The select filter for a sampling rule (null: keep every frame). Exported for tests. */
export function selectExpr(s: Sampling): string | null {
  switch (s.kind) {
    case "all":
      return null;
    case "every-nth":
      if (!(Number.isInteger(s.n) && s.n >= 1)) throw new RangeError(`sampling every-nth: n must be an integer >= 1, got ${s.n}`);
      return s.n === 1 ? null : `not(mod(n,${s.n}))`;
    case "interval": {
      if (!(s.seconds > 0 && Number.isFinite(s.seconds))) throw new RangeError(`sampling interval: seconds must be > 0, got ${s.seconds}`);
      const N = lit(s.seconds);
      // ld(0): next target time. Select when t reaches it; the next target is the next multiple of N after t.
      return `if(gte(t,ld(0)-${EPS}),st(0,(floor((t+${EPS})/${N})+1)*${N})*0+1,0)`;
    }
    case "timestamps": {
      const t = [...new Set(s.seconds)].sort((a, b) => a - b);
      for (const x of t) if (!Number.isFinite(x)) throw new RangeError(`sampling timestamps: not a finite number: ${x}`);
      if (!t.length) return "0";
      // Past the last target: 1e300 (never reached), so the while loop below ends.
      const T = `if(gte(ld(0),${t.length}),1e300,${targetTree(t, 0, t.length)})`;
      // ld(0): index of the next target. On a hit, skip every target this frame satisfies.
      return `if(gte(t,${T}-${EPS}),while(lte(${T}-${EPS},t),st(0,ld(0)+1))*0+1,0)`;
    }
  }
}

/** Integer crop rectangle (in the rotated frame) for the crop fractions and resize mode. Exported for tests. */
export function cropRect(
  w: number,
  h: number,
  crop: CropFractions | undefined,
  size: { width: number; height: number } | undefined,
  mode: ResizeMode,
): { x: number; y: number; w: number; h: number } {
  const f = { top: 0, bottom: 0, left: 0, right: 0, ...crop };
  for (const [k, v] of Object.entries(f)) if (!(v >= 0 && v < 1)) throw new RangeError(`crop.${k} must be a fraction in [0, 1), got ${v}`);
  let x = Math.round(w * f.left);
  let y = Math.round(h * f.top);
  let cw = w - x - Math.round(w * f.right);
  let ch = h - y - Math.round(h * f.bottom);
  if (cw < 1 || ch < 1) throw new RangeError(`crop ${JSON.stringify(crop)} leaves nothing of a ${w}x${h} frame`);
  if (size && mode === "center-crop") {
    const a = size.width / size.height;
    if (cw / ch > a) {
      const nw = Math.max(1, Math.round(ch * a));
      x += (cw - nw) >> 1;
      cw = nw;
    } else {
      const nh = Math.max(1, Math.round(cw / a));
      y += (ch - nh) >> 1;
      ch = nh;
    }
  }
  return { x, y, w: cw, h: ch };
}

function fpsModeArgs(version: string): string[] {
  const m = /version n?(\d+)\.(\d+)/.exec(version);
  // -fps_mode appeared in 5.1; git builds ("version N-...") are newer.
  const old = m ? Number(m[1]) < 5 || (Number(m[1]) === 5 && Number(m[2]) < 1) : false;
  return old ? ["-vsync", "passthrough"] : ["-fps_mode", "passthrough"];
}

function validateOptions(opts: DecodeOptions): void {
  selectExpr(opts.sampling ?? { kind: "all" });
  cropRect(1 << 20, 1 << 20, opts.crop, undefined, "stretch");
  if (opts.size) {
    const { width, height } = opts.size;
    if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1))
      throw new RangeError(`size must be positive integers, got ${width}x${height}`);
  }
  if (opts.maxFrames !== undefined && !(Number.isInteger(opts.maxFrames) && opts.maxFrames >= 0))
    throw new RangeError(`maxFrames must be an integer >= 0, got ${opts.maxFrames}`);
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1))
    throw new RangeError(`threads must be an integer >= 1, got ${opts.threads}`);
}

/** The ffmpeg filter chain for one decode. Exported for tests. */
export function filterChain(info: VideoInfo, opts: DecodeOptions): string {
  const parts: string[] = [];
  const sel = selectExpr(opts.sampling ?? { kind: "all" });
  if (sel !== null) parts.push(`select='${sel}'`);
  // Same directions as ffmpeg's autorotate (rotation is clockwise).
  if (info.rotation === 90) parts.push("transpose=clock");
  else if (info.rotation === 270) parts.push("transpose=cclock");
  else if (info.rotation === 180) parts.push("hflip", "vflip");
  validateOptions(opts);
  const mode = opts.resize ?? "stretch";
  const r = cropRect(info.displayWidth, info.displayHeight, opts.crop, opts.size, mode);
  if (r.x !== 0 || r.y !== 0 || r.w !== info.displayWidth || r.h !== info.displayHeight)
    parts.push(`crop=w=${r.w}:h=${r.h}:x=${r.x}:y=${r.y}:exact=1`);
  if (opts.size) parts.push(`scale=w=${opts.size.width}:h=${opts.size.height}:flags=${opts.scaler ?? "area"}`);
  parts.push("format=rgb24", "showinfo=checksum=0");
  return parts.join(",");
}

interface ShowInfo {
  pts: number;
  w: number;
  h: number;
}

/** Reads exact byte counts from a Readable on demand (backpressure: nothing is read ahead beyond one chunk). */
class ByteReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private done = false;
  private it: AsyncIterator<Buffer>;
  peak = 0;
  constructor(stream: Readable) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
  get buffered(): number {
    return this.have;
  }
  /** Exactly n bytes, or null at end of stream (`partial` then holds what was left). */
  async read(n: number): Promise<Uint8Array | null> {
    while (this.have < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        this.chunks.push(r.value);
        this.have += r.value.length;
        this.peak = Math.max(this.peak, this.have);
      }
    }
    if (this.have < n) return null;
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0];
      const take = Math.min(c.length, n - off);
      out.set(c.subarray(0, take), off);
      off += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    this.have -= n;
    return out;
  }
}

/**
 * Decode `file` into Frames (async iterator) in one sequential ffmpeg pass. Throws VideoError for a
 * file that cannot be decoded at all (missing, empty, directory, not a video, audio-only, or no frame
 * decoded); problems after the first frame (truncation, corrupt packets) become warnings.
 * Breaking out of the loop stops ffmpeg.
 */
export function decodeFrames(file: string, opts: DecodeOptions = {}): FrameStream {
  const warnings: VideoWarning[] = [];
  const stats: DecodeStats = { frames: 0, bytes: 0, peakBufferedBytes: 0, args: [], exitCode: null, pid: null };
  const warn = (code: VideoWarning["code"], message: string) => {
    const w: VideoWarning = { file, code, message };
    warnings.push(w);
    opts.onWarning?.(w);
  };
  const gen = run(file, opts, stats, warn);
  return Object.assign(gen, { warnings, stats });
}

async function* run(
  file: string,
  opts: DecodeOptions,
  stats: DecodeStats,
  warn: (code: VideoWarning["code"], message: string) => void,
): AsyncGenerator<Frame, void, undefined> {
  // Options are checked before anything runs (a RangeError names the bad option).
  validateOptions(opts);
  const info = opts.info ?? (await probeVideo(file));
  const { ffmpeg, version } = resolveFfmpeg();
  const videoId = opts.videoId ?? path.basename(file, path.extname(file));
  const sampling = opts.sampling ?? { kind: "all" };
  const chain = filterChain(info, opts);
  const scriptDir = chain.length > 60_000 ? fs.mkdtempSync(path.join(os.tmpdir(), "mimic-vf-")) : null;
  const args = [
    "-hide_banner",
    "-nostdin",
    "-nostats",
    "-loglevel",
    "level+info",
    "-noautorotate",
    ...(opts.threads ? ["-threads", String(opts.threads), "-filter_threads", String(opts.threads)] : []),
    "-i",
    ffmpegInput(file),
    "-map",
    `0:${info.streamIndex}`,
    "-an",
    "-sn",
    "-dn",
    // Long select expressions (many timestamps) go through a file: one argv string is limited to 128 KiB.
    ...(scriptDir ? ["-filter_script:v", path.join(scriptDir, "vf.txt")] : ["-vf", chain]),
    ...fpsModeArgs(version),
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "pipe:1",
  ];
  stats.args = args;
  if (scriptDir) fs.writeFileSync(path.join(scriptDir, "vf.txt"), chain);

  const proc: ChildProcessByStdio<null, Readable, Readable> = spawn(ffmpeg, args, { stdio: ["ignore", "pipe", "pipe"] });
  track(proc);
  stats.pid = proc.pid ?? null;
  const infos: ShowInfo[] = [];
  let infoHead = 0;
  let tbNum = 0;
  let tbDen = 1;
  const errors: string[] = [];
  let stderrTail = "";
  let stderrDone = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  let partial = "";
  const onLine = (line: string) => {
    const m = /^\[(\w+)\]\s*(.*)$/.exec(line);
    const level = m ? m[1] : "info";
    const text = m ? m[2] : line;
    if (text.includes("Parsed_showinfo")) {
      const f = /\bn:\s*\d+\s+pts:\s*(-?\d+|NOPTS)\b.*?\bs:(\d+)x(\d+)/.exec(text);
      if (f) {
        infos.push({ pts: f[1] === "NOPTS" ? Number.NaN : Number(f[1]), w: Number(f[2]), h: Number(f[3]) });
        notify();
        return;
      }
      const tb = /config in time_base:\s*(\d+)\/(\d+)/.exec(text);
      if (tb) {
        tbNum = Number(tb[1]);
        tbDen = Number(tb[2]);
      }
      return;
    }
    stderrTail = `${stderrTail}\n${text}`.slice(-4000);
    if ((level === "error" || level === "fatal" || level === "panic") && errors.length < 20)
      errors.push(text.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, ""));
  };
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (d: string) => {
    const lines = (partial + d).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) onLine(l.replace(/\r$/, ""));
  });
  proc.stderr.on("close", () => {
    if (partial) onLine(partial);
    partial = "";
    stderrDone = true;
    notify();
  });
  const exited = new Promise<number | null>((resolve) => {
    proc.on("exit", (code) => {
      live.delete(proc);
      resolve(code);
    });
    proc.on("error", (e) => {
      stderrTail += `\n${e.message}`;
      stderrDone = true;
      notify();
      resolve(-1);
    });
  });
  // We wait for stderr (frame info) only after consuming every byte of the previous frame, and
  // ffmpeg logs a frame's showinfo line before writing the frame: no deadlock.
  const reader = new ByteReader(proc.stdout);
  let finished = false;
  let lastPts = Number.NaN;
  try {
    for (;;) {
      if (opts.maxFrames !== undefined && stats.frames >= opts.maxFrames) break;
      // The next frame's size and pts (stderr may lag stdout slightly).
      let si: ShowInfo | undefined = infos[infoHead];
      let rgb: Uint8Array | null = null;
      if (!si) {
        // Read ahead of stderr: when stdout ends first, no more frames can come.
        while (!infos[infoHead] && !stderrDone) await new Promise<void>((r) => (wake = r));
        si = infos[infoHead];
        if (!si) break;
      }
      rgb = await reader.read(si.w * si.h * 3);
      stats.peakBufferedBytes = Math.max(stats.peakBufferedBytes, reader.peak);
      if (!rgb) break; // ffmpeg stopped mid-frame (killed / crashed): reported below
      infos[infoHead] = undefined as unknown as ShowInfo; // release
      infoHead++;
      const ptsSec = (si.pts * tbNum) / tbDen;
      lastPts = ptsSec;
      stats.frames++;
      stats.bytes += rgb.length;
      yield { videoId, index: stats.frames - 1, ptsSec, width: si.w, height: si.h, rgb };
    }
    finished = opts.maxFrames === undefined || stats.frames < opts.maxFrames;
  } finally {
    if (!finished && proc.exitCode === null) {
      proc.stdout.destroy();
      proc.kill("SIGKILL");
    }
    stats.exitCode = await exited;
    while (!stderrDone) await new Promise<void>((r) => (wake = r));
    if (scriptDir) fs.rmSync(scriptDir, { recursive: true, force: true });
  }
  if (!finished) return; // stopped by the consumer or maxFrames: ffmpeg was killed on purpose
  // Finished normally: judge how it went.
  const code = stats.exitCode;
  if (stats.frames === 0) {
    const why = errors.length ? errors.slice(-3).join("; ") : lastError(stderrTail) || `ffmpeg exited with ${code}`;
    if (code !== 0 || errors.length)
      throw new VideoError("decode-failed", file, `no frame could be decoded (${why})`, "the file is corrupt; re-download or re-encode it");
  }
  if (errors.length)
    warn("decode-errors", `ffmpeg reported ${errors.length} error(s) after frame ${stats.frames}: ${errors.slice(0, 3).join("; ")}`);
  if (code !== 0) warn("ffmpeg-exit", `ffmpeg exited with ${code} after ${stats.frames} frame(s): ${lastError(stderrTail)}`);
  // Did decoding reach the end the container announces? Tolerance: one sampling step plus half a second.
  const dur = info.durationSec;
  if (dur !== null && Number.isFinite(lastPts) && info.fps) {
    const frameDt = 1 / info.fps;
    const step =
      sampling.kind === "interval"
        ? sampling.seconds
        : sampling.kind === "every-nth"
          ? sampling.n * frameDt
          : sampling.kind === "all"
            ? frameDt
            : Number.POSITIVE_INFINITY;
    if (lastPts < dur - step - 0.5 - 2 * frameDt)
      warn(
        "truncated",
        `decoding ended at ${lastPts.toFixed(3)} s but the container says ${dur.toFixed(3)} s: the file is probably truncated`,
      );
  }
  if (sampling.kind === "timestamps") {
    const missed = sampling.seconds.filter((t) => !(t <= lastPts + EPS)).length;
    if (missed) warn("timestamps-not-reached", `${missed} requested timestamp(s) lie after the last decoded frame (${lastPts} s)`);
  }
}
