import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { modelConfig } from "../../src/models/config.js";
import { explicitMasking } from "../../src/models/masking.js";
import { initParams } from "../../src/models/params.js";
import { patchifyRef } from "../../src/ref/models/mim.js";
import { denormalizeRgb, loadImage } from "../../src/train/data.js";
import { reconstruct, reconstructionPanels, stepMasking } from "../../src/train/reconstruct.js";
import { randomBytes, toyVit } from "../helpers.js";

const arch = toyVit({ width: 16 });

describe("reconstructions (src/train/reconstruct.ts)", () => {
  it("panels: masked patches at the mean colour, prediction pasted only where masked, target intact", () => {
    const c = modelConfig(arch, "mae");
    const L = 16;
    const pd = 48;
    const view = Float32Array.from(randomBytes(3 * 256, 4), (v) => (v - 128) / 64);
    const pred = new Float32Array(L * pd).fill(1.5);
    const m = explicitMasking(1, L, [0, 5]);
    const img = reconstructionPanels(c, view, pred, m.mask);
    expect([img.width, img.height]).toEqual([3 * 16 + 4, 16]);
    const px = (x: number, y: number) => Array.from(img.rgb.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
    const tgt = denormalizeRgb(view, 16);
    const at = (x: number, y: number) => Array.from(tgt.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3));
    expect(px(1, 1)).toEqual([124, 116, 104]); // patch 0 masked: ImageNet mean colour
    expect(px(9, 1)).toEqual(at(9, 1)); // patch 2 visible
    expect(px(18 + 1, 1)).toEqual(Array.from(denormalizeRgb(new Float32Array(3).fill(1.5), 1))); // predicted
    expect(px(18 + 9, 1)).toEqual(at(9, 1));
    expect(px(36 + 1, 1)).toEqual(at(1, 1));
    expect(px(16, 0)).toEqual([255, 255, 255]); // gap
    // norm_pix: a prediction of zeros becomes each masked patch's mean
    const cn = modelConfig(arch, "mae", { normPixLoss: true });
    const np = reconstructionPanels(cn, view, new Float32Array(L * pd), m.mask);
    const t = patchifyRef(view, 1, 16, 4);
    let mean0 = 0; // patch 0's mean over all its pixels and channels (normalised space)
    for (let i = 0; i < pd; i++) mean0 += t[i] / pd;
    const want = Array.from(denormalizeRgb(Float32Array.from([mean0, mean0, mean0]), 1));
    expect(
      Array.from(np.rgb.subarray((1 * np.width + 18 + 1) * 3, (1 * np.width + 18 + 1) * 3 + 3)).every((v, i) => Math.abs(v - want[i]) <= 1),
    ).toBe(true);
  });

  it("stepMasking is reproducible per (seed, step) and differs across steps", () => {
    const c = modelConfig("nano", "croco");
    const a = stepMasking(c, 2, 3, 10);
    expect(Array.from(a.idsKeep)).toEqual(Array.from(stepMasking(c, 2, 3, 10).idsKeep));
    expect(Array.from(a.idsKeep)).not.toEqual(Array.from(stepMasking(c, 2, 3, 11).idsKeep));
    expect(a.keep).toBe(19);
  });

  it("reconstruct() runs the CPU reference on image files with an explicit mask and writes a PNG", async () => {
    const dir = await mkdtemp(join(tmpdir(), "recon-"));
    for (const k of [1, 2])
      await sharp(randomBytes(20 * 20 * 3, k), { raw: { width: 20, height: 20, channels: 3 } })
        .png()
        .toFile(join(dir, `v${k}.png`));
    const params = initParams(modelConfig(arch, "croco"), 1);
    const out = join(dir, "recon.png");
    const r = await reconstruct({ params, view1: join(dir, "v1.png"), view2: join(dir, "v2.png"), mask: [3, 1, 7], out });
    expect(r.masked).toEqual([1, 3, 7]);
    expect(Number.isFinite(r.loss) && r.loss > 0).toBe(true);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([4 * 16 + 6, 16]);
    // the third panel is the target: view 1 as loadImage decodes it
    const v1 = denormalizeRgb(await loadImage(join(dir, "v1.png"), 16), 16);
    expect(Array.from(r.image.rgb.subarray((5 * r.image.width + 36 + 7) * 3, (5 * r.image.width + 36 + 7) * 3 + 3))).toEqual(
      Array.from(v1.subarray((5 * 16 + 7) * 3, (5 * 16 + 7) * 3 + 3)),
    );
    await expect(reconstruct({ params, view1: join(dir, "v1.png") })).rejects.toThrow(/needs a second view/);
  });
});
