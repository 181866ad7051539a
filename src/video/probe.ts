// Video metadata through ffprobe (-show_streams -show_format, JSON), and the typed errors of the
// video area. Every failure names the file and what to do about it (DESIGN.md, house rule 9), so
// a batch job can record it and go on with the next file.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { resolveFfmpeg } from "./ffmpeg.js";

/** Why a video could not be read. */
export type VideoErrorCode =
  | "missing" // no such file
  | "directory" // the path is a directory (e.g. a folder named x.mp4)
  | "empty" // zero bytes
  | "unreadable" // permission denied or an I/O error
  | "not-video" // ffprobe cannot parse it (a text file named .mp4, a truncated mp4 without its index)
  | "no-video-stream" // parsed, but there is no video stream (audio-only)
  | "decode-failed" // ffmpeg ran and produced no frame
  | "ffmpeg-missing" // ffmpeg/ffprobe not found
  | "needs-fps"; // a frame sequence whose names are not timestamps, and no frame rate given

/** A failure on one video file: `file` is the path given, `fix` says what to do. */
export class VideoError extends Error {
  override readonly name = "VideoError";
  constructor(
    readonly code: VideoErrorCode,
    readonly file: string,
    readonly detail: string,
    readonly fix: string,
  ) {
    super(`${file}: ${detail}. Fix: ${fix}`);
  }
}

/** What ffprobe says about the video stream that decodeFrames() decodes. */
export interface VideoInfo {
  /** The path as given. */
  file: string;
  /** ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi". */
  container: string;
  /** Index of the decoded video stream in the file (first video stream that is not cover art). */
  streamIndex: number;
  /** Codec name, e.g. "h264", "vp9", "mpeg4", "mjpeg". */
  codec: string;
  pixFmt: string;
  /** Coded size (before rotation), pixels. */
  width: number;
  height: number;
  /** Clockwise rotation a player applies for display: 0, 90, 180 or 270 (display matrix or rotate tag). */
  rotation: number;
  /** Size after rotation: what decodeFrames() delivers without crop/resize. */
  displayWidth: number;
  displayHeight: number;
  /** Seconds (stream duration, else container duration); null when unknown. */
  durationSec: number | null;
  /** Start of the presentation timeline, seconds (decodeFrames() timestamps are relative to it). */
  startSec: number;
  /** Average frame rate (avg_frame_rate, else r_frame_rate), frames/s; null when unknown. */
  fps: number | null;
  /** ffprobe's r_frame_rate (the lowest rate that represents all timestamps). */
  rFrameRate: number | null;
  /** Variable frame rate: r_frame_rate and avg_frame_rate differ. */
  vfr: boolean;
  /** Number of frames from the container index (nb_frames); null when the container does not say. */
  frameCount: number | null;
  hasAudio: boolean;
}

/** Parse "30000/1001" (or "25") to a number; null for 0/0, N/A or junk. */
export function parseRate(s: string | undefined): number | null {
  if (!s) return null;
  const [a, b = "1"] = s.split("/");
  const n = Number(a);
  const d = Number(b);
  if (!Number.isFinite(n) || !Number.isFinite(d) || n <= 0 || d <= 0) return null;
  return n / d;
}

function num(s: unknown): number | null {
  if (s === undefined || s === null || s === "N/A") return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** Clockwise display rotation from a stream: display matrix (counter-clockwise degrees) or rotate tag. */
function rotationOf(stream: FfprobeStream): number {
  let cw: number | null = null;
  for (const sd of stream.side_data_list ?? []) {
    if (typeof sd.rotation === "number" || typeof sd.rotation === "string") cw = -Number(sd.rotation);
  }
  if (cw === null && stream.tags?.rotate !== undefined) cw = Number(stream.tags.rotate);
  if (cw === null || !Number.isFinite(cw)) return 0;
  const r = Math.round(cw / 90) * 90;
  return ((r % 360) + 360) % 360;
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  duration?: string;
  start_time?: string;
  nb_frames?: string;
  tags?: Record<string, string>;
  disposition?: Record<string, number>;
  side_data_list?: Array<{ rotation?: number | string; side_data_type?: string }>;
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string };
}

/** Absolute path with ffmpeg's file: protocol, so ':' '-' or '|' in a name are never parsed as options or protocols. */
export function ffmpegInput(file: string): string {
  return `file:${path.resolve(file)}`;
}

/** Check that `file` is a non-empty regular readable file; throw a VideoError otherwise. */
export function checkVideoFile(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR")
      throw new VideoError("missing", file, "no such file", "check the path (relative paths are resolved against the working directory)");
    throw new VideoError("unreadable", file, `cannot stat (${code ?? String(e)})`, "check the file's permissions");
  }
  if (st.isDirectory())
    throw new VideoError(
      "directory",
      file,
      "is a directory, not a video file",
      "pass the video files inside it, or list the folder with listVideos()/a folder input",
    );
  if (!st.isFile()) throw new VideoError("unreadable", file, "is not a regular file", "pass a video file");
  if (st.size === 0)
    throw new VideoError("empty", file, "is empty (0 bytes)", "re-download or re-export the video; an interrupted copy leaves empty files");
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    throw new VideoError("unreadable", file, "permission denied", "make the file readable (chmod +r)");
  }
}

function binaries(file: string) {
  try {
    return resolveFfmpeg();
  } catch (e) {
    throw new VideoError("ffmpeg-missing", file, (e as Error).message.replace(/\. Fix:.*/s, ""), "see 'mimic doctor'");
  }
}

/** The last meaningful stderr line of ffprobe/ffmpeg, without the "[demuxer @ 0x...]" prefix. */
export function lastError(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, "").trim())
    .filter(Boolean);
  return lines.slice(-3).join("; ");
}

/** Run ffprobe on one file and return its video stream's metadata; throws VideoError. */
export async function probeVideo(file: string): Promise<VideoInfo> {
  checkVideoFile(file);
  const { ffprobe } = binaries(file);
  const args = ["-v", "error", "-of", "json", "-show_streams", "-show_format", ffmpegInput(file)];
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
    execFile(ffprobe, args, { maxBuffer: 64 << 20, timeout: 120_000, encoding: "utf8" }, (err, stdout, stderr) => {
      const c = err ? (typeof (err as NodeJS.ErrnoException).code === "number" ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ stdout, stderr, code: c });
    });
  });
  if (code !== 0) {
    const why = lastError(stderr) || `ffprobe exited with ${code}`;
    const moov = /moov atom not found/.test(stderr);
    throw new VideoError(
      "not-video",
      file,
      `not a video ffmpeg can read (${why})`,
      moov
        ? "the MP4/MOV index (moov atom) is missing: the file is truncated or not an MP4; re-download it, or recover it with a tool such as untrunc"
        : "check that it is a video file; convert it with 'ffmpeg -i in out.mp4' if another player reads it",
    );
  }
  let out: FfprobeOutput;
  try {
    out = JSON.parse(stdout) as FfprobeOutput;
  } catch {
    throw new VideoError("not-video", file, "ffprobe printed no JSON", "check the file with 'ffprobe FILE'");
  }
  const streams = out.streams ?? [];
  const video = streams.find((s) => s.codec_type === "video" && !s.disposition?.attached_pic);
  if (!video) {
    const kinds = streams.map((s) => s.codec_type ?? "unknown");
    throw new VideoError(
      "no-video-stream",
      file,
      kinds.length ? `has no video stream (streams: ${kinds.join(", ")})` : "has no streams",
      kinds.includes("audio") ? "it is an audio-only file; remove it from the video folder" : "pass a file with a video stream",
    );
  }
  const width = video.width ?? 0;
  const height = video.height ?? 0;
  if (!(width > 0 && height > 0))
    throw new VideoError("not-video", file, `video stream ${video.index} has no frame size`, "re-encode it with 'ffmpeg -i in out.mp4'");
  const rotation = rotationOf(video);
  const swap = rotation === 90 || rotation === 270;
  const avg = parseRate(video.avg_frame_rate);
  const r = parseRate(video.r_frame_rate);
  const nb = num(video.nb_frames);
  return {
    file,
    container: out.format?.format_name ?? "unknown",
    streamIndex: video.index,
    codec: video.codec_name ?? "unknown",
    pixFmt: video.pix_fmt ?? "unknown",
    width,
    height,
    rotation,
    displayWidth: swap ? height : width,
    displayHeight: swap ? width : height,
    durationSec: num(video.duration) ?? num(out.format?.duration),
    startSec: num(video.start_time) ?? num(out.format?.start_time) ?? 0,
    fps: avg ?? r,
    rFrameRate: r,
    vfr: avg !== null && r !== null && Math.abs(avg - r) > 1e-6 * r,
    frameCount: nb !== null && nb > 0 ? nb : null,
    hasAudio: streams.some((s) => s.codec_type === "audio"),
  };
}
