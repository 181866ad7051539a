import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { writePng } from "../../src/image/io.js";
import { Pcg32 } from "../../src/prng.js";
import { openProbeDataset } from "../../src/probe/datasets.js";
import type { DepthMetrics, SegMetrics } from "../../src/probe/metrics.js";
import {
  applyFeatureStats,
  balancedClassWeights,
  FeatureCache,
  type FrozenEncoder,
  featureStats,
  formatMetrics,
  runProbe,
  toEncoderInput,
  trainValSplit,
  upsampleChannels,
} from "../../src/probe/pipeline.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-probe-run-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const S = 16; // image side
const P = 4; // patch

/**
 * Test fixture, not a model: "encodes" an image as its raw normalised patch pixels (D = p*p*3), so
 * a linear head can read each pixel's own colour and a trained probe must beat an untrained one.
 */
function patchEncoder(calls: { n: number }): FrozenEncoder {
  const G = S / P;
  return {
    name: "patchify-fixture",
    embedDim: P * P * 3,
    patchSize: P,
    imageHeight: S,
    imageWidth: S,
    async encode(images, B) {
      calls.n += B;
      const D = P * P * 3;
      const out = new Float32Array(B * G * G * D);
      for (let b = 0; b < B; b++)
        for (let ty = 0; ty < G; ty++)
          for (let tx = 0; tx < G; tx++)
            for (let py = 0; py < P; py++)
              for (let px = 0; px < P; px++)
                for (let c = 0; c < 3; c++)
                  out[((b * G + ty) * G + tx) * D + (py * P + px) * 3 + c] = images[((b * 3 + c) * S + ty * P + py) * S + tx * P + px];
      return out;
    },
  };
}

/** A mimic-synth-layout folder: gray level g per pixel, depth = 1 + 3 g / 255 m, label by g (0 where g < 20). */
async function makeSet(root: string, images: number) {
  for (const d of ["rgb", "depth", "labels"]) fs.mkdirSync(path.join(root, d), { recursive: true });
  const r = new Pcg32(3, 5);
  const stems: string[] = [];
  for (let k = 0; k < images; k++) {
    const stem = `s${k % 4}_${String(k).padStart(6, "0")}`;
    stems.push(stem);
    const g = Uint8Array.from({ length: S * S }, () => r.nextBelow(256));
    const rgb = new Uint8Array(S * S * 3);
    for (let i = 0; i < g.length; i++) rgb.fill(g[i], 3 * i, 3 * i + 3);
    await writePng(path.join(root, "rgb", `${stem}.png`), S, S, rgb, 3);
    await writePng(
      path.join(root, "depth", `${stem}.png`),
      S,
      S,
      Uint16Array.from(g, (v) => Math.round(1000 + (3000 * v) / 255)),
      1,
    );
    await writePng(
      path.join(root, "labels", `${stem}.png`),
      S,
      S,
      Uint8Array.from(g, (v) => (v < 20 ? 0 : v < 100 ? 1 : v < 180 ? 2 : 3)),
      1,
    );
  }
  fs.writeFileSync(
    path.join(root, "classes.json"),
    JSON.stringify({
      unlabelled: 0,
      classes: [
        { id: 1, name: "dark" },
        { id: 2, name: "mid" },
        { id: 3, name: "light" },
      ],
    }),
  );
  fs.writeFileSync(path.join(root, "splits.json"), JSON.stringify({ train: ["s0", "s1", "s2"], val: ["s3"] }));
}

describe("probe loop (frozen encoder -> cached features -> head -> val metrics)", () => {
  const root = path.join(tmp, "synth");
  const ready = makeSet(root, 16);

  it("depth: a trained linear probe beats the untrained one; metrics.json and predictions.png are written", async () => {
    await ready;
    const ds = openProbeDataset(root, { task: "depth" });
    const calls = { n: 0 };
    const enc = patchEncoder(calls);
    const config = { head: "linear" as const, batchSize: 4, lr: 2e-2, seed: 1, pictures: 2 };
    const base = await runProbe({ dataset: ds, encoder: enc, config: { ...config, epochs: 0 } });
    const out = path.join(tmp, "depth-out");
    const trained = await runProbe({ dataset: ds, encoder: enc, config: { ...config, epochs: 40 }, out });
    const b = base.metrics as DepthMetrics;
    const t = trained.metrics as DepthMetrics;
    expect(trained.dataset).toMatchObject({ train: 12, val: 4 });
    expect(t.pixels).toBe(4 * S * S);
    // untrained: a constant at the train median depth (~2.5 m for depth uniform in 1..4 m)
    expect(b.absRel).toBeGreaterThan(0.2);
    expect(t.absRel, formatMetrics(t)).toBeLessThan(0.5 * b.absRel);
    expect(t.delta1).toBeGreaterThan(b.delta1);
    expect(trained.train.losses[39]).toBeLessThan(trained.train.losses[0]);
    const json = JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8"));
    expect(json.metrics.absRel).toBeCloseTo(t.absRel, 12);
    expect(json.head.kind).toBe("linear");
    const meta = await sharp(path.join(out, "predictions.png")).metadata();
    expect([meta.width, meta.height]).toEqual([3 * S + 4, 2 * S + 2]);
    expect(formatMetrics(t)).toMatch(/AbsRel 0\.\d{4}/);
    // every scalar metric has a bootstrap interval around it, seeded by the head seed: the same
    // run again writes the same intervals and per-image statistics, byte for byte
    expect(trained.intervals.info).toEqual({
      method: "percentile bootstrap over val images",
      level: 0.95,
      resamples: 1000,
      seed: 1,
      images: 4,
    });
    const [lo, hi] = trained.intervals.ci.absRel;
    expect(lo).toBeLessThanOrEqual(t.absRel);
    expect(hi).toBeGreaterThanOrEqual(t.absRel);
    expect(hi).toBeGreaterThan(lo);
    expect(json.intervals.description).toBe("95% CI, percentile bootstrap over 4 val images, 1000 resamples, seed 1");
    expect(json.imageStats.ids).toHaveLength(4);
    const again = await runProbe({ dataset: ds, encoder: enc, config: { ...config, epochs: 40 } });
    expect(JSON.stringify([again.intervals, again.imageStats])).toBe(JSON.stringify([trained.intervals, trained.imageStats]));
    expect(formatMetrics(t, null, trained.intervals)).toMatch(/AbsRel 0\.\d{4} \[0\.\d{4}, 0\.\d{4}\]/);
  });

  it("seg: a trained probe beats the untrained one (mIoU, labels 0 ignored)", async () => {
    await ready;
    const ds = openProbeDataset(root, { task: "seg" });
    const enc = patchEncoder({ n: 0 });
    const config = { head: "linear" as const, batchSize: 4, lr: 5e-2, seed: 2, pictures: 1 };
    const base = (await runProbe({ dataset: ds, encoder: enc, config: { ...config, epochs: 0 } })).metrics as SegMetrics;
    const res = await runProbe({ dataset: ds, encoder: enc, config: { ...config, epochs: 40 } });
    const m = res.metrics as SegMetrics;
    expect(m.iou).toHaveLength(3);
    expect(m.mIoU, formatMetrics(m, res.classNames)).toBeGreaterThan(0.7);
    expect(m.mIoU).toBeGreaterThan(base.mIoU + 0.2);
    expect(formatMetrics(m, res.classNames)).toMatch(/light/);
  });

  it("seg with classWeights balanced: median frequency weights from the train split reach the loss", async () => {
    // counts 6, 2, 0, 1 (255 ignored): shares 6/9, 2/9, 0, 1/9; median of the present ones 2/9
    const w = balancedClassWeights([Uint8Array.from([0, 0, 0, 1, 255]), Uint8Array.from([0, 0, 0, 1, 3, 255])], 4);
    expect([...w].map((x) => +x.toFixed(12))).toEqual([+(1 / 3).toFixed(12), 1, 0, 2]);
    expect([...balancedClassWeights([Uint8Array.from([255])], 2)]).toEqual([0, 0]);
    await ready;
    const ds = openProbeDataset(root, { task: "seg" });
    const enc = patchEncoder({ n: 0 });
    const config = { head: "linear" as const, batchSize: 4, lr: 5e-2, seed: 2, pictures: 1, epochs: 2 };
    const plain = await runProbe({ dataset: ds, encoder: enc, config });
    const balanced = await runProbe({ dataset: ds, encoder: enc, config: { ...config, classWeights: "balanced" } });
    expect([plain.train.classWeights, balanced.train.classWeights]).toEqual(["none", "balanced"]);
    expect(balanced.train.losses).not.toEqual(plain.train.losses);
  });

  it("features are computed once per image and come back from the disk cache", async () => {
    await ready;
    const ds = openProbeDataset(root, { task: "depth" });
    const calls = { n: 0 };
    const cacheDir = path.join(tmp, "cache");
    const first = await runProbe({ dataset: ds, encoder: patchEncoder(calls), config: { epochs: 1, batchSize: 5 }, cacheDir });
    expect(calls.n).toBe(16);
    expect(first.featureCache).toEqual({ hits: 0, misses: 16 });
    const again = await runProbe({ dataset: ds, encoder: patchEncoder(calls), config: { epochs: 1, batchSize: 5 }, cacheDir });
    expect(calls.n).toBe(16); // encoder not called again
    expect(again.featureCache).toEqual({ hits: 16, misses: 0 });
    expect(again.metrics).toEqual(first.metrics);
    // a different encoder name is a different key
    const other = new FeatureCache(cacheDir, "other", 4);
    expect(other.get("x")).toBeNull();
    expect(() => other.put("x", new Float32Array(3))).toThrow(/3 floats for x, expected 4/);
  });

  it("hold-out when the dataset has one split; encoder input is ImageNet-normalised (B, 3, H, W)", async () => {
    await ready;
    const nyu = path.join(tmp, "nyu");
    fs.cpSync(path.join(root, "rgb"), path.join(nyu, "rgb"), { recursive: true });
    fs.cpSync(path.join(root, "depth"), path.join(nyu, "depth"), { recursive: true });
    const ds = openProbeDataset(nyu, { task: "depth" });
    const { train, val, note } = trainValSplit(ds, 0.25);
    expect([train.length, val.length]).toEqual([12, 4]);
    // sorted by name: s0_000000, s0_000004, s0_000008, s0_000012, s1_000001, ...; every 4th from index 3
    expect(val.map((s) => s.id)).toEqual(["s0_000012", "s1_000013", "s2_000014", "s3_000015"]);
    expect(note).toMatch(/every 4th sample/);
    // pixel (255, 0, 128): ((1 - .485) / .229, (0 - .456) / .224, (128/255 - .406) / .225)
    const x = toEncoderInput([{ id: "a", height: 1, width: 1, rgb: Uint8Array.from([255, 0, 128]) }], 1, 1);
    expect(x[0]).toBeCloseTo((1 - 0.485) / 0.229, 6);
    expect(x[1]).toBeCloseTo(-0.456 / 0.224, 6);
    expect(x[2]).toBeCloseTo((128 / 255 - 0.406) / 0.225, 6);
    // upsampling predictions: 1x2 -> 1x4, channel-last; channel 0 [0, 100] -> [0, 25, 75, 100], channel 1 constant
    expect(Array.from(upsampleChannels([0, 10, 100, 10], 1, 2, 2, 1, 4))).toEqual([0, 10, 25, 10, 75, 10, 100, 10]);
    expect(() => toEncoderInput([{ id: "a", height: 2, width: 1, rgb: new Uint8Array(6) }], 1, 1)).toThrow(
      /a is 1x2, the encoder takes 1x1/,
    );
  });

  it("featureNorm standardize: train-split per-channel stats; the probe ignores per-channel scale and shift of the features", async () => {
    // hand-computed: channel 0 over tokens {1, 3, 5} -> mean 3, var 8/3; channel 1 {10, 10, 10} -> var 0 (eps only)
    const st = featureStats([Float32Array.from([1, 10, 3, 10]), Float32Array.from([5, 10])], 2);
    expect(st.tokens).toBe(3);
    expect(Array.from(st.mean)).toEqual([3, 10]);
    expect(st.invStd[0]).toBeCloseTo(1 / Math.sqrt(8 / 3 + 1e-6), 6);
    expect(st.invStd[1]).toBeCloseTo(1000, 3);
    expect(Array.from(applyFeatureStats(Float32Array.from([3, 10, 6, 11]), st))).toEqual([0, 0, Math.fround(3 * st.invStd[0]), 1000]);
    expect(() => featureStats([new Float32Array(3)], 2)).toThrow(/not a whole number of 2-wide tokens/);
    expect(() => featureStats([], 2)).toThrow(/no tokens/);

    await ready;
    const ds = openProbeDataset(root, { task: "seg" });
    // the same encoder with every channel scaled and shifted differently (an encoder with badly
    // conditioned feature scales carries the same information)
    const skewed = (): FrozenEncoder => {
      const e = patchEncoder({ n: 0 });
      return {
        ...e,
        name: "patchify-skewed",
        async encode(images, B) {
          const x = await e.encode(images, B);
          for (let i = 0; i < x.length; i++) {
            const d = i % e.embedDim;
            x[i] = x[i] * (d % 3 === 0 ? 40 : 0.05 * (1 + d)) + (d % 5) * 7;
          }
          return x;
        },
      };
    };
    const config = { head: "linear" as const, epochs: 8, batchSize: 4, lr: 2e-2, seed: 4, pictures: 0 };
    const run = async (enc: FrozenEncoder, featureNorm: "standardize" | "none") =>
      (await runProbe({ dataset: ds, encoder: enc, config: { ...config, featureNorm } })) as Awaited<ReturnType<typeof runProbe>> & {
        metrics: SegMetrics;
      };
    const plain = await run(patchEncoder({ n: 0 }), "standardize");
    const sk = await run(skewed(), "standardize");
    expect(plain.train.featureNorm).toBe("standardize");
    sk.train.losses.forEach((l, i) => {
      expect(l).toBeCloseTo(plain.train.losses[i], 3);
    });
    expect(sk.metrics.mIoU).toBeCloseTo(plain.metrics.mIoU, 3);
    // without normalisation the skewed encoder trains differently (and worse)
    const raw = await run(skewed(), "none");
    expect(Math.abs(raw.train.losses[7] - plain.train.losses[7])).toBeGreaterThan(1e-2);
    await expect(run(patchEncoder({ n: 0 }), "bogus" as "none")).rejects.toThrow(/featureNorm must be "standardize" or "none"/);
  });
});
