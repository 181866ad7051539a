import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cvResizeLinear, rgbToGrayU8 } from "../../src/mine/opencv.js";
import { rgbToGrayU8Ref } from "../../src/ref/mine/gray.js";
import { randomBytes, testGpu } from "../helpers.js";

// Bytes that python3-opencv 4.6 produced (test/mine/fixtures/make_cv_resize.py).
const fixture = JSON.parse(
  fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "cv_resize.json"), "utf8"),
) as {
  resize: Array<{ w: number; h: number; cn: number; dw: number; dh: number; src: string; want: string }>;
  gray: { count: number; rgb: string; want: string };
};
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));

describe("MIMIC's OpenCV preprocessing (src/mine/opencv.ts)", () => {
  for (const c of fixture.resize)
    it(`cvResizeLinear ${c.w}x${c.h}x${c.cn} -> ${c.dw}x${c.dh} equals cv2.resize INTER_LINEAR byte for byte`, () => {
      const got = cvResizeLinear(bytes(c.src), c.w, c.h, c.cn, c.dw, c.dh);
      const want = bytes(c.want);
      const bad = got.findIndex((v, i) => v !== want[i]);
      expect(bad, `first differing byte ${bad}: ours ${got[bad]} cv2 ${want[bad]}`).toBe(-1);
      expect(got.length).toBe(want.length);
    });

  it("rgb_to_gray_u8.wgsl equals its twin and cv2.cvtColor(RGB2GRAY) / 255", async () => {
    const gpu = await testGpu();
    const rgb = bytes(fixture.gray.rgb);
    const n = fixture.gray.count;
    const want = Float32Array.from(bytes(fixture.gray.want), (v) => Math.fround(v / 255));
    const twin = rgbToGrayU8Ref(rgb, n);
    const got = await rgbToGrayU8(gpu, rgb, n);
    for (let i = 0; i < n; i++)
      if (twin[i] !== want[i] || got[i] !== twin[i]) expect.fail(`pixel ${i}: gpu ${got[i]} twin ${twin[i]} cv2 ${want[i]}`);
    // odd count (bytes not a multiple of 4) and a batch spanning more than one row of workgroups
    const r2 = randomBytes(3 * 70001, 3);
    const g2 = await rgbToGrayU8(gpu, r2, 70001);
    const t2 = rgbToGrayU8Ref(r2, 70001);
    const d = g2.findIndex((v, i) => v !== t2[i]);
    expect(d, `rgb_to_gray_u8: pixel ${d}: gpu ${g2[d]} twin ${t2[d]}`).toBe(-1);
  });
});
