// Brute-force descriptor matching on the GPU (shaders/match/bf_match.wgsl), batched over frame
// pairs, with Lowe's ratio test and an optional mutual-nearest check on the host.
// CPU twin of the kernel: src/match/bf_match_cpu.ts; `selectMatches` is shared by both paths.
// The GPU path keeps one workspace per device (inputs, output, params uniform, staging buffer and
// bind group), grown when a call needs more and otherwise reused: a call writes into it, records
// one call and maps the staging buffer, creating and destroying nothing. Features whose
// descriptors are in a feature store (features/store.ts, what mining uses) are matched in place:
// only the frame table and pair list go up, only the nearest neighbours come back.
import type { Features, Matches } from "../contracts.js";
import type { FeatureStore } from "../features/store.js";
import { isStored, type StoredFeatures } from "../features/store.js";
import { createBuffer, params, STORAGE, UNIFORM, write } from "../gpu/buffers.js";
import type { Gpu } from "../gpu/device.js";
import { type Call, dispatch, encodeCalls, gpuCall, groups, pipeline } from "../gpu/kernel.js";
import { bfMatchCpu, type NearestNeighbours } from "./bf_match_cpu.js";

export type { NearestNeighbours } from "./bf_match_cpu.js";

/** How putative matches are selected from nearest neighbours. */
export interface MatchConfig {
  /** Lowe's ratio test on distances (not squared): keep when d1 < ratio * d2. MIMIC / OpenCV knnMatch: 0.7. */
  ratio: number;
  /** Also require b's nearest neighbour in a to be the query (mutual nearest). MIMIC: false. */
  mutual: boolean;
  /**
   * Match RootSIFT descriptors (Arandjelovic & Zisserman 2012: L1-normalise, element-wise square
   * root; the result has unit L2 norm, so the same dot-product kernel compares them by Hellinger
   * distance). Absent or false: the descriptors as given.
   */
  rootSift?: boolean;
}

export const matchPresets = {
  /** MIMIC's recipe: BFMatcher.knnMatch(k=2), keep m.distance < 0.7 n.distance. */
  mimic: { ratio: 0.7, mutual: false } satisfies MatchConfig,
  /** Ratio 0.7 plus the mutual check (drops many-to-one matches that RANSAC would have to reject). */
  default: { ratio: 0.7, mutual: true } satisfies MatchConfig,
} as const;

/**
 * RootSIFT of (N, 128) descriptors: each row divided by the sum of its absolute values, then the
 * square root of each (absolute) component. A row of zeros stays zero. In f32, summed in index
 * order: the same bits as sift_order.wgsl gives descriptors stored on the GPU.
 */
export function rootSift(desc: Float32Array): Float32Array {
  if (desc.length % 128 !== 0) throw new Error(`rootSift: ${desc.length} floats is not a whole number of 128-float descriptors`);
  const out = new Float32Array(desc.length);
  for (let r = 0; r < desc.length; r += 128) {
    let l1 = 0;
    for (let k = 0; k < 128; k++) l1 = Math.fround(l1 + Math.abs(desc[r + k]));
    if (!(l1 > 0)) continue;
    for (let k = 0; k < 128; k++) out[r + k] = Math.sqrt(Math.fround(Math.abs(desc[r + k]) / l1));
  }
  return out;
}

/** Descriptors of several frames packed for one batched dispatch. */
export interface PackedFeatures {
  desc: Float32Array; // (T, 128)
  frames: Uint32Array; // (F, 2) [first row, count]
}

export function packFeatures(feats: Features[]): PackedFeatures {
  let total = 0;
  const frames = new Uint32Array(2 * feats.length);
  feats.forEach((f, i) => {
    if (f.desc.length !== f.count * 128)
      throw new Error(`features[${i}]: desc has ${f.desc.length} floats, expected count*128 = ${f.count * 128} (N, 128)`);
    frames[2 * i] = total;
    frames[2 * i + 1] = f.count;
    total += f.count;
  });
  const desc = new Float32Array(Math.max(1, total) * 128);
  feats.forEach((f, i) => {
    desc.set(f.desc, frames[2 * i] * 128);
  });
  return { desc, frames };
}

/** Pair list (P, 4) [a, b, first output row, 0] and the total number of query rows. */
export function packPairs(frames: Uint32Array, pairs: ReadonlyArray<readonly [number, number]>): { pairs: Uint32Array; rows: number } {
  const out = new Uint32Array(4 * pairs.length);
  let rows = 0;
  const nf = frames.length / 2;
  pairs.forEach(([a, b], i) => {
    if (!(a >= 0 && a < nf && b >= 0 && b < nf)) throw new Error(`pair ${i} = (${a}, ${b}) names a frame outside 0..${nf - 1}`);
    out.set([a, b, rows, 0], 4 * i);
    rows += frames[2 * a + 1];
  });
  return { pairs: out, rows };
}

/**
 * Record bf_match.wgsl: desc (T,128), frames (F,2), pairs (P,4) -> out (Q,4) u32.
 * `maxQueries` is the largest query count of any pair (sets the grid).
 */
export function encodeBfMatch(
  gpu: Gpu,
  enc: GPUCommandEncoder,
  desc: GPUBuffer,
  frames: GPUBuffer,
  pairs: GPUBuffer,
  out: GPUBuffer,
  numPairs: number,
  maxQueries: number,
): void {
  if (numPairs > 65535) throw new Error(`bf_match: ${numPairs} pairs in one dispatch; split into batches of at most 65535`);
  const p = params(gpu, "bf_match params", [["u32", numPairs]]);
  dispatch(gpu, enc, pipeline(gpu, "match/bf_match.wgsl"), [desc, frames, pairs, out, p], [groups(maxQueries, 16), numPairs]);
}

function decode(raw: Uint32Array, rows: number): NearestNeighbours {
  const f = new Float32Array(raw.buffer, raw.byteOffset, raw.length);
  const nn: NearestNeighbours = { idx: new Int32Array(rows), best: new Float32Array(rows), second: new Float32Array(rows) };
  for (let q = 0; q < rows; q++) {
    nn.idx[q] = raw[4 * q] === 0xffffffff ? -1 : raw[4 * q];
    nn.best[q] = f[4 * q + 1];
    nn.second[q] = f[4 * q + 2];
  }
  return nn;
}

/** bf_match's buffers on one device, reused by every call (grown to fit, never shrunk). */
interface MatchWorkspace {
  desc: GPUBuffer;
  frames: GPUBuffer;
  pairs: GPUBuffer;
  out: GPUBuffer;
  staging: GPUBuffer;
  params: GPUBuffer;
  /** The recorded call over the current buffers and `callDesc` (rebuilt when one of them changes). */
  call: Call | null;
  callDesc: GPUBuffer | null;
  /** Calls run one after another: the next one waits until this one has read its output. */
  busy: Promise<void>;
}

const workspaces = new WeakMap<GPUDevice, MatchWorkspace>();
const READBACK = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;

function workspace(gpu: Gpu): MatchWorkspace {
  let ws = workspaces.get(gpu.device);
  if (!ws) {
    ws = {
      desc: createBuffer(gpu, "bf_match desc", 128 * 4 * 256),
      frames: createBuffer(gpu, "bf_match frames", 8 * 64),
      pairs: createBuffer(gpu, "bf_match pairs", 16 * 64),
      out: createBuffer(gpu, "bf_match out", 16 * 256),
      staging: createBuffer(gpu, "bf_match out readback", 16 * 256, READBACK),
      params: createBuffer(gpu, "bf_match params", 16, UNIFORM),
      call: null,
      callDesc: null,
      busy: Promise.resolve(),
    };
    workspaces.set(gpu.device, ws);
  }
  return ws;
}

/** Grow ws[key] to hold `bytes` (doubling, so a growing workload reallocates O(log) times). */
function grow(gpu: Gpu, ws: MatchWorkspace, key: "desc" | "frames" | "pairs" | "out" | "staging", bytes: number): void {
  const cur = ws[key];
  if (cur.size >= bytes) return;
  const size = Math.max(bytes, 2 * cur.size);
  cur.destroy();
  ws[key] = createBuffer(gpu, cur.label, size, key === "staging" ? READBACK : STORAGE);
  if (key !== "staging") ws.call = null;
}

/**
 * bf_match over descriptors already on the GPU (`desc`: (T, 128) f32, or null: the workspace's own,
 * filled by `fill`), frames (F, 2) [first row, count] and the pair list; reads back only the
 * nearest neighbours (16 bytes per query).
 */
async function runBfMatch(
  gpu: Gpu,
  desc: GPUBuffer | null,
  frames: Uint32Array,
  pairList: ReadonlyArray<readonly [number, number]>,
  fill?: (ws: MatchWorkspace) => void,
): Promise<NearestNeighbours> {
  const { pairs, rows } = packPairs(frames, pairList);
  if (pairList.length === 0 || rows === 0)
    return { idx: new Int32Array(rows), best: new Float32Array(rows), second: new Float32Array(rows) };
  if (pairList.length > 65535) throw new Error(`bf_match: ${pairList.length} pairs in one dispatch; split into batches of at most 65535`);
  let maxQ = 0;
  for (const [a] of pairList) maxQ = Math.max(maxQ, frames[2 * a + 1]);
  const ws = workspace(gpu);
  const run = ws.busy.then(async () => {
    fill?.(ws);
    grow(gpu, ws, "frames", frames.byteLength);
    grow(gpu, ws, "pairs", pairs.byteLength);
    grow(gpu, ws, "out", rows * 16);
    grow(gpu, ws, "staging", rows * 16);
    write(gpu, ws.frames, frames);
    write(gpu, ws.pairs, pairs);
    write(gpu, ws.params, Uint32Array.from([pairList.length, 0, 0, 0]));
    const d = desc ?? ws.desc;
    if (!ws.call || ws.callDesc !== d) {
      ws.call = gpuCall(gpu, pipeline(gpu, "match/bf_match.wgsl"), [d, ws.frames, ws.pairs, ws.out, ws.params], [1], { label: "bf_match" });
      ws.callDesc = d;
    }
    const enc = gpu.device.createCommandEncoder({ label: "bf_match" });
    encodeCalls(enc, [{ ...ws.call, wg: [groups(maxQ, 16), pairList.length, 1] }], "bf_match");
    enc.copyBufferToBuffer(ws.out, 0, ws.staging, 0, rows * 16);
    gpu.device.queue.submit([enc.finish()]);
    await ws.staging.mapAsync(GPUMapMode.READ, 0, rows * 16);
    const raw = new Uint32Array(ws.staging.getMappedRange(0, rows * 16).slice(0));
    ws.staging.unmap();
    gpu.check(`bf_match on ${pairList.length} pair(s)`);
    return decode(raw, rows);
  });
  ws.busy = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

/** Nearest neighbours for every pair (a queries, b trains), on the GPU in one submission. */
export async function nearestNeighbours(
  gpu: Gpu,
  packed: PackedFeatures,
  pairList: ReadonlyArray<readonly [number, number]>,
): Promise<NearestNeighbours> {
  return runBfMatch(gpu, null, packed.frames, pairList, (ws) => {
    grow(gpu, ws, "desc", packed.desc.byteLength);
    write(gpu, ws.desc, packed.desc);
  });
}

/**
 * Nearest neighbours of frames whose descriptors are in a feature store (features/store.ts): the
 * kernel reads the store's rows in place; nothing is packed or uploaded but the frame table and
 * the pair list.
 */
export async function nearestNeighboursStored(
  store: FeatureStore,
  feats: ReadonlyArray<StoredFeatures>,
  pairList: ReadonlyArray<readonly [number, number]>,
): Promise<{ nn: NearestNeighbours; pairs: Uint32Array }> {
  const frames = new Uint32Array(2 * feats.length);
  feats.forEach((f, i) => {
    if (f.store !== store) throw new Error(`features[${i}] are in another feature store; match frames of one store together`);
    frames[2 * i] = f.first;
    frames[2 * i + 1] = f.count;
  });
  return { nn: await runBfMatch(store.gpu, store.desc, frames, pairList), pairs: packPairs(frames, pairList).pairs };
}

/** Distance of unit descriptors from their dot product: sqrt(max(0, 2 - 2 dot)). */
export const dotToDistance = (dot: number): number => Math.sqrt(Math.max(0, 2 - 2 * dot));

/**
 * Ratio test (and mutual check when `ba` is given) on the nearest neighbours of one pair:
 * ab rows [abOff, abOff + na), ba rows [baOff, baOff + nb). Queries in order, so matches are
 * sorted by query index. Queries with fewer than 2 trains are dropped (as knnMatch k=2 + MIMIC's
 * unpacking do).
 */
export function selectMatches(
  ab: NearestNeighbours,
  abOff: number,
  na: number,
  cfg: MatchConfig,
  ba?: NearestNeighbours,
  baOff = 0,
): Matches {
  const idx: number[] = [];
  const ratio: number[] = [];
  for (let q = 0; q < na; q++) {
    const j = ab.idx[abOff + q];
    if (j < 0 || ab.second[abOff + q] === -3.4028234663852886e38) continue;
    const d1 = dotToDistance(ab.best[abOff + q]);
    const d2 = dotToDistance(ab.second[abOff + q]);
    if (!(d1 < cfg.ratio * d2)) continue;
    if (cfg.mutual && ba && ba.idx[baOff + j] !== q) continue;
    idx.push(q, j);
    ratio.push(d2 > 0 ? d1 / d2 : 1);
  }
  return { count: ratio.length, idx: Uint32Array.from(idx), ratio: Float32Array.from(ratio) };
}

/** Which NN computation to use: the GPU kernel or its CPU twin (same results). */
export type Backend = Gpu | "cpu";

/** Features with their descriptors on the host, or in a feature store on the GPU. */
export type MatchInput = Features | StoredFeatures;

/**
 * Match many frame pairs in one submission: feats[a] queries against feats[b] for each (a, b).
 * With cfg.mutual the reversed pairs run in the same dispatch. Features in a feature store
 * (all of them, one store) are matched where they are, on the store's GPU.
 */
export async function matchPairs(
  backend: Backend,
  feats: MatchInput[],
  pairList: ReadonlyArray<readonly [number, number]>,
  cfg: MatchConfig = matchPresets.default,
): Promise<Matches[]> {
  const all = cfg.mutual ? [...pairList, ...pairList.map(([a, b]) => [b, a] as const)] : [...pairList];
  let nn: NearestNeighbours;
  let pairs: Uint32Array;
  const stored = feats.filter(isStored);
  if (stored.length) {
    if (stored.length !== feats.length)
      throw new Error(`matchPairs: ${stored.length} of ${feats.length} feature sets are in a feature store; give all or none`);
    const store = stored[0].store;
    if (backend === "cpu") throw new Error("matchPairs: features in a feature store are matched on its GPU; pass the Gpu, not 'cpu'");
    if (Boolean(cfg.rootSift) !== store.rootSift)
      throw new Error(
        `matchPairs: the feature store holds ${store.rootSift ? "RootSIFT" : "SIFT"} descriptors but the match config asks for ${cfg.rootSift ? "RootSIFT" : "SIFT"}; create the store with rootSift: ${Boolean(cfg.rootSift)}`,
      );
    ({ nn, pairs } = await nearestNeighboursStored(store, stored, all));
  } else {
    const packed = packFeatures(feats as Features[]);
    if (cfg.rootSift) packed.desc = rootSift(packed.desc);
    const rows = packPairs(packed.frames, all);
    pairs = rows.pairs;
    nn = backend === "cpu" ? bfMatchCpu(packed.desc, packed.frames, pairs, rows.rows) : await nearestNeighbours(backend, packed, all);
  }
  return pairList.map(([a], i) => {
    const rev = pairList.length + i;
    return selectMatches(nn, pairs[4 * i + 2], feats[a].count, cfg, cfg.mutual ? nn : undefined, cfg.mutual ? pairs[4 * rev + 2] : 0);
  });
}

/** Match one pair of feature sets (a -> b). */
export async function matchFeatures(backend: Backend, a: Features, b: Features, cfg: MatchConfig = matchPresets.default): Promise<Matches> {
  return (await matchPairs(backend, [a, b], [[0, 1]], cfg))[0];
}
