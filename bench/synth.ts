// Synthetic-scene rendering on the adapter: frames/s at 224x224 (and the default 320x240) of the
// WebGPU renderer (shaders/render/scene.wgsl): RGB with MSAA 4x + metric depth + class ids, read
// back to the host, `batch` frames per submit. Peer: the CPU ray-casting twin
// (src/ref/synth/raycast.ts, plain TypeScript) computing depth and labels only (no RGB) for the
// same scene and poses: a lower bound on what a CPU renderer in this repo costs. No external peer
// renders the same scenes.
import { describeAdapter, getGpu } from "../src/gpu/device.js";
import { raycastTruth } from "../src/ref/synth/raycast.js";
import { intrinsicsFromFov, makeTrajectory } from "../src/synth/camera.js";
import { SceneRenderer } from "../src/synth/render.js";
import { buildMesh, generateScene } from "../src/synth/scene.js";
import { type BenchOptions, type BenchResult, row, timeMs } from "./lib.js";

export async function bench(opts: BenchOptions = {}): Promise<BenchResult> {
  const gpu = await getGpu();
  const scene = generateScene(1);
  const mesh = buildMesh(scene.primitives);
  const traj = makeTrajectory(scene, "walk", 1);
  const batch = 8;
  const repeats = opts.quick ? 2 : 4;
  const rows = [];
  const sizes: [number, number][] = opts.quick
    ? [[224, 224]]
    : [
        [224, 224],
        [320, 240],
      ];
  let t = 0;
  for (const [w, h] of sizes) {
    const K = intrinsicsFromFov(w, h, 65);
    const r = new SceneRenderer(gpu, mesh, w, h, { batch, lights: scene.lights });
    const views = () => Array.from({ length: batch }, () => ({ K, worldFromCam: traj.pose((t += 0.1)) }));
    const ms = await timeMs(() => r.render(views()), repeats);
    r.destroy();
    const r1 = new SceneRenderer(gpu, mesh, w, h, { batch, samples: 1, lights: scene.lights });
    const ms1 = await timeMs(() => r1.render(views()), repeats);
    r1.destroy();
    const cpuMs = await timeMs(() => raycastTruth(mesh, K, traj.pose((t += 0.1))), 1, 0);
    rows.push(row(`render ${w}x${h} RGB MSAA4 + depth + labels, batch ${batch}`, "frames/s", (1e3 * batch) / ms, 1e3 / cpuMs));
    rows.push(row(`render ${w}x${h} RGB no MSAA + depth + labels, batch ${batch}`, "frames/s", (1e3 * batch) / ms1, 1e3 / cpuMs));
  }
  return {
    name: "synth",
    peer: "CPU ray-cast twin (depth+labels only)",
    adapter: describeAdapter(gpu.adapter),
    rows,
    notes: [
      `Scene seed 1: ${mesh.triangleCount} triangles; walk trajectory; times include uniform upload and readback of all three images.`,
      "The peer (src/ref/synth/raycast.ts) renders no RGB, so the ratio understates the renderer's lead; no external renderer draws these scenes.",
    ],
  };
}
