import { describe, expect, it } from "vitest";
import { createBuffer, params, readF32, readU32 } from "../../src/gpu/buffers.js";
import { dispatch, groups, pipeline } from "../../src/gpu/kernel.js";
import { Pcg32 } from "../../src/prng.js";
import { testGpu } from "../helpers.js";

describe("PCG32", () => {
  it("matches the reference pcg32 stream (seed 42, stream 54)", () => {
    // First outputs of O'Neill's pcg32-demo, pcg32_srandom(42, 54).
    const r = new Pcg32(42, 54);
    const got = Array.from({ length: 6 }, () => r.nextU32().toString(16));
    expect(got).toEqual(["a15c02b7", "7b47f409", "ba1d3330", "83d2f293", "bfa4784b", "cbed606e"]);
  });

  it("bounded draws stay in range and floats in [0, 1)", () => {
    const r = new Pcg32(1, 2);
    for (let i = 0; i < 10000; i++) {
      const b = r.nextBelow(7);
      expect(b >= 0 && b < 7).toBe(true);
      const f = r.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });

  it("WGSL pcg32 (common/pcg32_stream.wgsl) draws the same stream as the TypeScript twin", async () => {
    const gpu = await testGpu();
    const n = 257;
    const count = 33;
    const seed = 0xdeadbeef;
    const stream0 = 0x7ffffff0; // crosses the stream << 1 carry into the high word
    const bound = 1000;
    const u = createBuffer(gpu, "pcg u32", n * count * 4);
    const f = createBuffer(gpu, "pcg f32", n * count * 4);
    const b = createBuffer(gpu, "pcg below", n * count * 4);
    const p = params(gpu, "pcg params", [
      ["u32", seed],
      ["u32", stream0],
      ["u32", n],
      ["u32", count],
      ["u32", bound],
    ]);
    const enc = gpu.device.createCommandEncoder();
    dispatch(gpu, enc, pipeline(gpu, "common/pcg32_stream.wgsl"), [u, f, b, p], [groups(n, 64)]);
    gpu.device.queue.submit([enc.finish()]);
    const [gu, gf, gb] = [await readU32(gpu, u), await readF32(gpu, f), await readU32(gpu, b)];
    for (let i = 0; i < n; i++) {
      const ru = new Pcg32(seed, stream0 + i);
      const rf = new Pcg32(seed, stream0 + i);
      const rb = new Pcg32(seed, stream0 + i);
      for (let k = 0; k < count; k++) {
        const j = i * count + k;
        const eu = ru.nextU32();
        if (gu[j] !== eu) expect.fail(`stream ${i} draw ${k}: gpu ${gu[j]} cpu ${eu}`);
        expect(gf[j]).toBe(rf.nextFloat());
        expect(gb[j]).toBe(rb.nextBelow(bound));
      }
    }
  });
});
