// Loading WGSL from shaders/ and caching compute pipelines per device.
//
// Shaders live in <package>/shaders/<area>/<op>.wgsl, found relative to this file by walking up to
// mimic-kit's package.json, so the same code works from src/ (tests), dist/ and node_modules/.
// A line `//!include <area>/<file>.wgsl` is replaced by that file (once per shader), which is how
// kernels share the PCG32 generator and small helpers.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Gpu } from "./device.js";

let rootCache: string | null = null;

/** The mimic-kit package root (the folder holding package.json, shaders/, datasets/). */
export function packageRoot(): string {
  if (rootCache) return rootCache;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, "package.json");
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, "utf8")).name === "mimic-kit") break;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`mimic-kit package root not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  rootCache = dir;
  return dir;
}

const sourceCache = new Map<string, string>();

/** WGSL source of shaders/<name>, with `//!include` lines expanded. */
export function shaderSource(name: string): string {
  const hit = sourceCache.get(name);
  if (hit) return hit;
  const seen = new Set<string>();
  const load = (rel: string): string => {
    if (seen.has(rel)) return "";
    seen.add(rel);
    const file = path.join(packageRoot(), "shaders", rel);
    if (!fs.existsSync(file)) throw new Error(`shader not found: ${file} (is the package installed completely?)`);
    return fs.readFileSync(file, "utf8").replace(/^\/\/!include\s+(\S+)\s*$/gm, (_m, inc: string) => load(inc));
  };
  const src = load(name);
  sourceCache.set(name, src);
  return src;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/**
 * The compute pipeline for entry point `entry` of shaders/<name>, compiled once per device and
 * set of override constants. Compilation errors are thrown with the shader's name and line.
 */
export function pipeline(gpu: Gpu, name: string, entry = "main", constants: Record<string, number> = {}): GPUComputePipeline {
  let cache = pipelines.get(gpu.device);
  if (!cache) {
    cache = new Map();
    pipelines.set(gpu.device, cache);
  }
  const key = `${name}:${entry}:${JSON.stringify(constants)}`;
  const hit = cache.get(key);
  if (hit) return hit;

  const { device } = gpu;
  const module = device.createShaderModule({ label: name, code: shaderSource(name) });
  const p = device.createComputePipeline({
    label: `${name}:${entry}`,
    layout: "auto",
    compute: { module, entryPoint: entry, constants },
  });
  cache.set(key, p);
  return p;
}

/** Compile-check a shader now (awaitable), with its messages; used by tests and `mimic doctor`. */
export async function compileErrors(gpu: Gpu, name: string): Promise<string[]> {
  const module = gpu.device.createShaderModule({ label: name, code: shaderSource(name) });
  const info = await module.getCompilationInfo();
  return info.messages.filter((m) => m.type === "error").map((m) => `shaders/${name}:${m.lineNum}:${m.linePos}: ${m.message}`);
}

export type Binding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

/**
 * Record one dispatch: bindings are given in the shader's @binding order (group 0), which by house
 * style is inputs, outputs, params.
 */
export function dispatch(
  gpu: Gpu,
  encoder: GPUCommandEncoder,
  pipe: GPUComputePipeline,
  bindings: Binding[],
  workgroups: [number, number?, number?],
  label = pipe.label,
): void {
  const group = gpu.device.createBindGroup({
    label,
    layout: pipe.getBindGroupLayout(0),
    entries: bindings.map((b, i) => ({ binding: i, resource: "buffer" in b ? b : { buffer: b } })),
  });
  const pass = encoder.beginComputePass({ label });
  pass.setPipeline(pipe);
  pass.setBindGroup(0, group);
  const [x, y = 1, z = 1] = workgroups;
  pass.dispatchWorkgroups(x, y, z);
  pass.end();
}

/** Workgroups needed to cover n items with groups of size g. */
export const groups = (n: number, g: number): number => Math.max(1, Math.ceil(n / g));

/**
 * Workgroup counts for a 1D kernel over n items that may exceed the 65535-per-dimension limit:
 * the kernel computes its index as gid.x + gid.y * num_workgroups.x * wg.
 */
export function grid1d(n: number, wg: number): [number, number] {
  const total = groups(n, wg);
  const x = Math.min(total, 65535);
  return [x, Math.ceil(total / x)];
}
