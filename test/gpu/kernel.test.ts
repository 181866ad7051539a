import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createBuffer, params, readF32, upload, write } from "../../src/gpu/buffers.js";
import { compileErrors, dispatch, encodeCalls, gpuCall, packageRoot, pipeline, shaderSource } from "../../src/gpu/kernel.js";
import { testGpu } from "../helpers.js";

function allShaders(dir = path.join(packageRoot(), "shaders"), rel = ""): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? allShaders(path.join(dir, e.name), `${rel}${e.name}/`) : e.name.endsWith(".wgsl") ? [`${rel}${e.name}`] : [],
    );
}

describe("shader loading", () => {
  it("expands //!include once", () => {
    const src = shaderSource("common/pcg32_stream.wgsl");
    expect(src).toContain("fn pcg_new");
    expect(src.match(/fn pcg_new/g)?.length).toBe(1);
  });

  it("names the missing file", () => {
    expect(() => shaderSource("nope/missing.wgsl")).toThrow(/shaders\/nope\/missing\.wgsl/);
  });

  it("every shader in shaders/ compiles on the adapter", async () => {
    const gpu = await testGpu();
    // Files that other shaders //!include (common/pcg32.wgsl, nn/matmul_core.wgsl) are compiled through their includers.
    const all = allShaders();
    const root = path.join(packageRoot(), "shaders");
    const included = new Set(
      all.flatMap((f) => [...fs.readFileSync(path.join(root, f), "utf8").matchAll(/^\/\/!include\s+(\S+)/gm)].map((m) => m[1])),
    );
    const files = all.filter((f) => !included.has(f));
    expect(included.has("common/pcg32.wgsl")).toBe(true);
    expect(files.length).toBeGreaterThan(0);
    const errors = (await Promise.all(files.map((f) => compileErrors(gpu, f)))).flat();
    expect(errors, errors.join("\n")).toEqual([]);
  });
});

describe("recorded calls (gpuCall + encodeCalls), the one way GPU work is issued", () => {
  // sift_dog.wgsl on 2 levels of 512 floats: dog = level 1 - level 0 (count4 = 128, stride4 = 128).
  it("a call built once replays on new data, directly or indirectly, as dispatch() does", async () => {
    const gpu = await testGpu();
    const pipe = pipeline(gpu, "features/sift_dog.wgsl");
    const input = createBuffer(gpu, "test calls gauss", 1024 * 4);
    const out = [0, 1, 2].map((i) => createBuffer(gpu, `test calls dog ${i}`, 512 * 4));
    const p = params(gpu, "test calls params", [
      ["u32", 128],
      ["u32", 128],
    ]);
    const args = upload(
      gpu,
      "test calls indirect args",
      Uint32Array.from([0, 0, 0, 1, 1, 1]),
      GPUBufferUsage.INDIRECT | GPUBufferUsage.COPY_DST,
    );
    const direct = gpuCall(gpu, pipe, [input, out[0], p], [1], { label: "test calls direct" });
    const indirect = gpuCall(gpu, pipe, [input, out[1], p], [0], { label: "test calls indirect", indirect: { buffer: args, offset: 12 } });
    expect(direct.group.label).toBe("test calls direct");
    for (const seed of [1, 2]) {
      const data = Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i * seed));
      write(gpu, input, data);
      const enc = gpu.device.createCommandEncoder();
      encodeCalls(enc, [direct, indirect], "test calls");
      dispatch(gpu, enc, pipe, [input, out[2], p], [1]);
      gpu.device.queue.submit([enc.finish()]);
      const want = Float32Array.from({ length: 512 }, (_, i) => Math.fround(data[512 + i] - data[i]));
      for (const b of out) expect(await readF32(gpu, b)).toEqual(want);
    }
    gpu.check("recorded calls test");
  });
});
