// Mining throughput and agreement: our miner (`mimic mine --preset mimic`, GPU kernels) vs MIMIC's
// recipe written with OpenCV in Python (bench/peers/mine.py), on the same synthetic videos in the
// same run; then our default preset on the same videos (candidate and kept pairs/s against the
// same peer figures). Reports candidate pairs/s for both, their ratio, how often the two agree on
// keep/reject for the same consecutive pair (matched by video and first-frame time), and on how
// many pairs the overlap is the same to the patch (the preset reproduces MIMIC's pixels
// (cv2.resize, cvtColor), cv2.findHomography and the patch vote, so they should all agree).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describeAdapter, type Gpu, getGpu } from "../src/gpu/device.js";
import { minePresets } from "../src/mine/config.js";
import { minePairs } from "../src/mine/pipeline.js";
import { type BenchOptions, type BenchResult, row, runPython } from "./lib.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const peer = path.resolve(here, "../../bench/peers/mine.py");

/** GPU traffic while `fn` runs: buffers created, submits, bytes written by the queue and mapped back. */
async function countTraffic<T>(gpu: Gpu, fn: () => Promise<T>): Promise<{ value: T; n: Record<string, number> }> {
  const dev = gpu.device as unknown as Record<string, unknown>;
  const q = gpu.device.queue as unknown as Record<string, unknown>;
  const probe = gpu.device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const bufProto = Object.getPrototypeOf(probe) as Record<string, unknown>;
  probe.destroy();
  const n = { buffers: 0, submits: 0, writeBytes: 0, readBytes: 0 };
  const orig = { createBuffer: dev.createBuffer, submit: q.submit, writeBuffer: q.writeBuffer, getMappedRange: bufProto.getMappedRange };
  const wrap = (o: Record<string, unknown>, key: keyof typeof orig, count: (a: unknown[], r: unknown) => void) => {
    const f = orig[key] as (...a: unknown[]) => unknown;
    o[key] = function (this: unknown, ...a: unknown[]) {
      const r = f.apply(this, a);
      count(a, r);
      return r;
    };
  };
  wrap(dev, "createBuffer", () => n.buffers++);
  wrap(q, "submit", () => n.submits++);
  wrap(q, "writeBuffer", (a) => {
    const d = a[2] as ArrayBufferView | ArrayBuffer;
    n.writeBytes += a[4] !== undefined ? (a[4] as number) * ("BYTES_PER_ELEMENT" in d ? (d.BYTES_PER_ELEMENT as number) : 1) : d.byteLength;
  });
  wrap(bufProto, "getMappedRange", (_a, r) => {
    n.readBytes += (r as ArrayBuffer).byteLength;
  });
  try {
    return { value: await fn(), n };
  } finally {
    // Own properties shadowed the prototype's methods; deleting them restores those.
    delete dev.createBuffer;
    delete q.submit;
    delete q.writeBuffer;
    bufProto.getMappedRange = orig.getMappedRange;
  }
}

export async function bench(opts: BenchOptions = {}): Promise<BenchResult> {
  const gpu = await getGpu();
  const scenes = opts.quick ? 2 : 4;
  const seconds = opts.quick ? 8 : 20;
  const dir = path.join(os.tmpdir(), `mimic-bench-mine-${scenes}x${seconds}`);
  const videos = path.join(dir, "synth", "videos");
  if (!fs.existsSync(path.join(dir, "synth", "synth.json"))) {
    const bin = path.resolve(here, "../../bin/mimic.js");
    const args = [
      "synth",
      "--out",
      path.join(dir, "synth"),
      "--scenes",
      String(scenes),
      "--seconds",
      String(seconds),
      "--fps",
      "10",
      "--size",
      "320x240",
      "--seed",
      "11",
      "--quiet",
    ];
    const r = spawnSync(process.execPath, [bin, ...args], { stdio: "inherit" });
    if (r.status !== 0) throw new Error("mimic synth failed for the mining bench");
  }
  const files = fs
    .readdirSync(videos)
    .filter((f) => f.endsWith(".mp4"))
    .sort()
    .map((f) => path.join(videos, f));

  // Ours (warm the pipelines first on the first video so compile time is not counted).
  await minePairs({ input: files[0], out: path.join(dir, "warm"), config: minePresets.mimic, force: true, quiet: true });
  const t0 = performance.now();
  const { value: ours, n: traffic } = await countTraffic(gpu, () =>
    minePairs({ input: videos, out: path.join(dir, "ours"), config: minePresets.mimic, force: true, quiet: true }),
  );
  const oursSec = (performance.now() - t0) / 1e3;
  const oursCands = fs
    .readFileSync(path.join(dir, "ours", "candidates.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { video: string; t1: number; kept: boolean; overlap: number | null });

  // Our default preset (window of 3 partners, SIFT without upsampling) on the same videos.
  await minePairs({ input: files[0], out: path.join(dir, "warm-default"), config: minePresets.default, force: true, quiet: true });
  const t1 = performance.now();
  const { value: def, n: defTraffic } = await countTraffic(gpu, () =>
    minePairs({ input: videos, out: path.join(dir, "ours-default"), config: minePresets.default, force: true, quiet: true }),
  );
  const defSec = (performance.now() - t1) / 1e3;

  // Peer.
  type PeerCand = { video: string; t1: number; kept: boolean; overlap: number | null };
  const p = JSON.parse(runPython(peer, files)) as { seconds: number; candidates: PeerCand[] };
  const key = (c: { video: string; t1: number }) => `${path.basename(c.video)}@${Math.round(c.t1)}`;
  const peerByKey = new Map(p.candidates.map((c) => [key(c), c]));
  const patches = (ov: number | null) => (ov === null ? null : Math.round(ov * (224 / 16) ** 2));
  let both = 0;
  let agree = 0;
  let sameOverlap = 0;
  const differ: string[] = [];
  // A disagreement is read against the 50-75% band: near an edge, RANSAC's own samples decide it.
  const pct = (ov: number | null) => (ov === null ? "none" : `${(100 * ov).toFixed(1)}%`);
  for (const c of oursCands) {
    const q = peerByKey.get(key(c));
    if (q === undefined) continue;
    both++;
    if (q.kept === c.kept) agree++;
    else differ.push(`${key(c)} (overlap ours ${pct(c.overlap)}, peer ${pct(q.overlap)})`);
    if (patches(q.overlap) === patches(c.overlap)) sameOverlap++;
  }
  const stages = (
    JSON.parse(fs.readFileSync(path.join(dir, "ours", "stats.json"), "utf8")) as { run: { stageSeconds?: Record<string, number> } }
  ).run.stageSeconds;
  const ourRate = oursCands.length / oursSec;
  const peerRate = p.candidates.length / p.seconds;
  const peerKept = p.candidates.filter((c) => c.kept).length;
  return {
    name: "mine",
    peer: "MIMIC's recipe, OpenCV 4.6 (python3-opencv)",
    adapter: describeAdapter(gpu.adapter),
    rows: [
      row(`candidate pairs/s, ${files.length} videos x ${seconds} s, preset mimic`, "pairs/s", ourRate, peerRate),
      row("pairs kept, preset mimic", "pairs", ours.kept, peerKept),
      row(`candidate pairs/s, preset default (window ${minePresets.default.window})`, "pairs/s", def.candidates / defSec, peerRate),
      row("pairs kept/s, preset default", "pairs/s", def.kept / defSec, peerKept / p.seconds),
      row("keep/reject agreement on the same pairs", "%", both ? (100 * agree) / both : 0, null),
      row("same overlap (to the patch) on the same pairs", "%", both ? (100 * sameOverlap) / both : 0, null),
    ],
    notes: [
      `preset default: ${def.candidates} candidates (each frame against the next ${minePresets.default.window} samples; MIMIC's recipe tries only the next), ${def.kept} kept, in ${defSec.toFixed(1)} s.`,
      `ours: ${oursCands.length} candidates in ${oursSec.toFixed(1)} s (decode, SIFT, matching, RANSAC, correspondences, JPEG writing); peer: ${p.candidates.length} candidates in ${p.seconds.toFixed(1)} s (seek per sample, SIFT, BFMatcher, findHomography, overlap; no writing).`,
      `agreement over ${both} pairs present in both runs${differ.length ? `; keep/reject differs on ${differ.join(", ")}` : ""}.`,
      ...[
        ["mimic", traffic, ours.candidates],
        ["default", defTraffic, def.candidates],
      ].map(([name, t, c]) => {
        const per = (k: string) => ((t as Record<string, number>)[k] / (c as number)).toFixed(k.endsWith("Bytes") ? 0 : 2);
        return `GPU traffic per candidate pair, preset ${name}: ${per("buffers")} buffers created, ${per("submits")} submits, ${per("writeBytes")} bytes written by the queue, ${per("readBytes")} bytes read back (whole run, decode to kept pairs).`;
      }),
      `ours, seconds the main thread waited per stage: ${Object.entries(stages ?? {})
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(", ")} (features = RGB->gray + sharpness + SIFT on the GPU, with readback).`,
    ],
  };
}
