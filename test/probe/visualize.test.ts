import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { readRgb } from "../../src/image/io.js";
import { colorizeDepth, labelColor, predictionGrid, turbo, writePredictionGrid } from "../../src/probe/visualize.js";
import { randomBytes } from "../helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-probe-vis-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const px = (img: { rgb: Uint8Array; width: number }, x: number, y: number) =>
  Array.from(img.rgb.slice((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

describe("prediction pictures", () => {
  it("palette and colormap: VOC colours, turbo ends, no data black", () => {
    // VOC: 0 black, 1 = (128, 0, 0), 2 = (0, 128, 0), 3 = (128, 128, 0), 8 = (64, 0, 0)
    expect([labelColor(0), labelColor(1), labelColor(2), labelColor(3), labelColor(8)]).toEqual([
      [0, 0, 0],
      [128, 0, 0],
      [0, 128, 0],
      [128, 128, 0],
      [64, 0, 0],
    ]);
    // turbo polynomial: at 0 the constant terms (0.1357, 0.0914, 0.1067) * 255 -> (35, 23, 27);
    // at 1 the coefficient sums (0.5659, 0.0504, -0.0255) -> (144, 13, 0 clamped); green peaks mid-way
    expect(turbo(0)).toEqual([35, 23, 27]);
    expect(turbo(1)).toEqual([144, 13, 0]);
    expect(turbo(-3)).toEqual(turbo(0));
    const mid = turbo(0.5);
    expect(mid[1] > mid[0] && mid[1] > mid[2]).toBe(true);
    expect(Array.from(colorizeDepth([0, 1, 2], 1, 2).slice(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(colorizeDepth([0, 1, 2], 1, 2).slice(3, 6))).toEqual(turbo(0));
  });

  it("depth: writes a valid PNG of the expected size with panels in place", async () => {
    const h = 4;
    const w = 5;
    const rows = [0, 1].map((k) => ({
      rgb: randomBytes(h * w * 3, k + 1),
      gt: Float32Array.from({ length: h * w }, (_, i) => (i === 0 ? 0 : 1 + i / 10)),
      pred: Float32Array.from({ length: h * w }, () => 2),
    }));
    const file = path.join(tmp, "depth.png");
    const size = await writePredictionGrid(file, rows, { kind: "depth", height: h, width: w, gap: 2 });
    // width 3*5 + 2*2 = 19, height 2*4 + 2 = 10
    expect(size).toEqual({ width: 19, height: 10 });
    const meta = await sharp(file).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(["png", 19, 10, 3]);
    const img = await readRgb(file);
    expect(px(img, 0, 0)).toEqual(Array.from(rows[0].rgb.slice(0, 3))); // rgb panel
    expect(px(img, 2, 6 + 1)).toEqual(Array.from(rows[1].rgb.slice((1 * w + 2) * 3, (1 * w + 2) * 3 + 3))); // row 1 at y 6
    expect(px(img, 5, 0)).toEqual([255, 255, 255]); // gap
    expect(px(img, 7, 0)).toEqual([0, 0, 0]); // gt pixel 0: no data
    // range is the valid gt: 1.1 .. 2.9; gt pixel 1 (1.1) is the low end, prediction 2 is the middle
    expect(px(img, 8, 0)).toEqual(turbo(0));
    expect(px(img, 14, 0)).toEqual(turbo((2 - 1.1) / (2.9 - 1.1)));
  });

  it("seg: gt labels as stored and predicted class indices share colours", () => {
    const g = predictionGrid([{ rgb: new Uint8Array(2 * 3), gt: [0, 2], pred: [1, 1] }], { kind: "seg", height: 1, width: 2, gap: 1 });
    expect([g.width, g.height]).toEqual([8, 1]);
    expect(px(g, 3, 0)).toEqual([0, 0, 0]); // ignore
    expect(px(g, 4, 0)).toEqual(labelColor(2)); // gt label 2
    expect(px(g, 6, 0)).toEqual(labelColor(2)); // class index 1 = label 2
    // a palette by label id (e.g. the synth display colours) overrides the VOC colours, not label 0
    const palette = [[9, 9, 9], undefined, [10, 20, 30]] as const;
    const q = predictionGrid([{ rgb: new Uint8Array(2 * 3), gt: [0, 2], pred: [1, 0] }], {
      kind: "seg",
      height: 1,
      width: 2,
      gap: 1,
      palette,
    });
    expect([px(q, 3, 0), px(q, 4, 0), px(q, 6, 0), px(q, 7, 0)]).toEqual([[0, 0, 0], [10, 20, 30], [10, 20, 30], labelColor(1)]);
  });

  it("size mismatch and empty input are errors", () => {
    expect(() => predictionGrid([], { kind: "seg", height: 1, width: 1 })).toThrow(/no rows/);
    expect(() => predictionGrid([{ rgb: new Uint8Array(3), gt: [1, 2], pred: [0] }], { kind: "seg", height: 1, width: 1 })).toThrow(
      /row 0: rgb 3, gt 2, pred 1 values; expected 1x1/,
    );
  });
});
