// One decision everywhere: every candidate of a small mined set (a frame folder), kept or rejected,
// replayed through `mimic match --config <dataset>` on its two frame files, gets the outcome
// mining recorded in candidates.jsonl (overlap and reason), for both presets and for --accurate.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { program } from "../../src/cli/main.js";
import { makeTexture, render } from "../../src/features/textures.js";
import { listVideos } from "../../src/video/folder.js";
import { sequenceTimes } from "../../src/video/sequence.js";
import { runMimic, testGpu } from "../helpers.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-replay-"));
const frames = path.join(root, "walk");
const mimic = runMimic;
/** `mimic match ... --json` in this process (one GPU for all replays). */
async function match(args: string[]): Promise<Record<string, unknown>> {
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  try {
    await program().parseAsync(["node", "mimic", "match", ...args, "--json"]);
  } finally {
    spy.mockRestore();
  }
  return JSON.parse(out);
}

// A camera moving over a textured wall with uneven steps (some pairs in the band, some above,
// below, static, or too far apart), seen through a 320x240 window.
const W = 1600;
const STEPS = [0, 70, 140, 140, 215, 300, 330, 480, 700, 760];
beforeAll(async () => {
  const wall = new Uint8Array(W * 480 * 3);
  for (let t = 0; t < 5; t++) {
    const gray = render(makeTexture(11 + t, 320), 320, 480);
    for (let y = 0; y < 480; y++)
      for (let x = 0; x < 320; x++)
        wall.fill(Math.round(255 * gray[y * 320 + x]), 3 * (y * W + t * 320 + x), 3 * (y * W + t * 320 + x) + 3);
  }
  fs.mkdirSync(frames, { recursive: true });
  for (const [k, x0] of STEPS.entries()) {
    const y0 = 100 + Math.round(30 * Math.sin(k));
    const v = Buffer.alloc(320 * 240 * 3);
    for (let y = 0; y < 240; y++) v.set(wall.subarray(3 * ((y0 + y) * W + x0), 3 * ((y0 + y) * W + x0 + 320)), 3 * y * 320);
    await sharp(v, { raw: { width: 320, height: 240, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(path.join(frames, `${k}.jpg`));
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("mimic match --config replays mining's decisions", () => {
  for (const [preset, extra] of [
    ["default", []],
    ["mimic", []],
    ["default", ["--accurate", "true"]],
  ] as Array<[string, string[]]>) {
    const label = [preset, ...extra].join(" ");
    it(`every candidate of a ${label} run gets its recorded overlap and reason`, async () => {
      await testGpu();
      const out = path.join(root, `mined-${preset}${extra.length ? "-accurate" : ""}`);
      const r = await mimic("mine", frames, "--out", out, "--preset", preset, "--fps", "1", "--quiet", ...extra);
      expect(r.status, r.stderr).toBe(0);
      const cands = fs
        .readFileSync(path.join(out, "candidates.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const seq = listVideos(frames, { sequences: true }).videos[0].sequence;
      if (!seq) throw new Error("no sequence");
      const times = sequenceTimes(seq, 1);
      const fileAt = (t: number) => path.join(frames, seq.files[times.indexOf(t)]);
      const reasons = new Set<string>();
      for (const c of cands) {
        const s = await match([fileAt(c.t1), fileAt(c.t2), "--config", path.join(out, "config.json")]);
        // Window mode keeps, per frame, one in-band partner; the others are in the band too.
        const want = c.kept || c.reason === "window-not-best" ? null : c.reason;
        const got = s.overlap === null ? null : Math.round((s.overlap as number) * 1e6) / 1e6;
        expect([got, s.reason], `${c.t1} -> ${c.t2}`).toEqual([c.overlap, want]);
        reasons.add(c.kept ? "kept" : c.reason);
      }
      // The set covers kept pairs and at least two ways to be rejected.
      expect(reasons.has("kept"), [...reasons].join()).toBe(true);
      expect(reasons.size, [...reasons].join()).toBeGreaterThanOrEqual(3);
      console.log(`${label}: ${cands.length} candidates replayed (${[...reasons].sort().join(", ")})`);
    });
  }

  it("--preset gives the same decision as that preset's dataset config; a bad --config exits 2", async () => {
    const a = path.join(frames, "0.jpg");
    const b = path.join(frames, "1.jpg");
    const byPreset = await match([a, b, "--preset", "default"]);
    const byConfig = await match([a, b, "--config", path.join(root, "mined-default")]);
    // (the hashes differ: the dataset's config also holds --fps, which no pair decision reads)
    expect([byPreset.overlap, byPreset.reason]).toEqual([byConfig.overlap, byConfig.reason]);
    const bad = await mimic("match", a, b, "--config", path.join(root, "nowhere.json"));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("nowhere.json");
  });
});
