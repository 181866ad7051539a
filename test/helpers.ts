// Shared test helpers: the GPU (never skipped: a missing adapter fails with the fix), seeded
// random data, and comparisons that print the first values and the max difference on failure.
import { spawn } from "node:child_process";
import path from "node:path";
import { expect } from "vitest";
import { describeAdapter, type Gpu, getGpu } from "../src/gpu/device.js";
import type { VitArch } from "../src/models/config.js";
import { Pcg32 } from "../src/prng.js";

/** The CLI entry point, as a user runs it. */
export const MIMIC_BIN = path.resolve(__dirname, "../bin/mimic.js");

/** Run the `mimic` CLI (bin/mimic.js) as a child without blocking the test worker (a blocked worker
 * misses vitest's RPC deadlines); resolves with its exit status and both streams. */
export function runMimic(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [MIMIC_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    c.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

let announced = false;

/** The test GPU. Prints the adapter once per worker so the log shows where kernels ran. */
export async function testGpu(): Promise<Gpu> {
  const gpu = await getGpu();
  if (!announced) {
    announced = true;
    console.log(`[gpu] ${describeAdapter(gpu.adapter)}`);
  }
  return gpu;
}

/** Seeded uniform floats in [lo, hi). */
export function randomFloats(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const r = new Pcg32(seed, 7);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r.nextFloat());
}

/** Seeded random bytes. */
export function randomBytes(n: number, seed: number): Uint8Array {
  const r = new Pcg32(seed, 11);
  return Uint8Array.from({ length: n }, () => r.nextU32() & 0xff);
}

/** Max |a - b| over two arrays of the same length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; at: number } {
  let max = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= max)) {
      max = d;
      at = i;
    }
  }
  return { max, at };
}

/** Assert GPU output matches its CPU twin within `tol` (absolute); prints context on failure. */
export function expectClose(gpu: ArrayLike<number>, cpu: ArrayLike<number>, tol: number, what: string): void {
  expect(gpu.length, `${what}: length`).toBe(cpu.length);
  const { max, at } = maxAbsDiff(gpu, cpu);
  if (!(max <= tol)) {
    const head = (a: ArrayLike<number>) => Array.from({ length: Math.min(6, a.length) }, (_, i) => a[i].toFixed(6)).join(", ");
    const msg =
      `${what}: max abs error ${max} at index ${at} (gpu ${gpu[at]}, cpu ${cpu[at]}) exceeds ${tol}\n` +
      `  gpu[0..]: ${head(gpu)}\n  cpu[0..]: ${head(cpu)}`;
    expect.fail(msg);
  }
}

/**
 * A toy ViT for tests where the CPU reference must run in milliseconds: 16x16 input, 4 px patches
 * (a 4x4 grid), width 8, one block, 2 heads, a one-block decoder. Override what a test needs.
 */
export function toyVit(over: Partial<VitArch> = {}): VitArch {
  return {
    imgSize: 16,
    patchSize: 4,
    inChans: 3,
    width: 8,
    depth: 1,
    heads: 2,
    decoderWidth: 8,
    decoderDepth: 1,
    decoderHeads: 2,
    mlpRatio: 2,
    lnEps: 1e-6,
    ...over,
  };
}
