// The WebGPU adapter and device, acquired once per process from Dawn (`webgpu` package).
//
// - Requests the adapter's higher limits that the kernels need (workgroup storage, buffer sizes,
//   storage buffers per stage) instead of WebGPU's low defaults.
// - Enables optional features when present: timestamp-query (profiling), shader-f16, subgroups.
// - Uncaptured errors and device loss become thrown errors with context (see `Gpu.check`).
// - On a CPU adapter, dawn.node's event polling is throttled so it does not spin a core (poll.ts).
import { create, globals } from "webgpu";
import { throttleDawnPolling } from "./poll.js";

Object.assign(globalThis, globals);

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: string;
  isFallback: boolean;
}

export interface Gpu {
  device: GPUDevice;
  adapter: AdapterSummary;
  /** Limits granted to the device (the subset the kernels rely on). */
  limits: Record<string, number>;
  hasTimestamps: boolean;
  hasF16: boolean;
  /** The adapter's smallest subgroup size when the `subgroups` feature is enabled, else 0. */
  subgroupMinSize: number;
  /** Throws the first uncaptured GPU error (or device loss) seen since the last call. */
  check(context: string): void;
}

/** The limits the kernels rely on; each is raised to what the adapter supports. */
const WANTED_LIMITS = [
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupsPerDimension",
] as const;

export const NO_ADAPTER_FIX =
  "No WebGPU adapter found. mimic-kit runs its kernels through Dawn's Vulkan backend. Fix: run " +
  "'npm run bootstrap' (as root on Debian/Ubuntu it installs Mesa's lavapipe driver), or install a " +
  "Vulkan driver yourself: on Debian 12 'apt-get install -t bookworm-backports mesa-vulkan-drivers " +
  "libvulkan1' (Mesa >= 23 needed), on Ubuntu 24.04+ 'apt-get install mesa-vulkan-drivers libvulkan1', " +
  "or your GPU vendor's Vulkan driver. Then check with 'npx mimic doctor'.";

let pending: Promise<Gpu> | null = null;
// Dawn's instance must outlive every device made from it: if the GPU object were garbage
// collected, pending mapAsync callbacks would run on a freed instance and crash the process.
const instances: GPU[] = [];

/** The process-wide GPU. Options come from MIMIC_DAWN_FLAGS (comma list, e.g. 'backend=vulkan'). */
export function getGpu(): Promise<Gpu> {
  pending ??= openGpu().catch((e) => {
    pending = null;
    throw e;
  });
  return pending;
}

async function openGpu(): Promise<Gpu> {
  const flags = (process.env.MIMIC_DAWN_FLAGS ?? "").split(",").filter(Boolean);
  const gpu = create(flags);
  instances.push(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error(NO_ADAPTER_FIX);

  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === "number") requiredLimits[name] = v;
  }
  const requiredFeatures: GPUFeatureName[] = [];
  for (const f of ["timestamp-query", "shader-f16", "subgroups"] as GPUFeatureName[]) if (adapter.features.has(f)) requiredFeatures.push(f);

  const device = await adapter.requestDevice({
    label: "mimic-kit device",
    requiredLimits,
    requiredFeatures,
  });

  const info = adapter.info;
  // A CPU adapter runs on the cores dawn.node's polling would spin (see poll.ts).
  if ((info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter) throttleDawnPolling();
  const summary: AdapterSummary = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    backend: (info as unknown as { backend?: string }).backend ?? "vulkan",
    isFallback: (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
  };

  const errors: string[] = [];
  device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
    errors.push(ev.error.message);
  };
  let lost: string | null = null;
  device.lost.then((l) => {
    if (l.reason !== "destroyed") lost = `GPU device lost (${l.reason}): ${l.message}`;
  });

  const limits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) limits[name] = (device.limits as unknown as Record<string, number>)[name];

  return {
    device,
    adapter: summary,
    limits,
    hasTimestamps: requiredFeatures.includes("timestamp-query"),
    hasF16: requiredFeatures.includes("shader-f16"),
    subgroupMinSize: requiredFeatures.includes("subgroups") ? ((info as unknown as { subgroupMinSize?: number }).subgroupMinSize ?? 0) : 0,
    check(context: string) {
      if (lost) throw new Error(`${context}: ${lost}. Try again; if it repeats, run 'npx mimic doctor'.`);
      if (errors.length) {
        const first = errors.splice(0, errors.length);
        throw new Error(`${context}: GPU error: ${first[0]}${first.length > 1 ? ` (+${first.length - 1} more)` : ""}`);
      }
    },
  };
}

/** One line naming the adapter, e.g. for test output and `mimic doctor`. */
export function describeAdapter(a: AdapterSummary): string {
  const parts = [a.vendor, a.architecture, a.device, a.description].filter((s) => s && s.length > 0);
  return `${parts.join(" / ")} (${a.backend}${a.isFallback ? ", fallback" : ""})`;
}
