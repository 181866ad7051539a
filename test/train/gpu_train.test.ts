// GPU training end to end: the training loop (src/train/loop.ts) with the GPU trainer
// (src/train/gpu_trainer.ts, the model of src/models/mim_gpu.ts) on a small mined-like dataset
// (JPEG pairs + pairs.csv): the CroCo loss falls and --resume replays an uninterrupted run's losses;
// then the `mimic train` / `mimic reconstruct` commands (nano preset, a few steps).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { reconstructCommand } from "../../src/cli/reconstruct.js";
import { trainCommand } from "../../src/cli/train.js";
import { modelConfig } from "../../src/models/config.js";
import { GpuMimTrainer } from "../../src/train/gpu_trainer.js";
import { train } from "../../src/train/loop.js";
import { testGpu } from "../helpers.js";
import { TOL } from "../tolerances.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-gpu-train-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const ds = path.join(tmp, "mined");

/** A smooth scene (colour gradients + a few discs) seen from a shifted viewpoint: W x W RGB. */
function scene(W: number, seed: number, shift: number): Uint8Array {
  const px = new Uint8Array(W * W * 3);
  const cx = [0.3, 0.7, 0.5].map((v, i) => (v + 0.1 * ((seed * (i + 3)) % 5)) * W);
  const cy = [0.4, 0.6, 0.25].map((v, i) => (v + 0.1 * ((seed * (i + 2)) % 4)) * W);
  for (let y = 0; y < W; y++)
    for (let x = 0; x < W; x++) {
      const xs = x + shift;
      let r = (120 + 100 * Math.sin((xs + 7 * seed) / 9)) | 0;
      let g = (110 + 90 * Math.cos((y + 5 * seed) / 11)) | 0;
      let b = ((60 + 2 * xs + y) % 256) | 0;
      for (let k = 0; k < 3; k++)
        if ((xs - cx[k]) ** 2 + (y - cy[k]) ** 2 < (W / 8) ** 2) {
          r = 40 * k + 30;
          g = 220 - 50 * k;
          b = 90 + 60 * k;
        }
      px.set([r, g, b], (y * W + x) * 3);
    }
  return px;
}

beforeAll(async () => {
  const lines = ["path1,path2,correspondence"];
  for (let i = 0; i < 8; i++) {
    const dir = path.join("synth", `video${i % 2}`, String(i).padStart(4, "0"));
    fs.mkdirSync(path.join(ds, dir), { recursive: true });
    for (const [k, shift] of [
      [0, 0],
      [1, 6],
    ] as const)
      await sharp(scene(64, i, shift), { raw: { width: 64, height: 64, channels: 3 } })
        .jpeg({ quality: 92 })
        .toFile(path.join(ds, dir, `000${k}.jpg`));
    fs.writeFileSync(path.join(ds, dir, "corresponding.json"), "{}\n");
    lines.push(`${dir}/0000.jpg,${dir}/0001.jpg,${dir}/corresponding.json`);
  }
  fs.writeFileSync(path.join(ds, "pairs.csv"), `${lines.join("\n")}\n`);
});

const small = modelConfig(
  {
    imgSize: 32,
    patchSize: 8,
    inChans: 3,
    width: 32,
    depth: 2,
    heads: 2,
    decoderWidth: 32,
    decoderDepth: 1,
    decoderHeads: 2,
    mlpRatio: 2,
    lnEps: 1e-6,
  },
  "croco",
  { maskRatio: 0.75 },
);

describe("GPU MIM training (gpu_trainer.ts + loop.ts) on a mined-like dataset", () => {
  it("croco: loss falls over 24 steps; --resume from step 12 replays steps 13..24 within 1e-5", async () => {
    const gpu = await testGpu();
    const base = { config: small, data: ds, batch: 4, accum: 1, steps: 24, blr: 0.5, warmupSteps: 3, seed: 5, workers: 0 };
    const out1 = path.join(tmp, "run1");
    const full = await train(new GpuMimTrainer(gpu, small), { ...base, out: out1, checkpointEvery: 12 });
    console.log(`croco losses: ${full.losses.map((l) => l.toFixed(4)).join(" ")}`);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const head = mean(full.losses.slice(0, 4));
    const tail = mean(full.losses.slice(-4));
    expect(tail, "loss falls").toBeLessThan(0.8 * head);
    expect(fs.existsSync(path.join(out1, "checkpoint-000012.recon.png"))).toBe(true);
    const out2 = path.join(tmp, "run2");
    const resumed = await train(new GpuMimTrainer(gpu, small), { ...base, out: out2, resume: path.join(out1, "checkpoint-000012.json") });
    expect(resumed.losses.length).toBe(12);
    const diffs = resumed.losses.map((l, i) => Math.abs(l - full.losses[12 + i]));
    console.log(`resume |diff| max ${Math.max(...diffs)}`);
    for (let i = 0; i < 12; i++)
      expect(diffs[i], `step ${13 + i}: resumed ${resumed.losses[i]} vs ${full.losses[12 + i]}`).toBeLessThan(TOL.model.rerunLoss);
  });
});

async function cli(make: () => import("commander").Command, args: string[]): Promise<string> {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    await make().exitOverride().parseAsync(args, { from: "user" });
    return [...log.mock.calls, ...out.mock.calls].map((c) => String(c[0])).join("\n");
  } finally {
    log.mockRestore();
    out.mockRestore();
  }
}

describe("mimic train / mimic reconstruct (nano)", () => {
  it("trains 2 steps, resumes to 3 exactly, writes config.json / metrics / checkpoint + PNG; reconstruct matches the CPU reference", async () => {
    const run = path.join(tmp, "cli-run");
    const args = ["--data", ds, "--model", "nano", "--batch", "1", "--blr", "1e-3", "--warmup", "1", "--seed", "1", "--workers", "0"];
    const a = JSON.parse(await cli(trainCommand, [...args, "--steps", "2", "--checkpoint-every", "2", "--out", run, "--json"]));
    expect(a.steps).toBe(2);
    const cfg = JSON.parse(fs.readFileSync(path.join(run, "config.json"), "utf8"));
    expect(cfg).toMatchObject({ objective: "croco", model: "nano", batch: 1, blr: 1e-3, seed: 1 });
    for (const f of [
      "metrics.jsonl",
      "checkpoint-000002.safetensors",
      "checkpoint-000002.json",
      "checkpoint-000002.recon.png",
      "latest.json",
    ])
      expect(fs.existsSync(path.join(run, f)), f).toBe(true);
    // continue the same run to step 3, and compare with an uninterrupted 3-step run
    const b = JSON.parse(await cli(trainCommand, [...args, "--steps", "3", "--out", run, "--resume", "--json"]));
    expect(b.steps).toBe(3);
    const straight = path.join(tmp, "cli-straight");
    await cli(trainCommand, [...args, "--steps", "3", "--out", straight, "--quiet"]);
    const losses = (dir: string) =>
      fs
        .readFileSync(path.join(dir, "metrics.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).loss as number);
    const l1 = losses(run);
    const l2 = losses(straight);
    expect(l1.length).toBe(3);
    for (let i = 0; i < 3; i++) expect(Math.abs(l1[i] - l2[i]), `step ${i + 1}: ${l1[i]} vs ${l2[i]}`).toBeLessThan(TOL.model.rerunLoss);

    // reconstruct with an explicit mask on the GPU and on the CPU reference
    const maskFile = path.join(tmp, "mask.json");
    const masked = Array.from({ length: 196 }, (_, i) => i).filter((i) => i % 3 !== 0);
    fs.writeFileSync(maskFile, JSON.stringify(masked));
    const pair = path.join(ds, "synth", "video0", "0000");
    const common = ["--ckpt", path.join(run, "checkpoint-000003.json"), "--view1", `${pair}/0000.jpg`, "--view2", `${pair}/0001.jpg`];
    const rg = JSON.parse(await cli(reconstructCommand, [...common, "--mask", maskFile, "--out", path.join(tmp, "r.png"), "--json"]));
    expect(rg.masked).toEqual(masked);
    expect(fs.existsSync(path.join(tmp, "r.png"))).toBe(true);
    const png = await sharp(path.join(tmp, "r.png")).metadata();
    expect([png.width, png.height]).toEqual([4 * 112 + 3 * 2, 112]);
    const rc = JSON.parse(
      await cli(reconstructCommand, [...common, "--mask", maskFile, "--out", path.join(tmp, "rc.png"), "--device", "cpu", "--json"]),
    );
    expect(Math.abs(rg.loss - rc.loss), `gpu ${rg.loss} vs cpu ${rc.loss}`).toBeLessThan(TOL.model.loss);
    // the run's latest.json (as README's tour passes it) is the newest checkpoint: the same loss
    const viaLatest = ["--ckpt", path.join(run, "latest.json"), ...common.slice(2), "--mask", maskFile];
    const rl = JSON.parse(await cli(reconstructCommand, [...viaLatest, "--out", path.join(tmp, "rl.png"), "--json"]));
    expect(rl.loss).toBe(rg.loss);
    // a bad mask is a usage error naming the file
    fs.writeFileSync(maskFile, "[0, 999]");
    await expect(cli(reconstructCommand, [...common, "--mask", maskFile, "--out", path.join(tmp, "x.png")])).rejects.toThrow(/999/);
  });
});
