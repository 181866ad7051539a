// The synthetic-scene renderer (shaders/render/scene.wgsl via src/synth/render.ts): depth and labels
// exact for analytic scenes, agreement with the CPU ray-casting twin (src/ref/synth/raycast.ts)
// on a generated scene, and identical bytes for identical inputs.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writePng } from "../../src/image/io.js";
import { raycastTruth } from "../../src/ref/synth/raycast.js";
import { intrinsicsFromFov, makeTrajectory } from "../../src/synth/camera.js";
import { CLASS } from "../../src/synth/classes.js";
import { loadImageLayers, SceneRenderer } from "../../src/synth/render.js";
import { buildMesh, generateScene, type Material, type Primitive, TEXTURE } from "../../src/synth/scene.js";
import { testGpu } from "../helpers.js";

const W = 64;
const H = 48;
const K = intrinsicsFromFov(W, H, 65);
const IDENTITY = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
const plain: Material = { kind: TEXTURE.noise, color1: [0.5, 0.5, 0.5], color2: [0.2, 0.3, 0.4], seed: 1, scale: 2 };

describe("render/scene.wgsl (SceneRenderer)", () => {
  it("a fronto-parallel plane at distance d: depth == d and one label everywhere", async () => {
    const gpu = await testGpu();
    const d = 2.75;
    const quad: Primitive = { type: "quad", origin: [-10, -10, d], u: [20, 0, 0], v: [0, 20, 0], classId: CLASS.wall, material: plain };
    const r = new SceneRenderer(gpu, buildMesh([quad]), W, H);
    const [f] = await r.render([{ K, worldFromCam: IDENTITY }]);
    r.destroy();
    let maxErr = 0;
    for (let i = 0; i < W * H; i++) maxErr = Math.max(maxErr, Math.abs(f.depth[i] - d));
    expect(maxErr, `max |depth - ${d}| = ${maxErr}`).toBeLessThan(1e-5 * d);
    expect(f.labels.every((l) => l === CLASS.wall)).toBe(true);
    // the colour pass drew something textured (not the clear colour, not flat)
    const g = Array.from({ length: W * H }, (_, i) => f.rgb[i * 3 + 1]);
    expect(Math.max(...g) - Math.min(...g)).toBeGreaterThan(10);
  });

  it("a slanted plane: depth == the analytic ray-plane distance", async () => {
    const gpu = await testGpu();
    // plane through (0, 0, 3) with normal n = (sin 30deg, 0, -cos 30deg) (tilted about y)
    const a = Math.PI / 6;
    const t: [number, number, number] = [Math.cos(a) * 20, 0, Math.sin(a) * 20];
    const quad: Primitive = {
      type: "quad",
      origin: [-t[0] / 2, -10, 3 - t[2] / 2],
      u: t,
      v: [0, 20, 0],
      classId: CLASS.floor,
      material: plain,
    };
    const r = new SceneRenderer(gpu, buildMesh([quad]), W, H);
    const [f] = await r.render([{ K, worldFromCam: IDENTITY }]);
    r.destroy();
    const n = [Math.sin(a), 0, -Math.cos(a)];
    const c = n[2] * 3;
    let maxRel = 0;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const rx = (x + 0.5 - K.cx) / K.fx;
        const ry = (y + 0.5 - K.cy) / K.fy;
        const z = c / (n[0] * rx + n[1] * ry + n[2]);
        maxRel = Math.max(maxRel, Math.abs(f.depth[y * W + x] - z) / z);
      }
    expect(maxRel, `max relative depth error ${maxRel}`).toBeLessThan(2e-5);
  });

  it("a cube of known size: its pixel footprint and its depth are the analytic ones", async () => {
    const gpu = await testGpu();
    const s = 0.9;
    const c: [number, number, number] = [0.11, -0.05, 3.2];
    const prims: Primitive[] = [
      { type: "box", center: c, size: [s, s, s], yaw: 0, classId: CLASS.clutter, material: plain },
      { type: "quad", origin: [-20, -20, 8], u: [40, 0, 0], v: [0, 40, 0], classId: CLASS.wall, material: plain },
    ];
    const r = new SceneRenderer(gpu, buildMesh(prims), W, H);
    const [f] = await r.render([{ K, worldFromCam: IDENTITY }]);
    r.destroy();
    const zf = c[2] - s / 2; // front face
    const u0 = (K.fx * (c[0] - s / 2)) / zf + K.cx;
    const u1 = (K.fx * (c[0] + s / 2)) / zf + K.cx;
    const v0 = (K.fy * (c[1] - s / 2)) / zf + K.cy;
    const v1 = (K.fy * (c[1] + s / 2)) / zf + K.cy;
    // no pixel centre sits on an edge (else rasterisation rules decide)
    for (const e of [u0, u1, v0, v1]) expect(Math.abs(e - 0.5 - Math.round(e - 0.5)), `edge at ${e}`).toBeGreaterThan(0.02);
    let inside = 0;
    let wrongLabel = 0;
    let maxErr = 0;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const inCube = x + 0.5 > u0 && x + 0.5 < u1 && y + 0.5 > v0 && y + 0.5 < v1;
        if (inCube) inside++;
        const want = inCube ? CLASS.clutter : CLASS.wall;
        if (f.labels[y * W + x] !== want) wrongLabel++;
        maxErr = Math.max(maxErr, Math.abs(f.depth[y * W + x] - (inCube ? zf : 8)));
      }
    expect(inside).toBeGreaterThan(100);
    expect(wrongLabel, `${wrongLabel} pixels with the wrong label (cube footprint ${inside} px)`).toBe(0);
    expect(maxErr, `max depth error ${maxErr}`).toBeLessThan(1e-4);
    // the centre pixel sees the front face at c.z - s/2
    const cu = Math.floor((K.fx * c[0]) / zf + K.cx);
    const cv = Math.floor((K.fy * c[1]) / zf + K.cy);
    expect(Math.abs(f.depth[cv * W + cu] - zf)).toBeLessThan(1e-5);
  });

  it("matches the CPU ray-casting twin (ref/synth/raycast.ts) on a generated scene", async () => {
    const gpu = await testGpu();
    const scene = generateScene(4242, {
      roomSize: [6, 7],
      roomHeight: [2.6, 2.8],
      furnitureDensity: 0.9,
      centerpiece: 1,
      lights: 2,
      segments: 10,
    });
    const mesh = buildMesh(scene.primitives);
    const traj = makeTrajectory(scene, "orbit", 3);
    const pose = traj.pose(1.5);
    const r = new SceneRenderer(gpu, mesh, W, H, { lights: scene.lights });
    const [f] = await r.render([{ K, worldFromCam: pose }]);
    r.destroy();
    const cpu = raycastTruth(mesh, K, pose);
    let labelDiff = 0;
    let depthBad = 0;
    let maxRel = 0;
    for (let i = 0; i < W * H; i++) {
      if (f.labels[i] !== cpu.labels[i]) labelDiff++;
      const rel = Math.abs(f.depth[i] - cpu.depth[i]) / cpu.depth[i];
      if (rel > 1e-4) depthBad++;
      else maxRel = Math.max(maxRel, rel);
    }
    // pixel centres on silhouette edges can go either way; everything else must agree
    expect(labelDiff / (W * H), `labels differ at ${labelDiff} of ${W * H} pixels`).toBeLessThan(0.01);
    expect(depthBad / (W * H), `depth differs (>1e-4 rel) at ${depthBad} pixels`).toBeLessThan(0.01);
    expect(new Set(f.labels).size).toBeGreaterThan(3);
  });

  it("renders identical bytes for the same scene and poses (batched or not)", async () => {
    const gpu = await testGpu();
    const scene = generateScene(77);
    const mesh = buildMesh(scene.primitives);
    const traj = makeTrajectory(scene, "walk", 5);
    const views = [0, 0.5, 1].map((t) => ({ K, worldFromCam: traj.pose(t) }));
    const r1 = new SceneRenderer(gpu, mesh, W, H, { batch: 3, lights: scene.lights });
    const a = await r1.render(views);
    r1.destroy();
    const r2 = new SceneRenderer(gpu, buildMesh(generateScene(77).primitives), W, H, { batch: 1, lights: scene.lights });
    const b = await r2.render(views);
    r2.destroy();
    for (let i = 0; i < 3; i++) {
      expect(Buffer.compare(Buffer.from(a[i].rgb), Buffer.from(b[i].rgb))).toBe(0);
      expect(Buffer.compare(Buffer.from(a[i].depth.buffer), Buffer.from(b[i].depth.buffer))).toBe(0);
      expect(Buffer.compare(Buffer.from(a[i].labels), Buffer.from(b[i].labels))).toBe(0);
    }
    // and consecutive frames differ (the camera moves)
    expect(Buffer.compare(Buffer.from(a[0].rgb), Buffer.from(a[1].rgb))).not.toBe(0);
  });
  it("image textures (kind 8): layer seed % layers from a folder of images", async () => {
    const gpu = await testGpu();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-tex-"));
    const solid = (r: number, g: number, b: number) => Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => [r, g, b][i % 3]);
    await writePng(path.join(dir, "a.png"), 8, 8, solid(255, 0, 0), 3);
    await writePng(path.join(dir, "b.png"), 8, 8, solid(0, 0, 255), 3);
    fs.writeFileSync(path.join(dir, "notes.txt"), "not an image");
    const { images, files } = await loadImageLayers(dir, 16);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(files).toEqual(["a.png", "b.png"]);
    expect([images.width, images.height, images.layers]).toEqual([16, 16, 2]);
    for (const [seed, want] of [
      [4, 0], // 4 % 2 = layer 0: red
      [7, 2], // layer 1: blue
    ]) {
      const mat: Material = { kind: TEXTURE.image, color1: [0, 0, 0], color2: [0, 0, 0], seed, scale: 1 };
      const quad: Primitive = { type: "quad", origin: [-10, -10, 2], u: [20, 0, 0], v: [0, 20, 0], classId: CLASS.picture, material: mat };
      const r = new SceneRenderer(gpu, buildMesh([quad]), W, H, { images });
      const [f] = await r.render([{ K, worldFromCam: IDENTITY }]);
      r.destroy();
      let off = 0;
      let minOn = 255;
      for (let i = 0; i < W * H; i++)
        for (let c = 0; c < 3; c++) {
          const v = f.rgb[i * 3 + c];
          if (c === want) minOn = Math.min(minOn, v);
          else off = Math.max(off, v);
        }
      expect(off, `seed ${seed}: other channels`).toBe(0);
      expect(minOn, `seed ${seed}: channel ${want}`).toBeGreaterThan(40);
    }
  });
});
