// Helpers for test/nn: float64 finite-difference gradient checks of CPU twins, random data, the
// tolerance table per precision, and GPU run/read helpers.
import { expect } from "vitest";
import type { Gpu } from "../../src/gpu/device.js";
import { type Call, readTensor, runCalls, type Tensor, tensor, writeTensor } from "../../src/nn/core.js";
import { Pcg32 } from "../../src/prng.js";
import { TOL } from "../tolerances.js";

/** Seeded values in [lo, hi) as float64. */
export function rand64(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const r = new Pcg32(seed, 3);
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * r.nextFloat());
}

/** The tests' one tolerance table (test/tolerances.ts), re-exported for test/nn. */
export { TOL };

/**
 * Check `grad` (analytic, from a twin's backward) against central differences of `loss` with
 * respect to `x` (perturbed in place). Prints the max relative error on failure.
 */
export function gradCheck(
  what: string,
  x: Float64Array,
  grad: ArrayLike<number>,
  loss: () => number,
  h = 1e-6,
  tol: number = TOL.f64.gradCheck,
): void {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = v + h;
    const lp = loss();
    x[i] = v - h;
    const lm = loss();
    x[i] = v;
    const fd = (lp - lm) / (2 * h);
    const err = Math.abs(fd - grad[i]) / Math.max(1, Math.abs(fd));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  if (!(worst <= tol)) expect.fail(`${what}: gradient check max rel error ${worst} at ${at} (analytic ${grad[at]}) exceeds ${tol}`);
}

/** sum(y * g): the scalar loss whose gradient w.r.t. y is g. */
export const dotLoss = (y: ArrayLike<number>, g: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * g[i];
  return s;
};

export function gpuTensor(gpu: Gpu, label: string, shape: number[], data?: ArrayLike<number>): Tensor {
  const t = tensor(gpu, label, shape);
  if (data) writeTensor(gpu, t, Float32Array.from(data));
  return t;
}

export async function run(gpu: Gpu, calls: Call[], ...outs: Tensor[]): Promise<Float32Array[]> {
  runCalls(gpu, calls);
  const res: Float32Array[] = [];
  for (const o of outs) res.push(await readTensor(gpu, o));
  gpu.check("test run");
  return res;
}

/** Round to f32 (twins get exactly the GPU's inputs). */
export const f32 = (a: ArrayLike<number>): Float64Array => Float64Array.from(Float32Array.from(a));
