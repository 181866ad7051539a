// shaders/common/reflect101.wgsl (included by the blur kernels) vs its CPU twin reflect101 in
// src/ref/image.ts, for indices far outside [0, n) on both sides and every small n.
import { describe, expect, it } from "vitest";
import { createBuffer, readback, submit } from "../../src/gpu/buffers.js";
import { shaderSource } from "../../src/gpu/kernel.js";
import { reflect101 } from "../../src/ref/image.js";
import { testGpu } from "../helpers.js";

describe("common/reflect101.wgsl", () => {
  it("matches reflect101 of src/ref/image.ts for i in [-40, 40) and n in 1..9", async () => {
    const gpu = await testGpu();
    const I = 80;
    const N = 9;
    const code = `${shaderSource("common/reflect101.wgsl")}
@group(0) @binding(0) var<storage, read_write> out: array<i32>;
@compute @workgroup_size(${I}) fn main(@builtin(local_invocation_id) l: vec3u, @builtin(workgroup_id) w: vec3u) {
  out[w.x * ${I}u + l.x] = reflect101(i32(l.x) - 40, i32(w.x) + 1);
}`;
    const module = gpu.device.createShaderModule({ code });
    const pipe = gpu.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
    const out = createBuffer(gpu, "reflect101 out", I * N * 4);
    const group = gpu.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] });
    const enc = gpu.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(N);
    pass.end();
    submit(gpu, enc);
    const got = Array.from(new Int32Array(await readback(gpu, out)));
    gpu.check("reflect101 test");
    const want = Array.from({ length: I * N }, (_, k) => reflect101((k % I) - 40, Math.floor(k / I) + 1));
    expect(got).toEqual(want);
    out.destroy();
  });
});
