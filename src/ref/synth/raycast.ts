// CPU twin of the truth pass of shaders/render/scene.wgsl (fs_truth): per pixel centre, cast the
// camera ray against every triangle of the mesh (Moller-Trumbore, float64) and keep the nearest
// hit: depth = camera-space z of the hit (metres), label = the triangle's class id (0 = no hit).
// Plain loops, written for clarity: the oracle for the GPU renderer's depth and labels, and the
// CPU reference renderer in bench/synth.ts.
//
// Inputs: mesh vertices (V, 18 words) as in src/synth/scene.ts (pos at words 0..2, class id at
// word 15), intrinsics (fx, fy, cx, cy, width, height), world-from-camera (row-major 4x4,
// OpenCV axes). Outputs: depth (H, W) f32, labels (H, W) u8.

export interface RaycastCamera {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
}

const WORDS = 18;
const NEAR = 0.05; // the GPU projection's near plane

export function raycastTruth(
  mesh: { data: ArrayBuffer; vertexCount: number },
  K: RaycastCamera,
  worldFromCam: ArrayLike<number>,
): { depth: Float32Array; labels: Uint8Array } {
  const f = new Float32Array(mesh.data);
  const u = new Uint32Array(mesh.data);
  const nTri = mesh.vertexCount / 3;
  // triangles in camera coordinates: p_cam = R^T (p_world - t)
  const T = worldFromCam;
  const cam = new Float64Array(nTri * 9);
  const cls = new Uint8Array(nTri);
  for (let t = 0; t < nTri; t++) {
    for (let k = 0; k < 3; k++) {
      const o = (t * 3 + k) * WORDS;
      const dx = f[o] - T[3];
      const dy = f[o + 1] - T[7];
      const dz = f[o + 2] - T[11];
      cam[t * 9 + k * 3] = T[0] * dx + T[4] * dy + T[8] * dz;
      cam[t * 9 + k * 3 + 1] = T[1] * dx + T[5] * dy + T[9] * dz;
      cam[t * 9 + k * 3 + 2] = T[2] * dx + T[6] * dy + T[10] * dz;
    }
    cls[t] = u[t * 3 * WORDS + 15];
  }
  const W = K.width;
  const H = K.height;
  const depth = new Float32Array(W * H);
  const labels = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      // ray from the camera centre through the pixel centre, direction with z = 1: the hit
      // parameter is then the camera-space z (the depth) itself
      const rx = (x + 0.5 - K.cx) / K.fx;
      const ry = (y + 0.5 - K.cy) / K.fy;
      let best = Number.POSITIVE_INFINITY;
      let bestCls = 0;
      for (let t = 0; t < nTri; t++) {
        const b = t * 9;
        const e1x = cam[b + 3] - cam[b];
        const e1y = cam[b + 4] - cam[b + 1];
        const e1z = cam[b + 5] - cam[b + 2];
        const e2x = cam[b + 6] - cam[b];
        const e2y = cam[b + 7] - cam[b + 1];
        const e2z = cam[b + 8] - cam[b + 2];
        // p = dir x e2
        const px = ry * e2z - 1 * e2y;
        const py = 1 * e2x - rx * e2z;
        const pz = rx * e2y - ry * e2x;
        const det = e1x * px + e1y * py + e1z * pz;
        if (Math.abs(det) < 1e-12) continue;
        const inv = 1 / det;
        const sx = -cam[b];
        const sy = -cam[b + 1];
        const sz = -cam[b + 2];
        const bu = (sx * px + sy * py + sz * pz) * inv;
        if (bu < 0 || bu > 1) continue;
        const qx = sy * e1z - sz * e1y;
        const qy = sz * e1x - sx * e1z;
        const qz = sx * e1y - sy * e1x;
        const bv = (rx * qx + ry * qy + 1 * qz) * inv;
        if (bv < 0 || bu + bv > 1) continue;
        const z = (e2x * qx + e2y * qy + e2z * qz) * inv;
        if (z > NEAR && z < best) {
          best = z;
          bestCls = cls[t];
        }
      }
      if (best < Number.POSITIVE_INFINITY) {
        depth[y * W + x] = best;
        labels[y * W + x] = bestCls;
      }
    }
  return { depth, labels };
}
