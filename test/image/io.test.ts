import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { readGray, readRgb, writeJpeg, writePng } from "../../src/image/io.js";
import { randomBytes } from "../helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-io-"));

describe("image I/O through sharp", () => {
  it("PNG RGB round-trips exactly; JPEG approximately", async () => {
    const rgb = randomBytes(7 * 5 * 3, 1);
    const png = path.join(tmp, "a b é.png");
    await writePng(png, 7, 5, rgb, 3);
    const back = await readRgb(png);
    expect([back.width, back.height]).toEqual([7, 5]);
    expect(Array.from(back.rgb)).toEqual(Array.from(rgb));
    const smooth = Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i % 96) + 80);
    const jpg = path.join(tmp, "a.jpg");
    await writeJpeg(jpg, { width: 32, height: 32, rgb: smooth }, 95);
    const j = await readRgb(jpg);
    let max = 0;
    for (let i = 0; i < smooth.length; i++) max = Math.max(max, Math.abs(j.rgb[i] - smooth[i]));
    expect(max).toBeLessThan(12);
  });

  it("16-bit and 8-bit single-channel PNG round-trip exactly", async () => {
    const depth = Uint16Array.from({ length: 6 * 4 }, (_, i) => i * 2731);
    await writePng(path.join(tmp, "d.png"), 6, 4, depth, 1);
    const d = await readGray(path.join(tmp, "d.png"));
    expect(d.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(d.data)).toEqual(Array.from(depth));
    const labels = Uint8Array.from({ length: 6 * 4 }, (_, i) => i % 13);
    await writePng(path.join(tmp, "l.png"), 6, 4, labels, 1);
    const l = await readGray(path.join(tmp, "l.png"));
    for (const f of ["d.png", "l.png"]) expect((await sharp(path.join(tmp, f)).metadata()).channels, `${f} is single-channel`).toBe(1);
    expect(l.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(l.data)).toEqual(Array.from(labels));
  });

  it("a text file named .jpg gets an error naming the file", async () => {
    const bad = path.join(tmp, "notes.jpg");
    fs.writeFileSync(bad, "hello");
    await expect(readRgb(bad)).rejects.toThrow(/notes\.jpg/);
  });
});
