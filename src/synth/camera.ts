// Pinhole cameras and trajectories for the synthetic scenes.
//
// Conventions (used by render.ts, truth.ts and the *.poses.json sidecars):
// - Camera frame: OpenCV (x right, y down, z forward), metres.
// - Pose: world-from-camera 4x4, row-major (16 numbers); p_world = T * p_cam.
// - Pixels: u to the right, v down, (0, 0) the top-left corner of the top-left pixel, so pixel
//   (i, j) has its centre at (i + 0.5, j + 0.5); u = fx * x / z + cx, v = fy * y / z + cy.
import { mat4, vec3 } from "gl-matrix";
import { Pcg32 } from "../prng.js";
import { clearance, type Scene, type Vec3 } from "./scene.js";

export interface Intrinsics {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
}

/** Intrinsics for a horizontal field of view (degrees), square pixels, centred principal point. */
export function intrinsicsFromFov(width: number, height: number, hfovDeg: number): Intrinsics {
  const fx = width / 2 / Math.tan((hfovDeg * Math.PI) / 360);
  return { fx, fy: fx, cx: width / 2, cy: height / 2, width, height };
}

/** Row-major 4x4 -> gl-matrix column-major mat4 (and back: the same transpose). */
export function toColumnMajor(m: ArrayLike<number>): mat4 {
  const out = mat4.create();
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) out[c * 4 + r] = m[r * 4 + c];
  return out;
}
export function toRowMajor(m: ArrayLike<number>): number[] {
  const out = new Array<number>(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) out[r * 4 + c] = m[c * 4 + r];
  return out;
}

/** Inverse of a rigid transform [R t; 0 1] (row-major, in float64). */
export function invertRigid(T: ArrayLike<number>): number[] {
  const R = [T[0], T[1], T[2], T[4], T[5], T[6], T[8], T[9], T[10]];
  const t = [T[3], T[7], T[11]];
  const o = new Array<number>(16).fill(0);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) o[r * 4 + c] = R[c * 3 + r];
    o[r * 4 + 3] = -(R[0 * 3 + r] * t[0] + R[1 * 3 + r] * t[1] + R[2 * 3 + r] * t[2]);
  }
  o[15] = 1;
  return o;
}

/**
 * Clip-from-camera projection (row-major) for WebGPU (NDC x,y in [-1,1] with y up, z in [0,1])
 * that maps OpenCV camera points exactly to the pixel convention above.
 */
export function clipFromCamera(K: Intrinsics, near = 0.05, far = 100): number[] {
  const { fx, fy, cx, cy, width: W, height: H } = K;
  const a = far / (far - near);
  return [(2 * fx) / W, 0, (2 * cx) / W - 1, 0, 0, (-2 * fy) / H, 1 - (2 * cy) / H, 0, 0, 0, a, -near * a, 0, 0, 1, 0];
}

/**
 * World-from-camera pose (row-major, OpenCV axes) at `eye` looking at direction `forward`, with
 * world +y up and a roll (radians) about the viewing axis.
 */
export function poseLookDir(eye: Vec3, forward: Vec3, roll = 0): number[] {
  // gl-matrix on float64 storage (its create() would round poses to float32)
  const v3 = () => new Float64Array(3) as unknown as vec3;
  const f = vec3.normalize(v3(), forward as unknown as vec3);
  const right = vec3.cross(v3(), f, [0, 1, 0]);
  vec3.normalize(right, right);
  const down = vec3.cross(v3(), f, right);
  let x = right;
  let y = down;
  if (roll !== 0) {
    const rot = mat4.fromRotation(new Float64Array(16) as unknown as mat4, roll, f);
    x = vec3.transformMat4(v3(), right, rot);
    y = vec3.transformMat4(v3(), down, rot);
  }
  return [x[0], y[0], f[0], eye[0], x[1], y[1], f[1], eye[1], x[2], y[2], f[2], eye[2], 0, 0, 0, 1];
}

/** Multiply row-major 4x4 matrices a * b (float64). */
export function mul4(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const o = new Array<number>(16).fill(0);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) for (let k = 0; k < 4; k++) o[r * 4 + c] += a[r * 4 + k] * b[k * 4 + c];
  return o;
}

// ---- trajectories ------------------------------------------------------------------------------

export type TrajectoryKind = "walk" | "orbit" | "pan";
export const TRAJECTORY_KINDS: readonly TrajectoryKind[] = ["walk", "orbit", "pan"];

/** Trajectory settings (speeds tuned so frames 1 s apart mostly overlap 50-75%; see bench/README). */
export interface TrajectoryConfig {
  /** Walking speed along the ring, metres per second. */
  speed: number;
  /** Orbiting speed along the ring (looking at the room centre), metres per second. */
  orbitSpeed: number;
  /** Amplitude (degrees) and period (s) of the look-around yaw swing during a walk. */
  lookAroundDeg: number;
  lookAroundPeriod: number;
  /** Pan: amplitude (degrees) and period (s) of the yaw sweep. */
  panDeg: number;
  panPeriod: number;
  /** Eye height range (metres). */
  eyeHeight: [number, number];
  /** Handheld jitter: rotation amplitude (degrees) and translation amplitude (metres). */
  jitterDeg: number;
  jitterM: number;
  /** Horizontal field of view (degrees). */
  hfovDeg: number;
  /** Base pitch range (degrees, > 0 looks down), drawn once per trajectory. */
  pitchDeg: [number, number];
  /**
   * Tilt swings (degrees): pitch and roll each follow a slow seeded wobble of this amplitude
   * (about 0.15 Hz), from their own PCG32 stream, so the horizon and the floor move around the
   * frame and a probe cannot read depth or class from pixel position alone. 0 = level camera.
   */
  tiltPitchDeg: number;
  tiltRollDeg: number;
  /**
   * Least distance (metres) from the eye to any object (scene.ts clearance()); 0 = no check. A pan
   * stands somewhere between the room centre and the free ring, where the centrepiece and its chairs
   * are: an eye that is too close moves outwards along its ray until it is clear (no extra random
   * draws, so the rest of the trajectory is unchanged). Low eyes (the tilted preset) need it: at
   * 0.7 m a pan can stand inside the table, and the frame is a wall of one texture at 5 cm.
   */
  minClearance: number;
}

export const DEFAULT_TRAJECTORY: TrajectoryConfig = {
  speed: 0.45,
  orbitSpeed: 1.1,
  lookAroundDeg: 35,
  lookAroundPeriod: 14,
  panDeg: 70,
  panPeriod: 13,
  eyeHeight: [1.3, 1.7],
  jitterDeg: 0.8,
  jitterM: 0.015,
  hfovDeg: 65,
  pitchDeg: [2, 8],
  tiltPitchDeg: 0,
  tiltRollDeg: 0,
  minClearance: 0,
};

export interface Trajectory {
  kind: TrajectoryKind;
  /** World-from-camera (row-major, OpenCV axes) at time t seconds. */
  pose(t: number): number[];
}

/** Smooth pseudo-random signal in about [-1, 1]: a sum of three sinusoids with seeded phases. */
function wobble(r: Pcg32, baseHz: number): (t: number) => number {
  const terms = [0, 1, 2].map((k) => ({
    f: baseHz * (0.6 + 0.8 * r.nextFloat()) * (k + 1) * 0.7,
    p: 2 * Math.PI * r.nextFloat(),
    a: 1 / (k + 1.5),
  }));
  const norm = terms.reduce((s, x) => s + x.a, 0);
  return (t) => terms.reduce((s, x) => s + x.a * Math.sin(2 * Math.PI * x.f * t + x.p), 0) / norm;
}

/**
 * A rounded triangle wave in [-1, 1] of phase x: nearly constant speed with smooth turns, so a pan
 * sweeps at an even rate instead of a sine's fast middle and slow ends.
 */
const sweep = (x: number): number => ((2 / Math.PI) * Math.asin(0.95 * Math.sin(x))) / ((2 / Math.PI) * Math.asin(0.95));

/** A seeded trajectory of the given kind inside `scene`'s free camera ring. */
export function makeTrajectory(scene: Scene, kind: TrajectoryKind, seed: number, cfg: TrajectoryConfig = DEFAULT_TRAJECTORY): Trajectory {
  const r = new Pcg32(seed, 0x7a1);
  const [cx, cz] = scene.walkable.center;
  const [ax, az] = scene.walkable.radii;
  const height = cfg.eyeHeight[0] + (cfg.eyeHeight[1] - cfg.eyeHeight[0]) * r.nextFloat();
  const theta0 = 2 * Math.PI * r.nextFloat();
  const dir = r.nextFloat() < 0.5 ? 1 : -1;
  const meanR = (ax + az) / 2;
  const phase = 2 * Math.PI * r.nextFloat();
  const pitch0 = ((cfg.pitchDeg[0] + (cfg.pitchDeg[1] - cfg.pitchDeg[0]) * r.nextFloat()) * Math.PI) / 180; // > 0 looks down
  const jr = [wobble(r, 0.7), wobble(r, 0.7), wobble(r, 0.7)];
  const jt = [wobble(r, 0.5), wobble(r, 0.5), wobble(r, 0.5)];
  const pitchW = wobble(r, 0.08);
  const radiusW = wobble(r, 0.05);
  const deg = Math.PI / 180;
  const ring = (theta: number, k = 1): Vec3 => [cx + k * ax * Math.cos(theta), height, cz + k * az * Math.sin(theta)];
  // tilt swings from their own stream: presets without them draw exactly the numbers they always did
  const rt = new Pcg32(seed, 0x7a2);
  const tilt = [wobble(rt, 0.15), wobble(rt, 0.15)];
  const jitter = (t: number, eye: Vec3, yaw: number, pitch: number, roll: number): number[] => {
    const y = yaw + cfg.jitterDeg * deg * jr[0](t);
    const p = pitch + cfg.jitterDeg * deg * jr[1](t) + (cfg.tiltPitchDeg ? cfg.tiltPitchDeg * deg * tilt[0](t) : 0);
    const rl = roll + cfg.jitterDeg * deg * jr[2](t) + (cfg.tiltRollDeg ? cfg.tiltRollDeg * deg * tilt[1](t) : 0);
    const e: Vec3 = [eye[0] + cfg.jitterM * jt[0](t), eye[1] + cfg.jitterM * jt[1](t), eye[2] + cfg.jitterM * jt[2](t)];
    const f: Vec3 = [Math.cos(p) * Math.sin(y), -Math.sin(p), -Math.cos(p) * Math.cos(y)];
    return poseLookDir(e, f, rl);
  };
  // yaw convention: forward = (sin yaw, 0, -cos yaw)
  const yawOf = (d: Vec3): number => Math.atan2(d[0], -d[2]);

  if (kind === "pan") {
    let k = 0.5 * r.nextFloat();
    let eye = ring(theta0, k);
    while (cfg.minClearance > 0 && k < 1 && clearance(scene, eye) < cfg.minClearance) {
      k = Math.min(1, k + 0.05);
      eye = ring(theta0, k);
    }
    const yaw0 = 2 * Math.PI * r.nextFloat();
    return {
      kind,
      pose: (t) =>
        jitter(t, eye, yaw0 + cfg.panDeg * deg * sweep((2 * Math.PI * t) / cfg.panPeriod + phase), pitch0 + 5 * deg * pitchW(t), 0),
    };
  }
  const omega = (dir * (kind === "orbit" ? cfg.orbitSpeed : cfg.speed)) / meanR; // rad/s along the ring
  const at = (t: number): Vec3 => ring(theta0 + omega * t, 1 + 0.15 * radiusW(t));
  if (kind === "orbit") {
    return {
      kind,
      pose: (t) => {
        const e = at(t);
        const yaw = yawOf([cx - e[0], 0, cz - e[2]]);
        return jitter(t, e, yaw, pitch0 + 6 * deg + 4 * deg * pitchW(t), 0);
      },
    };
  }
  return {
    kind,
    pose: (t) => {
      const e = at(t);
      const e2 = at(t + 0.05);
      const yaw =
        yawOf([e2[0] - e[0], 0, e2[2] - e[2]]) + cfg.lookAroundDeg * deg * Math.sin((2 * Math.PI * t) / cfg.lookAroundPeriod + phase);
      return jitter(t, e, yaw, pitch0 + 5 * deg * pitchW(t), 0);
    },
  };
}
