// describeBatch (src/mine/verify.ts) replays calls built once per batch shape: a second batch of
// the same size makes no bind group and no uniform buffer (only the readback staging buffers),
// and gives the same features and sharpness as the first.
import { describe, expect, it } from "vitest";
import type { Frame } from "../../src/contracts.js";
import { makeTexture, render } from "../../src/features/textures.js";
import { minePresets } from "../../src/mine/config.js";
import { describeBatch, stageConfigs } from "../../src/mine/verify.js";
import { testGpu } from "../helpers.js";

const SIZE = 96;

function frame(seed: number): Frame {
  const g = render(makeTexture(seed, SIZE), SIZE, SIZE);
  const rgb = new Uint8Array(SIZE * SIZE * 3);
  for (let i = 0; i < g.length; i++) rgb.fill(Math.round(Math.min(1, Math.max(0, g[i])) * 255), 3 * i, 3 * i + 3);
  return { videoId: "t", index: seed, ptsSec: seed, width: SIZE, height: SIZE, rgb };
}

describe("describeBatch", () => {
  it.each(["u8", "f32"] as const)(
    "gray %s: a second batch of the same shape makes no bind group or uniform and gives the same results",
    async (gray) => {
      const gpu = await testGpu();
      const cfg = { ...minePresets.default, size: SIZE, gray };
      const { sift } = stageConfigs(cfg);
      const frames = [frame(1), frame(2), frame(3)];
      const first = await describeBatch(gpu, frames, SIZE, sift, gray);
      const dev = gpu.device as unknown as Record<string, unknown>;
      const n = { bindGroups: 0, uniforms: 0 };
      const cbg = gpu.device.createBindGroup.bind(gpu.device);
      const cb = gpu.device.createBuffer.bind(gpu.device);
      dev.createBindGroup = (d: GPUBindGroupDescriptor) => {
        n.bindGroups++;
        return cbg(d);
      };
      dev.createBuffer = (d: GPUBufferDescriptor) => {
        if (d.usage & GPUBufferUsage.UNIFORM) n.uniforms++;
        return cb(d);
      };
      let second: Awaited<ReturnType<typeof describeBatch>>;
      try {
        second = await describeBatch(gpu, frames, SIZE, sift, gray);
      } finally {
        delete dev.createBindGroup;
        delete dev.createBuffer;
      }
      expect(n).toEqual({ bindGroups: 0, uniforms: 0 });
      expect(first.feats.map((f) => f.count).every((c) => c > 0)).toBe(true);
      expect(second.sharp).toEqual(first.sharp);
      second.feats.forEach((f, i) => {
        expect(f.xy).toEqual(first.feats[i].xy);
        expect(f.desc).toEqual(first.feats[i].desc);
      });
    },
  );
});
