import { describe, expect, it } from "vitest";
import { randomFeatures, syntheticPair } from "../../src/geometry/synthetic.js";
import { matchFeatures, matchPairs, matchPresets, nearestNeighbours, packFeatures, packPairs } from "../../src/match/matcher.js";
import { bfMatchRef } from "../../src/ref/match/bf_match.js";
import { expectClose, testGpu } from "../helpers.js";
import { TOL } from "../tolerances.js";

describe("bf_match.wgsl vs CPU twin (src/ref/match/bf_match.ts)", () => {
  it("batched nearest / second nearest over ragged frame pairs", async () => {
    const gpu = await testGpu();
    const feats = [randomFeatures(1, 0), randomFeatures(2, 37), randomFeatures(3, 130), randomFeatures(4, 201), randomFeatures(5, 1)];
    const list: Array<[number, number]> = [
      [1, 2],
      [2, 1],
      [3, 2],
      [1, 1],
      [0, 3],
      [3, 0],
      [2, 4],
      [4, 3],
    ];
    const packed = packFeatures(feats);
    const { pairs, rows } = packPairs(packed.frames, list);
    const got = await nearestNeighbours(gpu, packed, list);
    const want = bfMatchRef(packed.desc, packed.frames, pairs, rows);
    const diff = got.idx.findIndex((v, i) => v !== want.idx[i]);
    expect(diff, `bf_match: first differing best index at row ${diff}: gpu ${got.idx[diff]} cpu ${want.idx[diff]}`).toBe(-1);
    expectClose(got.best, want.best, TOL.f32.dot, "bf_match best dot");
    expectClose(got.second, want.second, TOL.f32.dot, "bf_match second dot");
    // self-matching (1,1): every query finds itself
    const off = pairs[4 * 3 + 2];
    for (let q = 0; q < 37; q++) expect(got.idx[off + q]).toBe(q);
  });

  it("ties: the lowest train index wins and the ratio of a tie is 1 (rejected)", async () => {
    const gpu = await testGpu();
    const a = randomFeatures(7, 20);
    const b = randomFeatures(8, 150);
    // b rows 140.. duplicate a's rows 0..9; row 70 + i duplicates them again (lower index)
    // so the nearest of a[i] (i < 10) is exactly tied between 70 + i and 140 + i.
    for (let i = 0; i < 10; i++) {
      b.desc.set(a.desc.subarray(128 * i, 128 * i + 128), 128 * (140 + i));
      b.desc.set(a.desc.subarray(128 * i, 128 * i + 128), 128 * (70 + i));
    }
    const packed = packFeatures([a, b]);
    const nn = await nearestNeighbours(gpu, packed, [[0, 1]]);
    for (let i = 0; i < 10; i++) {
      expect(nn.idx[i]).toBe(70 + i);
      expect(nn.second[i]).toBe(nn.best[i]);
    }
    const m = await matchFeatures(gpu, a, b, matchPresets.mimic);
    for (let i = 0; i < m.count; i++) expect(m.idx[2 * i]).toBeGreaterThanOrEqual(10);
  });

  it("ratio test + mutual check: GPU and twin give identical Matches; true partners recovered", async () => {
    const gpu = await testGpu();
    const s = syntheticPair(11, { points: 250, distractors: 120, outlierFraction: 0.3 });
    for (const cfg of [matchPresets.mimic, matchPresets.default, { ratio: 0.9, mutual: true }]) {
      const [g] = await matchPairs(gpu, [s.a, s.b], [[0, 1]], cfg);
      const [c] = await matchPairs("cpu", [s.a, s.b], [[0, 1]], cfg);
      expect(Array.from(g.idx)).toEqual(Array.from(c.idx));
      expectClose(g.ratio, c.ratio, TOL.f32.ratio, "match ratio");
      let correct = 0;
      for (let i = 0; i < g.count; i++) if (s.partner[g.idx[2 * i]] === g.idx[2 * i + 1]) correct++;
      expect(g.count).toBeGreaterThan(200);
      expect(correct / g.count).toBeGreaterThan(0.98);
    }
  });
});

describe("bf_match's workspace (src/match/matcher.ts)", () => {
  it("calls of several sizes, in sequence and concurrently, match the twin; a call that fits creates no GPU buffer", async () => {
    const gpu = await testGpu();
    const sizes = [40, 300, 90, 520, 12];
    const sets = sizes.map((n, i) => [randomFeatures(20 + i, n), randomFeatures(40 + i, n + 17)]);
    const want = sets.map(([a, b]) => {
      const packed = packFeatures([a, b]);
      const { pairs, rows } = packPairs(packed.frames, [[0, 1]]);
      return bfMatchRef(packed.desc, packed.frames, pairs, rows).idx;
    });
    const run = (i: number) => nearestNeighbours(gpu, packFeatures(sets[i]), [[0, 1]]);
    for (let i = 0; i < sizes.length; i++) expect((await run(i)).idx).toEqual(want[i]);
    const concurrent = await Promise.all(sizes.map((_, i) => run(i)));
    concurrent.forEach((nn, i) => {
      expect(nn.idx, `concurrent call ${i}`).toEqual(want[i]);
    });
    // The workspace now fits the largest call: no buffer is created for any of them.
    const create = gpu.device.createBuffer.bind(gpu.device);
    let created = 0;
    gpu.device.createBuffer = (d: GPUBufferDescriptor) => {
      created++;
      return create(d);
    };
    try {
      for (let i = 0; i < sizes.length; i++) expect((await run(i)).idx).toEqual(want[i]);
    } finally {
      gpu.device.createBuffer = create;
    }
    expect(created).toBe(0);
  });
});
