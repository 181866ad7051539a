// True correspondences (src/synth/truth.ts) from rendered depth and poses: exact for a pure camera
// rotation, where the homography K R K^-1 maps every pixel independent of depth.
import { describe, expect, it } from "vitest";
import { intrinsicsFromFov, invertRigid, mul4, poseLookDir } from "../../src/synth/camera.js";
import { SceneRenderer } from "../../src/synth/render.js";
import { buildMesh, generateScene } from "../../src/synth/scene.js";
import {
  cropRegion,
  DEFAULT_TRUTH,
  patchAt,
  patchSamples,
  relativePose,
  reprojectPixel,
  type TruthView,
  trueCorrespondence,
} from "../../src/synth/truth.js";
import { testGpu } from "../helpers.js";

const W = 128;
const H = 96;
const K = intrinsicsFromFov(W, H, 65);

/** Two views from the same eye in a room without furniture (no occlusion edges). */
async function rotatedViews(): Promise<[TruthView, TruthView]> {
  const gpu = await testGpu();
  const scene = generateScene(9, { roomSize: [8, 8], roomHeight: [3, 3], furnitureDensity: 0, centerpiece: 0, lights: 2, segments: 8 });
  const shell = scene.primitives.filter((p) => p.type === "quad");
  const eye: [number, number, number] = [scene.size[0] / 2, 1.5, scene.size[2] / 2];
  const a = poseLookDir(eye, [0.3, -0.1, -1]);
  const b = poseLookDir(eye, [0.55, -0.02, -1], 0.04); // yaw, pitch and roll
  const r = new SceneRenderer(gpu, buildMesh(shell), W, H, { samples: 1 });
  const [fa, fb] = await r.render([
    { K, worldFromCam: a },
    { K, worldFromCam: b },
  ]);
  r.destroy();
  return [
    { K, worldFromCam: a, depth: fa.depth },
    { K, worldFromCam: b, depth: fb.depth },
  ];
}

/** The homography K R K^-1 of the pure rotation from view a to view b (row-major 3x3). */
function homography(a: TruthView, b: TruthView): number[] {
  const T = mul4(invertRigid(b.worldFromCam), a.worldFromCam);
  const R = [T[0], T[1], T[2], T[4], T[5], T[6], T[8], T[9], T[10]];
  const Km = [K.fx, 0, K.cx, 0, K.fy, K.cy, 0, 0, 1];
  const Ki = [1 / K.fx, 0, -K.cx / K.fx, 0, 1 / K.fy, -K.cy / K.fy, 0, 0, 1];
  const m3 = (x: number[], y: number[]) =>
    Array.from(
      { length: 9 },
      (_, i) =>
        x[Math.floor(i / 3) * 3] * y[i % 3] + x[Math.floor(i / 3) * 3 + 1] * y[3 + (i % 3)] + x[Math.floor(i / 3) * 3 + 2] * y[6 + (i % 3)],
    );
  return m3(Km, m3(R, Ki));
}

const applyH = (Hm: number[], u: number, v: number): [number, number] => {
  const w = Hm[6] * u + Hm[7] * v + Hm[8];
  return [(Hm[0] * u + Hm[1] * v + Hm[2]) / w, (Hm[3] * u + Hm[4] * v + Hm[5]) / w];
};

describe("true correspondences (synth/truth.ts)", () => {
  it("a view against itself: overlap 1 and the identity mapping", async () => {
    const [a] = await rotatedViews();
    const t = trueCorrespondence(a, a);
    expect(t.overlap).toBe(1);
    for (let p = 0; p < 196; p++) expect(t.correspondence[p]).toBe(p);
  });

  it("pure rotation: reprojection equals the homography K R K^-1 at every pixel", async () => {
    const [a, b] = await rotatedViews();
    const Hm = homography(a, b);
    const T = relativePose(a, b);
    let maxErr = 0;
    let inside = 0;
    let visible = 0;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const r = reprojectPixel(a, b, x + 0.5, y + 0.5, DEFAULT_TRUTH, T);
        const [hu, hv] = applyH(Hm, x + 0.5, y + 0.5);
        maxErr = Math.max(maxErr, Math.abs(r.u - hu), Math.abs(r.v - hv));
        if (hu >= 0 && hv >= 0 && hu < W && hv < H) {
          inside++;
          if (r.visible) visible++;
        }
      }
    expect(maxErr, `max reprojection vs homography error ${maxErr} px`).toBeLessThan(1e-3);
    // nothing occludes in an empty room: every point landing inside view b passes the depth test
    expect(inside).toBeGreaterThan(W * H * 0.5);
    expect(visible, `${inside - visible} of ${inside} in-view points failed the depth test`).toBe(inside);
  });

  it("pure rotation: the patch correspondence and overlap equal the homography's", async () => {
    const [a, b] = await rotatedViews();
    const Hm = homography(a, b);
    const t = trueCorrespondence(a, b);
    let valid = 0;
    for (let p = 0; p < 196; p++) {
      const votes = new Map<number, number>();
      const pts = patchSamples(p, W, H);
      let kept = 0;
      for (const [u, v] of pts) {
        const [hu, hv] = applyH(Hm, u, v);
        if (!(hu >= 0 && hv >= 0 && hu < W && hv < H)) continue;
        kept++;
        const q = patchAt(hu, hv, W, H);
        votes.set(q, (votes.get(q) ?? 0) + 1);
      }
      const ok = kept / pts.length >= DEFAULT_TRUTH.minValid;
      let best = -1;
      let bv = -1;
      for (const [q, c] of votes) if (c > bv || (c === bv && q < best)) [best, bv] = [q, c];
      if (ok) valid++;
      expect(t.partner[p], `patch ${p}`).toBe(ok ? best : -1);
    }
    expect(t.overlap).toBeCloseTo(valid / 196, 12);
    expect(t.overlap).toBeGreaterThan(0.3);
    expect(t.overlap).toBeLessThan(1);
  });

  it("rejects occluded points with the depth test", async () => {
    // view b sees a wall; a point of view a placed behind that wall must be rejected
    const depthA = new Float32Array(W * H).fill(5);
    const depthB = new Float32Array(W * H).fill(2);
    const pose = poseLookDir([0, 0, 0], [0, 0, 1]);
    const a: TruthView = { K, worldFromCam: pose, depth: depthA };
    const b: TruthView = { K, worldFromCam: pose, depth: depthB };
    const r = reprojectPixel(a, b, 10.5, 20.5);
    expect(r.u).toBeCloseTo(10.5, 9);
    expect(r.z).toBeCloseTo(5, 9);
    expect(r.visible).toBe(false);
    expect(trueCorrespondence(a, b).overlap).toBe(0);
  });
  it("the miner's crop region: centre crop and bottom crop map the grid onto part of the frame", () => {
    expect(cropRegion(320, 240)).toEqual({ x: 0, y: 0, w: 320, h: 240 });
    expect(cropRegion(320, 240, 0, "center-crop")).toEqual({ x: 40, y: 0, w: 240, h: 240 });
    expect(cropRegion(320, 240, 0.2, "stretch")).toEqual({ x: 0, y: 0, w: 320, h: 192 });
    const grid = { size: 224, patch: 16, region: cropRegion(320, 240, 0, "center-crop") };
    expect(patchAt(39.9, 10, 320, 240, grid)).toBe(-1);
    expect(patchAt(40, 0, 320, 240, grid)).toBe(0);
    expect(patchAt(279.9, 239.9, 320, 240, grid)).toBe(195);
    expect(patchAt(280, 100, 320, 240, grid)).toBe(-1);
    // a view against itself on a cropped grid: still the identity and full overlap
    const depth = new Float32Array(320 * 240).fill(3);
    const v: TruthView = { K: intrinsicsFromFov(320, 240, 65), worldFromCam: poseLookDir([0, 0, 0], [0, 0, 1]), depth };
    const t = trueCorrespondence(v, v, { ...DEFAULT_TRUTH, grid });
    expect(t.overlap).toBe(1);
    expect(t.correspondence[100]).toBe(100);
  });
});
