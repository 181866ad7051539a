// `mimic synth`: render N seeded scenes along camera trajectories and write
//
//   <out>/videos/<scene>.mp4            the RGB frames (ffmpeg: libx264 -crf 18, else mpeg4 -q:v 2)
//   <out>/videos/<scene>.poses.json     intrinsics, fps, per-frame time and world-from-camera
//   <out>/gt/<scene>/<frame>.depth.png  every frame's depth, 16-bit millimetres (for true correspondences)
//   <out>/rgb/<scene>_<frame>.jpg       probe dataset: every probeEvery seconds
//   <out>/depth/<scene>_<frame>.png     16-bit millimetres (0 = no depth), as NYU Depth v2 exports
//   <out>/labels/<scene>_<frame>.png    8-bit class ids (0 = unlabelled), as ADE20K
//   <out>/splits.json                   train/val split by scene (scene ids and file stems)
//   <out>/classes.json                  the label set (classes.ts)
//   <out>/synth.json                    config, per-scene summary, true-overlap statistics
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Gpu } from "../gpu/device.js";
import { readGray, writeJpeg, writePng } from "../image/io.js";
import { Pcg32 } from "../prng.js";
import { resolveFfmpeg } from "../video/ffmpeg.js";
import { type Intrinsics, intrinsicsFromFov, makeTrajectory, type TrajectoryKind } from "./camera.js";
import { classesJson } from "./classes.js";
import type { SynthPreset } from "./presets.js";
import { loadImageLayers, type RenderedFrame, SceneRenderer } from "./render.js";
import { buildMesh, generateScene } from "./scene.js";
import { DEFAULT_TRUTH, inBand, type TruthOptions, type TruthView, trueCorrespondence } from "./truth.js";

export interface SynthConfig {
  /** Output folder (created). */
  out: string;
  scenes: number;
  /** Seconds of video per scene. */
  seconds: number;
  fps: number;
  width: number;
  height: number;
  /** Master seed: scene i uses sceneSeed(seed, i). */
  seed: number;
  preset: SynthPreset;
  /** Write videos/*.mp4 (needs ffmpeg); poses and gt are always written. */
  video: boolean;
  /** Frames per render submit. */
  batch: number;
  /** Options of the true-overlap measurement between frames 1 s apart. */
  truth: TruthOptions;
  /** Optional folder of JPEG/PNG images used as wall and picture textures (TEXTURE.image). */
  textures?: string;
}

export interface SynthSceneSummary {
  id: string;
  seed: number;
  trajectory: TrajectoryKind;
  split: "train" | "val";
  frames: number;
  triangles: number;
  video: string | null;
  poses: string;
  /** True overlaps of frame pairs 1 s apart (k*fps, (k+1)*fps). */
  overlaps1s: number[];
}

export interface SynthSummary {
  out: string;
  preset: string;
  seed: number;
  width: number;
  height: number;
  fps: number;
  seconds: number;
  scenes: SynthSceneSummary[];
  frames: number;
  probeImages: { train: number; val: number };
  /** Over all scenes: pairs 1 s apart, mean true overlap, and fraction in the 50-75% band. */
  overlap1s: { pairs: number; mean: number; inBand: number; below: number; above: number };
  encoder: string | null;
  seconds_elapsed: number;
  framesPerSecond: number;
}

export interface PosesFile {
  scene: string;
  video: string | null;
  seed: number;
  trajectory: TrajectoryKind;
  width: number;
  height: number;
  fps: number;
  intrinsics: { fx: number; fy: number; cx: number; cy: number };
  convention: string;
  frames: { index: number; t: number; worldFromCam: number[] }[];
}

export const POSES_CONVENTION =
  "worldFromCam: 4x4 row-major, p_world = T p_cam; camera axes OpenCV (x right, y down, z forward), metres; " +
  "world y up; pixel (i, j) centre at (i + 0.5, j + 0.5); depth = camera z in metres (depth PNGs: millimetres, 0 = none)";

/** The seed of scene i of a run with master seed `seed`. */
export const sceneSeed = (seed: number, i: number): number => new Pcg32(seed, 0x5ce0 + i).nextU32();
export const sceneId = (i: number): string => `scene-${String(i).padStart(4, "0")}`;
export const frameStem = (scene: string, frame: number): string => `${scene}_${String(frame).padStart(6, "0")}`;
export const gtDepthPath = (dir: string, scene: string, frame: number): string =>
  path.join(dir, "gt", scene, `${String(frame).padStart(6, "0")}.depth.png`);

/** Depth in metres -> 16-bit millimetres (0 stays 0 = no depth; clamps at 65.535 m). */
export function depthToMm(depth: Float32Array): Uint16Array {
  const out = new Uint16Array(depth.length);
  for (let i = 0; i < depth.length; i++) out[i] = depth[i] > 0 ? Math.min(65535, Math.round(depth[i] * 1000)) : 0;
  return out;
}

interface Encoder {
  name: string;
  args: string[];
}

let encoderCache: Encoder | null = null;
function pickEncoder(ffmpeg: string): Encoder {
  if (encoderCache) return encoderCache;
  let list = "";
  try {
    list = execFileSync(ffmpeg, ["-hide_banner", "-encoders"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {}
  encoderCache = /\blibx264\b/.test(list)
    ? { name: "libx264 -crf 18", args: ["-c:v", "libx264", "-crf", "18", "-preset", "medium", "-pix_fmt", "yuv420p", "-threads", "1"] }
    : { name: "mpeg4 -q:v 2", args: ["-c:v", "mpeg4", "-q:v", "2", "-pix_fmt", "yuv420p"] };
  return encoderCache;
}

class VideoWriter {
  private proc: ChildProcessWithoutNullStreams;
  private stderr = "";
  private done: Promise<number>;
  constructor(ffmpeg: string, enc: Encoder, file: string, width: number, height: number, fps: number) {
    const args = [
      "-hide_banner",
      "-loglevel",
      "error",
      "-y",
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgb24",
      "-s",
      `${width}x${height}`,
      "-r",
      String(fps),
      "-i",
      "-",
      "-an",
      ...enc.args,
      "-fflags",
      "+bitexact",
      "-flags:v",
      "+bitexact",
      "-map_metadata",
      "-1",
      "-movflags",
      "+faststart",
      file,
    ];
    this.proc = spawn(ffmpeg, args, { stdio: ["pipe", "ignore", "pipe"] }) as unknown as ChildProcessWithoutNullStreams;
    this.proc.stderr.on("data", (d) => {
      this.stderr += String(d);
    });
    this.done = new Promise((res, rej) => {
      this.proc.on("error", rej);
      this.proc.on("close", (code) => res(code ?? 1));
    });
  }
  async write(rgb: Uint8Array): Promise<void> {
    if (!this.proc.stdin.write(rgb)) await new Promise<void>((r) => this.proc.stdin.once("drain", () => r()));
  }
  /** Stop ffmpeg after an error (the partial file is left for inspection). */
  abort(): void {
    this.proc.stdin.destroy();
    this.proc.kill("SIGKILL");
  }
  async close(file: string): Promise<void> {
    this.proc.stdin.end();
    const code = await this.done;
    if (code !== 0) throw new Error(`ffmpeg failed writing ${file} (exit ${code}): ${this.stderr.trim()}`);
  }
}

export type SynthProgress = (framesDone: number, framesTotal: number, scene: string) => void;

/** Render and write a synthetic dataset (see the file header for the layout). */
export async function synthesize(gpu: Gpu, cfg: SynthConfig, onProgress?: SynthProgress): Promise<SynthSummary> {
  const t0 = performance.now();
  if (cfg.scenes < 1 || cfg.seconds <= 0 || cfg.fps <= 0) throw new Error("synth: scenes, seconds and fps must be positive");
  const out = cfg.out;
  for (const d of ["videos", "gt", "rgb", "depth", "labels"]) fs.mkdirSync(path.join(out, d), { recursive: true });
  const frames = Math.max(1, Math.round(cfg.seconds * cfg.fps));
  const probeStride = Math.max(1, Math.round(cfg.preset.probeEvery * cfg.fps));
  const pairStride = Math.max(1, Math.round(cfg.fps)); // frames 1 s apart
  const K: Intrinsics = intrinsicsFromFov(cfg.width, cfg.height, cfg.preset.trajectory.hfovDeg);
  // val: the last round(scenes * valFraction) scenes, at least 1 (2 from 5 scenes on: a val split of
  // one scene scores one room, and its intervals say nothing about other rooms)
  const nVal = cfg.scenes >= 2 ? Math.max(cfg.scenes >= 5 ? 2 : 1, Math.round(cfg.scenes * cfg.preset.valFraction)) : 0;
  if (cfg.video && (cfg.width % 2 || cfg.height % 2))
    throw new Error(`synth: video frames need even sides (yuv420p), got ${cfg.width}x${cfg.height}; use an even size or video: false`);
  let ff: ReturnType<typeof resolveFfmpeg> | null = null;
  if (cfg.video)
    try {
      ff = resolveFfmpeg();
    } catch (e) {
      throw new Error(`${(e as Error).message} (or pass --no-video to skip the mp4 files)`);
    }
  const enc = ff ? pickEncoder(ff.ffmpeg) : null;
  const textures = cfg.textures ? await loadImageLayers(cfg.textures) : null;
  const summaries: SynthSceneSummary[] = [];
  const files = { train: [] as string[], val: [] as string[] };
  let done = 0;

  for (let s = 0; s < cfg.scenes; s++) {
    const id = sceneId(s);
    const seed = sceneSeed(cfg.seed, s);
    const split: "train" | "val" = s >= cfg.scenes - nVal ? "val" : "train";
    const kind = cfg.preset.trajectories[s % cfg.preset.trajectories.length];
    const scene = generateScene(seed, cfg.preset.scene, { images: textures !== null });
    const mesh = buildMesh(scene.primitives);
    const traj = makeTrajectory(scene, kind, seed ^ 0x9e3779b9, cfg.preset.trajectory);
    const renderer = new SceneRenderer(gpu, mesh, cfg.width, cfg.height, {
      batch: cfg.batch,
      lights: scene.lights,
      ambient: scene.ambient,
      images: textures?.images,
    });
    fs.mkdirSync(path.join(out, "gt", id), { recursive: true });
    const videoFile = path.join(out, "videos", `${id}.mp4`);
    const video = ff && enc ? new VideoWriter(ff.ffmpeg, enc, videoFile, cfg.width, cfg.height, cfg.fps) : null;
    const poses: PosesFile["frames"] = [];
    const keep = new Map<number, TruthView>();
    const overlaps: number[] = [];
    try {
      for (let f0 = 0; f0 < frames; f0 += cfg.batch) {
        const idx = Array.from({ length: Math.min(cfg.batch, frames - f0) }, (_, k) => f0 + k);
        const views = idx.map((i) => ({ K, worldFromCam: traj.pose(i / cfg.fps) }));
        const rendered: RenderedFrame[] = await renderer.render(views);
        const writes: Promise<void>[] = [];
        for (let k = 0; k < idx.length; k++) {
          const i = idx[k];
          const fr = rendered[k];
          poses.push({ index: i, t: i / cfg.fps, worldFromCam: Array.from(views[k].worldFromCam) });
          if (video) await video.write(fr.rgb);
          const mm = depthToMm(fr.depth);
          writes.push(writePng(gtDepthPath(out, id, i), cfg.width, cfg.height, mm, 1));
          if (i % probeStride === 0) {
            const stem = frameStem(id, i);
            writes.push(
              writeJpeg(path.join(out, "rgb", `${stem}.jpg`), { width: cfg.width, height: cfg.height, rgb: fr.rgb }, 95),
              writePng(path.join(out, "depth", `${stem}.png`), cfg.width, cfg.height, mm, 1),
              writePng(path.join(out, "labels", `${stem}.png`), cfg.width, cfg.height, fr.labels, 1),
            );
            files[split].push(stem);
          }
          if (i % pairStride === 0) {
            // true overlap against the frame 1 s earlier, with the depth as stored (mm)
            const depthM = Float32Array.from(mm, (v) => v / 1000);
            const view: TruthView = { K, worldFromCam: views[k].worldFromCam, depth: depthM };
            const prev = keep.get(i - pairStride);
            if (prev) overlaps.push(trueCorrespondence(prev, view, cfg.truth).overlap);
            keep.delete(i - pairStride);
            keep.set(i, view);
          }
        }
        await Promise.all(writes);
        done += idx.length;
        onProgress?.(done, frames * cfg.scenes, id);
      }
      if (video) await video.close(videoFile);
    } catch (e) {
      video?.abort();
      throw new Error(`synth: scene ${id} (seed ${seed}): ${(e as Error).message}`);
    } finally {
      renderer.destroy();
    }
    const posesFile: PosesFile = {
      scene: id,
      video: video ? `${id}.mp4` : null,
      seed,
      trajectory: kind,
      width: cfg.width,
      height: cfg.height,
      fps: cfg.fps,
      intrinsics: { fx: K.fx, fy: K.fy, cx: K.cx, cy: K.cy },
      convention: POSES_CONVENTION,
      frames: poses,
    };
    const posesPath = path.join(out, "videos", `${id}.poses.json`);
    fs.writeFileSync(posesPath, `${JSON.stringify(posesFile)}\n`);
    summaries.push({
      id,
      seed,
      trajectory: kind,
      split,
      frames,
      triangles: mesh.triangleCount,
      video: video ? path.join("videos", `${id}.mp4`) : null,
      poses: path.join("videos", `${id}.poses.json`),
      overlaps1s: overlaps.map((o) => Math.round(o * 1e4) / 1e4),
    });
  }

  const all = summaries.flatMap((s) => s.overlaps1s);
  const frac = (f: (x: number) => boolean) => (all.length ? all.filter(f).length / all.length : 0);
  const elapsed = (performance.now() - t0) / 1000;
  const summary: SynthSummary = {
    out,
    preset: cfg.preset.name,
    seed: cfg.seed,
    width: cfg.width,
    height: cfg.height,
    fps: cfg.fps,
    seconds: cfg.seconds,
    scenes: summaries,
    frames: frames * cfg.scenes,
    probeImages: { train: files.train.length, val: files.val.length },
    overlap1s: {
      pairs: all.length,
      mean: all.length ? all.reduce((a, b) => a + b, 0) / all.length : 0,
      inBand: frac((x) => inBand(x)),
      below: frac((x) => x < 0.5),
      above: frac((x) => x > 0.75),
    },
    encoder: enc?.name ?? null,
    seconds_elapsed: elapsed,
    framesPerSecond: (frames * cfg.scenes) / elapsed,
  };
  fs.writeFileSync(path.join(out, "classes.json"), `${JSON.stringify(classesJson(), null, 2)}\n`);
  fs.writeFileSync(
    path.join(out, "splits.json"),
    `${JSON.stringify(
      {
        train: summaries.filter((s) => s.split === "train").map((s) => s.id),
        val: summaries.filter((s) => s.split === "val").map((s) => s.id),
        files,
        layout: "rgb/<stem>.jpg, depth/<stem>.png (uint16 mm, 0 = none), labels/<stem>.png (uint8 class id, 0 = unlabelled)",
      },
      null,
      2,
    )}\n`,
  );
  // synth.json: everything except timings, so that the same seed gives identical bytes
  const { seconds_elapsed: _e, framesPerSecond: _f, ...stable } = summary;
  fs.writeFileSync(
    path.join(out, "synth.json"),
    `${JSON.stringify(
      {
        ...stable,
        out: undefined,
        preset: cfg.preset,
        truth: cfg.truth,
        textures: textures ? { files: textures.files, skipped: textures.skipped } : null,
        convention: POSES_CONVENTION,
      },
      null,
      2,
    )}\n`,
  );
  return summary;
}

// ---- reading a synth dataset back (for true correspondences of any two frames) -----------------

export interface SynthSceneReader {
  poses: PosesFile;
  K: Intrinsics;
  /** The frame index nearest to time t (seconds). */
  frameAt(t: number): number;
  /** Depth (metres, from gt/<scene>/<frame>.depth.png) and pose of a frame. */
  view(frame: number): Promise<TruthView>;
}

/** Open scene `scene` (e.g. 'scene-0003') of the synth dataset in `dir`. */
export function openSynthScene(dir: string, scene: string): SynthSceneReader {
  const file = path.join(dir, "videos", `${scene}.poses.json`);
  if (!fs.existsSync(file)) throw new Error(`no poses for scene '${scene}': ${file} is missing (is ${dir} a 'mimic synth' output?)`);
  const poses = JSON.parse(fs.readFileSync(file, "utf8")) as PosesFile;
  const K: Intrinsics = { ...poses.intrinsics, width: poses.width, height: poses.height };
  return {
    poses,
    K,
    frameAt: (t) => Math.min(poses.frames.length - 1, Math.max(0, Math.round(t * poses.fps))),
    async view(frame) {
      const p = poses.frames[frame];
      if (!p) throw new Error(`scene '${scene}' has no frame ${frame} (0..${poses.frames.length - 1})`);
      const g = await readGray(gtDepthPath(dir, scene, frame));
      if (g.width !== poses.width || g.height !== poses.height)
        throw new Error(`${gtDepthPath(dir, scene, frame)}: size differs from poses`);
      return { K, worldFromCam: p.worldFromCam, depth: Float32Array.from(g.data, (v) => v / 1000) };
    },
  };
}

export { DEFAULT_TRUTH };
