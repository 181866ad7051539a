// A feature store: descriptors that stay on the GPU between SIFT and matching.
//
//   SIFT batch (plan.out: keypoints grouped by octave, descriptors)
//     --sift_order.wgsl: canonical order, descriptors (or their RootSIFT) into store rows-->
//   store.desc (rows, 128) f32, one run of rows per described frame
//     --match/bf_match.wgsl reads the runs in place (matcher.ts nearestNeighboursStored)
//
// Only the keypoint records (48 bytes each: what RANSAC, the filters and the records need) and the
// counts come back to the host; the descriptors (512 bytes each) never do. Rows are handed out by
// a first-fit allocator over free runs; the buffer doubles (copied on the GPU) when no run fits.
// Every buffer a described batch needs (sorted records, row offsets, staging) belongs to the plan
// and is reused; nothing is created per batch once the store and plan have their size.
import { createBuffer } from "../gpu/buffers.js";
import type { Gpu } from "../gpu/device.js";
import { type Call, gpuCall, groups, pipeline } from "../gpu/kernel.js";
import { KP, KP_WORDS } from "./config.js";
import type { GpuFeatures, SiftFeatures, SiftPlan } from "./sift.js";

export interface FeatureStore {
  gpu: Gpu;
  /** Descriptors, (rows, 128) f32; replaced (bigger) when it grows: compare `version`. */
  desc: GPUBuffer;
  rows: number;
  /** Rows hold RootSIFT descriptors (applied as they are stored). */
  rootSift: boolean;
  /** Free runs [first row, rows], sorted by first row, adjacent runs merged. */
  free: Array<[number, number]>;
  /** Bumped when `desc` is replaced (bind groups over it must be rebuilt). */
  version: number;
}

/** Keypoints on the host, descriptors in store rows [first, first + count). */
export interface StoredFeatures extends Omit<SiftFeatures, "desc"> {
  store: FeatureStore;
  first: number;
}

export const isStored = (f: object): f is StoredFeatures => "store" in f && "first" in f;

/** A store with room for `rows` descriptors to start with (it grows as needed). */
export function createFeatureStore(gpu: Gpu, opts: { rows?: number; rootSift?: boolean } = {}): FeatureStore {
  const rows = Math.max(64, opts.rows ?? 8192);
  return {
    gpu,
    desc: createBuffer(gpu, "feature store desc", rows * 512),
    rows,
    rootSift: opts.rootSift ?? false,
    free: [[0, rows]],
    version: 0,
  };
}

export function destroyFeatureStore(store: FeatureStore): void {
  store.desc.destroy();
}

/** Rows in use (allocated and not released). */
export const storeRowsInUse = (store: FeatureStore): number => store.rows - store.free.reduce((s, [, n]) => s + n, 0);

/** First row of a free run of `count` rows (first fit), growing the store when none fits. */
export function allocRows(store: FeatureStore, count: number): number {
  if (count === 0) return 0;
  for (let pass = 0; pass < 2; pass++) {
    const i = store.free.findIndex(([, n]) => n >= count);
    if (i >= 0) {
      const [first, n] = store.free[i];
      if (n === count) store.free.splice(i, 1);
      else store.free[i] = [first + count, n - count];
      return first;
    }
    growStore(store, count);
  }
  throw new Error(`internal: feature store could not fit ${count} rows after growing`);
}

/** Give rows back (merged with the neighbouring free runs). */
export function releaseRows(store: FeatureStore, first: number, count: number): void {
  if (count === 0) return;
  const f = store.free;
  let i = 0;
  while (i < f.length && f[i][0] < first) i++;
  if ((i > 0 && f[i - 1][0] + f[i - 1][1] > first) || (i < f.length && first + count > f[i][0]))
    throw new Error(`internal: feature store rows [${first}, ${first + count}) released twice`);
  f.splice(i, 0, [first, count]);
  if (i + 1 < f.length && f[i][0] + f[i][1] === f[i + 1][0]) f.splice(i, 2, [f[i][0], f[i][1] + f[i + 1][1]]);
  if (i > 0 && f[i - 1][0] + f[i - 1][1] === f[i][0]) f.splice(i - 1, 2, [f[i - 1][0], f[i - 1][1] + f[i][1]]);
}

/** Release a frame's rows. */
export const releaseFeatures = (f: StoredFeatures): void => releaseRows(f.store, f.first, f.count);

/** At least double the rows (so `need` more fit at the end); rows in use keep their place. */
function growStore(store: FeatureStore, need: number): void {
  const { gpu } = store;
  const rows = Math.max(2 * store.rows, store.rows + need);
  const max = Math.floor((gpu.limits.maxStorageBufferBindingSize ?? 2 ** 27) / 512);
  if (rows > max && store.rows + need > max)
    throw new Error(
      `feature store: ${store.rows + need} descriptors held at once exceed the adapter's ${max}; lower maxFeatures, the batch or the window`,
    );
  const size = Math.min(rows, max);
  const desc = createBuffer(gpu, "feature store desc", size * 512);
  const enc = gpu.device.createCommandEncoder({ label: "feature store grow" });
  enc.copyBufferToBuffer(store.desc, 0, desc, 0, store.rows * 512);
  gpu.device.queue.submit([enc.finish()]);
  store.desc.destroy(); // freed once the copy has run
  const last = store.free[store.free.length - 1];
  if (last && last[0] + last[1] === store.rows) last[1] += size - store.rows;
  else store.free.push([store.rows, size - store.rows]);
  store.desc = desc;
  store.rows = size;
  store.version++;
}

// ---- a SIFT plan's batch into the store -------------------------------------------------------------

/** Per plan: the sorted records, row offsets, params and staging buffer, and the order call. */
interface Attachment {
  sorted: GPUBuffer; // (N, cap_out, KP_WORDS) f32
  dst: GPUBuffer; // (N) u32
  params: GPUBuffer;
  staging: GPUBuffer; // MAP_READ, (N, cap_out, KP_WORDS) f32 + extras
  call: Call | null;
  store: FeatureStore | null;
  version: number;
}

const attachments = new WeakMap<SiftPlan, Attachment>();
const READBACK = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;

function attachment(plan: SiftPlan, extraBytes: number): Attachment {
  const { gpu, n } = plan;
  const cap = plan.out.capacity;
  let a = attachments.get(plan);
  const stagingBytes = Math.max(n * cap * KP_WORDS * 4, n * 4 + extraBytes);
  if (!a) {
    a = {
      sorted: createBuffer(gpu, "sift sorted keypoints", n * cap * KP_WORDS * 4),
      dst: createBuffer(gpu, "sift store rows", n * 4),
      params: createBuffer(gpu, "sift order params", 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      staging: createBuffer(gpu, "sift features readback", stagingBytes, READBACK),
      call: null,
      store: null,
      version: -1,
    };
    attachments.set(plan, a);
    for (const b of [a.sorted, a.dst, a.params, a.staging]) plan.attached.add(b);
  } else if (a.staging.size < stagingBytes) {
    plan.attached.delete(a.staging);
    a.staging.destroy();
    a.staging = createBuffer(gpu, "sift features readback", stagingBytes, READBACK);
    plan.attached.add(a.staging);
  }
  return a;
}

/** Map `bytes` of the staging buffer and copy them out. */
async function mapped(a: Attachment, bytes: number): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  await a.staging.mapAsync(GPUMapMode.READ, 0, size);
  const out = a.staging.getMappedRange(0, size).slice(0, bytes);
  a.staging.unmap();
  return out;
}

/**
 * After `encodeSift(plan, ...)` was recorded into `enc` (not yet submitted): submit it, read back
 * the counts (and `extra`: other small buffers the batch filled, read in the same round trip),
 * give every image rows in the store, order the keypoints and store the descriptors, and read the
 * ordered records back. Two round trips; creates no buffer once the plan and store are sized.
 */
export async function describeToStore(
  plan: SiftPlan,
  enc: GPUCommandEncoder,
  store: FeatureStore,
  extra: { buf: GPUBuffer; bytes: number } | null = null,
): Promise<{ feats: StoredFeatures[]; extra: ArrayBuffer | null }> {
  const { gpu, n } = plan;
  const f: GpuFeatures = plan.out;
  const cap = f.capacity;
  const extraBytes = extra ? Math.ceil(extra.bytes / 4) * 4 : 0;
  const a = attachment(plan, extraBytes);
  enc.copyBufferToBuffer(f.counts, 0, a.staging, 0, n * 4);
  if (extra) enc.copyBufferToBuffer(extra.buf, 0, a.staging, n * 4, extraBytes);
  gpu.device.queue.submit([enc.finish()]);
  const head = await mapped(a, n * 4 + extraBytes);
  const counts = new Uint32Array(head, 0, n).slice();
  const extraOut = extra ? head.slice(n * 4, n * 4 + extra.bytes) : null;

  const firsts = Uint32Array.from(counts, (c) => allocRows(store, c));
  gpu.device.queue.writeBuffer(a.dst, 0, firsts);
  if (!a.call || a.store !== store || a.version !== store.version) {
    const nOct = plan.octaves.length;
    gpu.device.queue.writeBuffer(a.params, 0, Uint32Array.from([n, cap, nOct, store.rootSift ? 1 : 0]));
    a.call = gpuCall(
      gpu,
      pipeline(gpu, "features/sift_order.wgsl"),
      [f.keypoints, f.counts, f.ranges, f.desc, a.dst, a.sorted, store.desc, a.params],
      [groups(cap, 64), n, 1],
      { label: `sift order ${plan.width}x${plan.height}x${n}` },
    );
    a.store = store;
    a.version = store.version;
  }
  const enc2 = gpu.device.createCommandEncoder({ label: "sift order" });
  const pass = enc2.beginComputePass({ label: "sift order" });
  pass.setPipeline(a.call.pipe);
  pass.setBindGroup(0, a.call.group);
  pass.dispatchWorkgroups(groups(Math.max(1, ...counts), 64), n, 1);
  pass.end();
  let at = 0;
  const offsets: number[] = [];
  for (let b = 0; b < n; b++) {
    offsets.push(at);
    const bytes = counts[b] * KP_WORDS * 4;
    if (bytes) enc2.copyBufferToBuffer(a.sorted, b * cap * KP_WORDS * 4, a.staging, at, bytes);
    at += bytes;
  }
  gpu.device.queue.submit([enc2.finish()]);
  const recs = at ? new Float32Array(await mapped(a, at)) : new Float32Array(0);
  gpu.check(`SIFT order + feature store for ${n} image(s) of ${plan.width}x${plan.height}`);
  const feats = [...counts].map((count, b) => ({
    ...recordsToKeypoints(recs.subarray(offsets[b] / 4, offsets[b] / 4 + count * KP_WORDS), count, f.firstOctave),
    store,
    first: firsts[b],
  }));
  return { feats, extra: extraOut };
}

/** Ordered keypoint records (count, KP_WORDS) -> the host fields of SiftFeatures (no descriptors). */
export function recordsToKeypoints(kp: Float32Array, count: number, firstOctave: number): Omit<SiftFeatures, "desc"> {
  const xy = new Float32Array(count * 2);
  const scale = new Float32Array(count);
  const angle = new Float32Array(count);
  const response = new Float32Array(count);
  const octave = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const q = i * KP_WORDS;
    xy[2 * i] = kp[q + KP.x];
    xy[2 * i + 1] = kp[q + KP.y];
    scale[i] = kp[q + KP.size];
    angle[i] = kp[q + KP.angle];
    response[i] = kp[q + KP.response];
    octave[i] = kp[q + KP.octave] + firstOctave;
  }
  return { count, xy, scale, angle, response, octave };
}

/** Copy stored descriptors back (tests, tools): (count, 128) f32 per frame. */
export async function readStoredDesc(store: FeatureStore, feats: StoredFeatures[]): Promise<Float32Array[]> {
  const { gpu } = store;
  const total = feats.reduce((s, f) => s + f.count, 0);
  if (total === 0) return feats.map(() => new Float32Array(0));
  const staging = createBuffer(gpu, "feature store readback", total * 512, READBACK);
  const enc = gpu.device.createCommandEncoder({ label: "feature store readback" });
  let at = 0;
  for (const f of feats) {
    if (f.count) enc.copyBufferToBuffer(store.desc, f.first * 512, staging, at, f.count * 512);
    at += f.count * 512;
  }
  gpu.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const all = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  at = 0;
  return feats.map((f) => {
    const d = all.subarray(at, at + f.count * 128);
    at += f.count * 128;
    return d;
  });
}
