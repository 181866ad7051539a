// Test videos generated with ffmpeg's lavfi sources (no binary fixtures). Tiny on purpose.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { resolveFfmpeg } from "../../src/video/ffmpeg.js";

export function ffmpeg(args: string[]): void {
  const { ffmpeg } = resolveFfmpeg();
  const r = spawnSync(ffmpeg, ["-hide_banner", "-nostdin", "-v", "error", "-y", ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(" ")} failed: ${r.stderr}`);
}

/** A video of a still image seen through a moving `-vf` crop at 10 fps (a camera panning over it). */
export function panVideo(
  image: string,
  crop: string,
  seconds: number,
  file: string,
  codec = ["-c:v", "libx264", "-preset", "ultrafast"],
): void {
  ffmpeg(["-loop", "1", "-framerate", "10", "-t", String(seconds), "-i", image, "-vf", crop, ...codec, file]);
}

export function hasEncoder(name: string): boolean {
  const { ffmpeg } = resolveFfmpeg();
  const out = execFileSync(ffmpeg, ["-hide_banner", "-encoders"], { encoding: "utf8" });
  return new RegExp(`^\\s*V\\S*\\s+${name}\\s`, "m").test(out);
}

/** Raw rgb24 bytes of frames decoded by the ffmpeg CLI itself (the oracle), with extra -vf filters. */
export function ffmpegFrames(file: string, vf: string | null, opts: { noautorotate?: boolean } = {}): Buffer {
  const { ffmpeg } = resolveFfmpeg();
  const args = ["-hide_banner", "-nostdin", "-v", "error"];
  if (opts.noautorotate) args.push("-noautorotate");
  args.push("-i", `file:${path.resolve(file)}`, "-an");
  if (vf) args.push("-vf", vf);
  args.push("-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1");
  const r = spawnSync(ffmpeg, args, { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`oracle ffmpeg failed: ${r.stderr}`);
  return r.stdout;
}

/** A camera-like pan over testsrc2: crop a w x h window moving across a larger pattern. */
function pan(w: number, h: number, fps: number, dur: number): string[] {
  return [
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${w * 2}x${h * 2}:rate=${fps}:duration=${dur}`,
    "-vf",
    `format=yuv444p,crop=${w}:${h}:x='t*${w / 4}':y='t*${h / 6}'`,
  ];
}

export interface TestVideos {
  dir: string;
  h264: string; // 64x48, 10 fps, 3 s, h264 (or mpeg4) in mp4
  avi: string; // mpeg4 in avi
  webm: string; // vp9 in webm
  mov: string; // mjpeg in mov
  odd: string; // 67x39 in mkv
  rot90: string; // h264.mp4 with a rotate=90 tag
  rot180: string;
  rot270: string;
  vfr: string; // variable frame rate, pts given below
  vfrPts: number[];
  truncated: string; // 128x96 4 s faststart mp4 cut at 60%
  tiny: string; // 1x1
  uhd: string; // 3840x2160, 2 frames
  long: string; // 160x120, 20 s, 25 fps (backpressure)
  weird: string; // name with spaces, quotes and non-ASCII
  text: string; // a text file named .mp4
  empty: string; // 0 bytes
  audio: string; // audio-only .mp4
  dirMp4: string; // a directory named .mp4
  missing: string;
}

export function makeTestVideos(dir: string): TestVideos {
  fs.mkdirSync(dir, { recursive: true });
  const p = (n: string) => path.join(dir, n);
  const x264 = hasEncoder("libx264");
  const h264Codec = x264 ? ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"] : ["-c:v", "mpeg4", "-q:v", "5"];
  const v: TestVideos = {
    dir,
    h264: p("pan.mp4"),
    avi: p("pan.avi"),
    webm: p("pan.webm"),
    mov: p("pan.mov"),
    odd: p("odd.mkv"),
    rot90: p("rot90.mp4"),
    rot180: p("rot180.mp4"),
    rot270: p("rot270.mp4"),
    vfr: p("vfr.mp4"),
    vfrPts: [],
    truncated: p("truncated.mp4"),
    tiny: p("tiny.mp4"),
    uhd: p("uhd.mp4"),
    long: p("long.mp4"),
    weird: p(`it's a "video" – é中 ü.mp4`),
    text: p("notes.mp4"),
    empty: p("empty.mp4"),
    audio: p("audio-only.mp4"),
    dirMp4: p("folder.mp4"),
    missing: p("does-not-exist.mp4"),
  };
  ffmpeg([...pan(64, 48, 10, 3), ...h264Codec, v.h264]);
  ffmpeg([...pan(64, 48, 10, 3), "-c:v", "mpeg4", "-q:v", "5", v.avi]);
  ffmpeg([...pan(64, 48, 10, 3), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", v.webm]);
  ffmpeg([...pan(64, 48, 10, 3), "-c:v", "mjpeg", "-q:v", "5", v.mov]);
  ffmpeg([...pan(67, 39, 10, 2), ...(x264 ? ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv444p"] : ["-c:v", "ffv1"]), v.odd]);
  ffmpeg(["-i", v.h264, "-c", "copy", "-metadata:s:v:0", "rotate=90", v.rot90]);
  ffmpeg(["-i", v.h264, "-c", "copy", "-metadata:s:v:0", "rotate=180", v.rot180]);
  ffmpeg(["-i", v.h264, "-c", "copy", "-metadata:s:v:0", "rotate=270", v.rot270]);
  // VFR: 10 frames 0.1 s apart, 10 frames 0.2 s apart, 10 frames 0.35 s apart (time base 1 ms).
  for (let n = 0; n < 30; n++) v.vfrPts.push((n * 100 + (n >= 10 ? (n - 10) * 100 : 0) + (n >= 20 ? (n - 20) * 150 : 0)) / 1000);
  ffmpeg([
    ...pan(64, 48, 10, 3).slice(0, 4),
    "-vf",
    "settb=1/1000,setpts=N*100+gte(N\\,10)*(N-10)*100+gte(N\\,20)*(N-20)*150",
    "-fps_mode",
    "vfr",
    "-enc_time_base:v",
    "1/1000",
    ...h264Codec,
    v.vfr,
  ]);
  const full = p("full.mp4");
  ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=128x96:rate=10:duration=4", ...h264Codec, "-g", "5", "-movflags", "+faststart", full]);
  const bytes = fs.readFileSync(full);
  fs.writeFileSync(v.truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  fs.rmSync(full);
  ffmpeg([
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=16x16:rate=5:duration=1",
    "-vf",
    "scale=1:1",
    ...(x264 ? ["-c:v", "libx264", "-pix_fmt", "yuv444p"] : ["-c:v", "ffv1"]),
    v.tiny,
  ]);
  ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=3840x2160:rate=2:duration=1", ...h264Codec, "-preset", "ultrafast", v.uhd]);
  ffmpeg([...pan(160, 120, 25, 20), ...h264Codec, v.long]);
  fs.copyFileSync(v.h264, v.weird);
  fs.writeFileSync(v.text, "hello, this is not a video\n".repeat(20));
  fs.writeFileSync(v.empty, "");
  ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", v.audio]);
  fs.mkdirSync(v.dirMp4, { recursive: true });
  return v;
}
