import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { program } from "../../src/cli/main.js";
import { makeTexture, render } from "../../src/features/textures.js";
import { patchCorrespondences } from "../../src/geometry/correspondence.js";
import { cornerErrors, invert3x3 } from "../../src/geometry/homography.js";
import { writePng } from "../../src/image/io.js";
import { configHash, minePresets } from "../../src/mine/config.js";
import { stageConfigs } from "../../src/mine/verify.js";
import { testGpu } from "../helpers.js";

async function writeGray(file: string, g: Float32Array, w: number, h: number) {
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) rgb.fill(Math.round(g[i] * 255), 3 * i, 3 * i + 3);
  await writePng(file, w, h, rgb, 3);
}

async function run(args: string[]): Promise<string> {
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const log = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => {
    out += `${a.join(" ")}\n`;
  });
  try {
    await program().parseAsync(["node", "mimic", ...args]);
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
  return out;
}

describe("mimic match (src/cli/match.ts)", () => {
  it("recovers a known homography between two rendered views and reports MIMIC's overlap", async () => {
    await testGpu();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-match-"));
    const tex = makeTexture(5, 224);
    const H = [0.93, 0.05, 22, -0.04, 0.95, 14, 0.0002, -0.0001, 1];
    const a = path.join(dir, "a.png");
    const b = path.join(dir, "b.png");
    await writeGray(a, render(tex, 224, 224), 224, 224);
    await writeGray(b, render(tex, 224, 224, invert3x3(H)), 224, 224);
    const viz = path.join(dir, "viz.png");
    const s = JSON.parse(await run(["match", a, b, "--preset", "mimic", "--json", "--viz", viz]));
    expect(s.model).toBe(true);
    expect(s.inliers).toBeGreaterThan(20);
    const errs = cornerErrors(s.H, H, 224, 224).sort((x, y) => x - y);
    expect((errs[1] + errs[2]) / 2, "median corner error, px").toBeLessThan(1);
    // The truth with the correspondence settings the mimic preset mines with.
    const [truth] = await patchCorrespondences("cpu", [H], stageConfigs(minePresets.mimic).twoView.correspondence);
    expect(Math.abs(s.overlap - truth.overlap) * 196, "overlap vs the true H's, patches").toBeLessThanOrEqual(4);
    expect(fs.statSync(viz).size).toBeGreaterThan(1000);
    // text output and a bad flag
    expect(await run(["match", a, b])).toMatch(/overlap\s+\d+(\.\d)?% of 14x14 patches[\s\S]*decision\s+(kept|rejected: \S+)/);
    await expect(run(["match", a, b, "--config", path.join(dir, "none")])).rejects.toThrow(/cannot read .*none/);
    // --accurate: the accurate config (its own hash), its matching named in the text output, a model as close
    const acc = JSON.parse(await run(["match", a, b, "--preset", "mimic", "--accurate", "--json"]));
    expect(acc.configHash).toBe(configHash({ ...minePresets.mimic, accurate: true }));
    expect(acc.configHash).not.toBe(s.configHash);
    expect(acc.model).toBe(true);
    const accErrs = cornerErrors(acc.H, H, 224, 224).sort((x, y) => x - y);
    expect((accErrs[1] + accErrs[2]) / 2, "--accurate median corner error, px").toBeLessThan(1);
    expect(await run(["match", a, b, "--accurate"])).toMatch(/matches\s+\d+ \(ratio 0.8, mutual, RootSIFT\)/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
