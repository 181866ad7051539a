// Features that stay on the GPU (src/features/store.ts): sift_order.wgsl against its twin
// (orderRef) on shuffled records with ties, the store's row allocator and growth, and the mining
// path (describeBatch into a store, matching in place) against the host path it replaces: the same
// keypoints in the same order, the same descriptor bits, the same matches.
import { describe, expect, test } from "vitest";
import type { Frame } from "../../src/contracts.js";
import { KP, KP_WORDS, siftPresets } from "../../src/features/config.js";
import {
  allocRows,
  createFeatureStore,
  destroyFeatureStore,
  readStoredDesc,
  releaseFeatures,
  releaseRows,
  storeRowsInUse,
} from "../../src/features/store.js";
import { makeTexture, render } from "../../src/features/textures.js";
import { createBuffer, params, readF32, upload, write } from "../../src/gpu/buffers.js";
import { dispatch, pipeline } from "../../src/gpu/kernel.js";
import { matchPairs, matchPresets, rootSift } from "../../src/match/matcher.js";
import { describeBatch } from "../../src/mine/verify.js";
import { Pcg32 } from "../../src/prng.js";
import { orderRef } from "../../src/ref/features/sift.js";
import { testGpu } from "../helpers.js";

const N_OCT = 3;
const CAP = 96;

/** One image's records grouped by octave (shuffled within each run), with ties on the first keys. */
function image(seed: number, count: number): { recs: Float32Array[]; desc: Float32Array[]; ranges: number[] } {
  const rng = new Pcg32(seed, 5);
  const recs: Float32Array[] = [];
  const used = new Set<string>();
  while (recs.length < count) {
    const k = new Float32Array(KP_WORDS);
    k[KP.octave] = rng.nextBelow(N_OCT);
    k[KP.layer] = 1 + rng.nextBelow(3);
    k[KP.r] = 5 + rng.nextBelow(6);
    k[KP.c] = 5 + rng.nextBelow(6);
    const id = `${k[KP.octave]}:${k[KP.layer]}:${k[KP.r]}:${k[KP.c]}`;
    if (used.has(id)) continue;
    used.add(id);
    // Coarse x, y, size, response: many records tie on (octave, y, x, size, angle, response)
    // and are told apart by (layer, r, c) only.
    k[KP.x] = rng.nextBelow(3) * 2;
    k[KP.y] = rng.nextBelow(2) * 2;
    k[KP.size] = 3;
    k[KP.angle] = rng.nextBelow(2) * 90;
    k[KP.response] = 0.25;
    recs.push(k);
  }
  const desc = recs.map(() => Float32Array.from({ length: 128 }, () => rng.nextFloat() - 0.25));
  // Group by octave (the kernel's input layout), each run shuffled.
  const idx = recs.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.nextBelow(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  idx.sort((a, b) => recs[a][KP.octave] - recs[b][KP.octave]);
  const ranges = [0];
  for (let o = 0; o < N_OCT; o++) ranges.push(ranges[o] + recs.filter((r) => r[KP.octave] === o).length);
  return { recs: idx.map((i) => recs[i]), desc: idx.map((i) => desc[i]), ranges };
}

describe("feature store", () => {
  test.each([false, true])("sift_order.wgsl gives orderRef's records and descriptors (RootSIFT %s), bit for bit", async (root) => {
    const gpu = await testGpu();
    const imgs = [image(1, 80), image(2, 0), image(3, 57)];
    const n = imgs.length;
    const kps = new Float32Array(n * CAP * KP_WORDS);
    const desc = new Float32Array(n * CAP * 128);
    for (const [b, im] of imgs.entries())
      for (const [i, r] of im.recs.entries()) {
        kps.set(r, (b * CAP + i) * KP_WORDS);
        desc.set(im.desc[i], (b * CAP + i) * 128);
      }
    const dst = [7, 300, 100]; // store rows of each image's first keypoint
    const rows = 400;
    const sorted = createBuffer(gpu, "sorted", kps.byteLength);
    const store = createBuffer(gpu, "store", rows * 512);
    const p = params(gpu, "order", [
      ["u32", n],
      ["u32", CAP],
      ["u32", N_OCT],
      ["u32", root ? 1 : 0],
    ]);
    const bindings = [
      upload(gpu, "kps", kps),
      upload(
        gpu,
        "counts",
        Uint32Array.from(imgs, (im) => im.recs.length),
      ),
      upload(gpu, "ranges", Uint32Array.from(imgs.flatMap((im) => im.ranges))),
      upload(gpu, "desc", desc),
      upload(gpu, "dst", Uint32Array.from(dst)),
      sorted,
      store,
      p,
    ];
    const enc = gpu.device.createCommandEncoder();
    dispatch(gpu, enc, pipeline(gpu, "features/sift_order.wgsl"), bindings, [Math.ceil(CAP / 64), n]);
    gpu.device.queue.submit([enc.finish()]);
    const gotKp = await readF32(gpu, sorted);
    const gotStore = await readF32(gpu, store);
    imgs.forEach((im, b) => {
      const ref = orderRef(im.recs, im.desc, root);
      ref.records.forEach((r, i) => {
        expect(Array.from(gotKp.subarray((b * CAP + i) * KP_WORDS, (b * CAP + i + 1) * KP_WORDS)), `image ${b} record ${i}`).toEqual(
          Array.from(r),
        );
        expect(Array.from(gotStore.subarray((dst[b] + i) * 128, (dst[b] + i + 1) * 128)), `image ${b} descriptor ${i}`).toEqual(
          Array.from(ref.desc[i]),
        );
      });
    });
  });

  test("rows: first fit, merged when released, twice-released rows refused; growth keeps the stored rows", async () => {
    const gpu = await testGpu();
    const store = createFeatureStore(gpu, { rows: 64 });
    const a = allocRows(store, 20);
    const b = allocRows(store, 30);
    expect([a, b]).toEqual([0, 20]);
    releaseRows(store, a, 20);
    expect(allocRows(store, 10), "first fit reuses the freed run").toBe(0);
    expect(() => releaseRows(store, 12, 3), "rows 10..19 are free already").toThrow(/released twice/);
    releaseRows(store, 0, 10);
    releaseRows(store, b, 30);
    expect(store.free, "all runs merged back into one").toEqual([[0, 64]]);
    // Fill some rows, then ask for more than fits: the store grows and keeps them.
    const c = allocRows(store, 50);
    const data = Float32Array.from({ length: 50 * 128 }, (_, i) => i % 1000);
    write(gpu, store.desc, data, c * 512);
    const version = store.version;
    const d = allocRows(store, 100);
    expect(store.version, "the buffer was replaced").toBe(version + 1);
    expect(store.rows).toBeGreaterThanOrEqual(150);
    expect(d).toBe(50);
    expect(storeRowsInUse(store)).toBe(150);
    const back = await readF32(gpu, store.desc, 50 * 128);
    expect(Array.from(back)).toEqual(Array.from(data));
    destroyFeatureStore(store);
  });

  test.each([
    ["mimic", matchPresets.mimic],
    ["default", matchPresets.default],
    ["RootSIFT", { ratio: 0.8, mutual: true, rootSift: true }],
  ] as const)("describeBatch into a store = the host path: keypoints, descriptor bits and matches (%s)", async (_name, mcfg) => {
    const gpu = await testGpu();
    const size = 96;
    const frames: Frame[] = [0, 1, 2].map((i) => {
      const g = render(makeTexture(40 + (i % 2), 256), size, size, [1, 0, 2 * i, 0, 1, i, 0, 0, 1]);
      const rgb = new Uint8Array(size * size * 3);
      for (const [k, v] of g.entries()) rgb.fill(Math.round(Math.min(1, Math.max(0, v)) * 255), 3 * k, 3 * k + 3);
      return { videoId: "t", index: i, ptsSec: i, width: size, height: size, rgb };
    });
    const sift = { ...siftPresets.opencv, maxFeatures: 300, capacity: 4096 };
    const host = await describeBatch(gpu, frames, size, sift, "float");
    const store = createFeatureStore(gpu, { rows: 64, rootSift: Boolean(mcfg.rootSift) }); // small: it has to grow
    const dev = await describeBatch(gpu, frames, size, sift, "float", store);
    expect(Array.from(dev.sharp)).toEqual(Array.from(host.sharp));
    host.feats.forEach((h, i) => {
      const d = dev.feats[i];
      expect(d.count, `frame ${i} keypoints`).toBe(h.count);
      expect(h.count).toBeGreaterThan(20);
      expect(Array.from(d.xy)).toEqual(Array.from(h.xy));
      expect(Array.from(d.scale)).toEqual(Array.from(h.scale));
      expect(Array.from(d.angle)).toEqual(Array.from(h.angle));
    });
    const stored = await readStoredDesc(store, dev.feats);
    stored.forEach((s, i) => {
      const want = mcfg.rootSift ? rootSift(host.feats[i].desc) : host.feats[i].desc;
      expect(
        Buffer.compare(Buffer.from(s.buffer, s.byteOffset, s.byteLength), Buffer.from(want.buffer, want.byteOffset, want.byteLength)),
      ).toBe(0);
    });
    const pairs: Array<[number, number]> = [
      [0, 1],
      [1, 2],
      [0, 2],
    ];
    const want = await matchPairs(gpu, host.feats, pairs, mcfg); // the host path (packed and uploaded)
    const got = await matchPairs(gpu, dev.feats, pairs, mcfg);
    expect(want.some((m) => m.count > 10)).toBe(true);
    got.forEach((m, i) => {
      expect(Array.from(m.idx), `pair ${i}`).toEqual(Array.from(want[i].idx));
      expect(Array.from(m.ratio)).toEqual(Array.from(want[i].ratio));
    });
    await expect(matchPairs("cpu", dev.feats, pairs, mcfg)).rejects.toThrow(/Gpu/);
    await expect(matchPairs(gpu, dev.feats, pairs, { ...mcfg, rootSift: !mcfg.rootSift })).rejects.toThrow(/rootSift/);
    for (const f of dev.feats) releaseFeatures(f);
    expect(storeRowsInUse(store)).toBe(0);
    destroyFeatureStore(store);
  });
});
