// The probe's GPU frozen encoder (src/probe/gpu_encoder.ts) against the CPU reference
// (src/probe/encoders.ts referenceEncoder), and `mimic probe --device gpu` end to end.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { probeCommand } from "../../src/cli/probe.js";
import { writeJpeg, writePng } from "../../src/image/io.js";
import { saveCheckpoint } from "../../src/models/checkpoint.js";
import { modelConfig, type VitArch } from "../../src/models/config.js";
import { initParams } from "../../src/models/params.js";
import { checkpointEncoder, randomEncoder, referenceEncoder } from "../../src/probe/encoders.js";
import { gpuEncoder } from "../../src/probe/gpu_encoder.js";
import { maxAbsDiff, randomFloats, testGpu, toyVit } from "../helpers.js";
import { TOL } from "../tolerances.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-probe-gpuenc-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** max |gpu - cpu| relative to max |cpu|; prints both. */
function relDiff(gpu: Float32Array, cpu: Float32Array, what: string): number {
  expect(gpu.length).toBe(cpu.length);
  const { max, at } = maxAbsDiff(gpu, cpu);
  let scale = 0;
  for (const v of cpu) scale = Math.max(scale, Math.abs(v));
  console.log(
    `${what}: max |gpu - cpu| = ${max.toExponential(3)} at ${at} (gpu ${gpu[at]}, cpu ${cpu[at]}), max |cpu| = ${scale.toFixed(3)}`,
  );
  expect(Number.isFinite(max)).toBe(true);
  return max / scale;
}

// A toy ViT (checkpoint-like): 16x16 input, 4 px patches, 2 blocks, trained-looking weights.
const toy: VitArch = toyVit({ width: 16, depth: 2 });

describe("probe GPU encoder (GpuEncoder, unmasked) vs the CPU reference", () => {
  it("random nano encoder: same (B, L, D) tokens after the final norm, same name; plans reused", async () => {
    await testGpu();
    const cpu = randomEncoder("nano", 3);
    const g = randomEncoder("nano", 3, "gpu");
    expect(g.name).toBe(cpu.name);
    expect([g.embedDim, g.patchSize, g.imageHeight, g.imageWidth]).toEqual([128, 8, 112, 112]);
    const B = 2;
    const imgs = randomFloats(B * 3 * 112 * 112, 11, -2, 2);
    const want = await cpu.encode(imgs, B);
    const got = await g.encode(imgs, B);
    expect(got.length).toBe(B * 196 * 128);
    expect(relDiff(got, want, "nano random B=2")).toBeLessThan(TOL.model.encoderRel);
    // a second call at the same B (reused buffers) with other images; then another B
    const imgs2 = randomFloats(3 * 112 * 112, 12, -2, 2);
    const again = await g.encode(imgs, B);
    expect(maxAbsDiff(again, got).max).toBe(0);
    const one = await g.encode(imgs2, 1);
    expect(relDiff(one, await cpu.encode(imgs2, 1), "nano random B=1")).toBeLessThan(TOL.model.encoderRel);
    await expect(g.encode(imgs2, 2)).rejects.toThrow(/gpu encoder: .* for 2 images/);
  });

  it("checkpoint-like parameters (CroCo checkpoint, perturbed weights, norm not identity), B = 3", async () => {
    await testGpu();
    const params = initParams(modelConfig(toy, "croco"), 7);
    const noise = randomFloats(params.data.length, 8, -0.05, 0.05);
    for (let i = 0; i < noise.length; i++) params.data[i] += noise[i];
    for (const n of ["norm.weight", "norm.bias", "cls_token"]) {
      const t = params.get(n);
      const r = randomFloats(t.length, 9, -1, 1);
      for (let i = 0; i < t.length; i++) t[i] += r[i];
    }
    const sidecar = await saveCheckpoint(path.join(tmp, "ck"), { params, step: 5 });
    const g = await checkpointEncoder(sidecar, undefined, "gpu");
    const cpu = referenceEncoder(params, `${sidecar}:step5`);
    expect(g.name).toBe(cpu.name);
    const imgs = randomFloats(3 * 3 * 16 * 16, 10, -2, 2);
    const want = await cpu.encode(imgs, 3);
    expect(relDiff(await g.encode(imgs, 3), want, "toy checkpoint B=3")).toBeLessThan(TOL.model.encoderRel);
    expect(relDiff(await gpuEncoder(params, "direct").encode(imgs, 3), want, "toy direct B=3")).toBeLessThan(TOL.model.encoderRel);
  });

  it("mimic probe --ckpt random --task depth --device gpu on a tiny synth-layout set", async () => {
    const root = path.join(tmp, "synth");
    for (const d of ["rgb", "depth", "labels"]) fs.mkdirSync(path.join(root, d), { recursive: true });
    const stems: string[] = [];
    for (const scene of ["scene000", "scene001", "scene002"])
      for (const f of ["0000", "0001"]) {
        const stem = `${scene}_${f}`;
        stems.push(stem);
        const k = stems.length;
        const rgb = Uint8Array.from({ length: 24 * 18 * 3 }, (_, i) => (i * 7 + 40 * k) % 256);
        await writeJpeg(path.join(root, "rgb", `${stem}.jpg`), { width: 24, height: 18, rgb });
        await writePng(
          path.join(root, "depth", `${stem}.png`),
          24,
          18,
          Uint16Array.from({ length: 24 * 18 }, (_, i) => 1000 + 10 * i + 100 * k),
          1,
        );
        await writePng(
          path.join(root, "labels", `${stem}.png`),
          24,
          18,
          Uint8Array.from({ length: 24 * 18 }, (_, i) => 1 + (i % 2)),
          1,
        );
      }
    fs.writeFileSync(path.join(root, "classes.json"), JSON.stringify(["unlabelled", "wall", "floor"]));
    fs.writeFileSync(path.join(root, "splits.json"), JSON.stringify({ train: ["scene000", "scene001"], val: ["scene002"] }));
    const out = path.join(tmp, "out");
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    let text = "";
    try {
      const cmd = probeCommand().exitOverride();
      await cmd.parseAsync(
        ["--ckpt", "random", "--task", "depth", "--data", root, "--out", out, "--preset", "quick", "--epochs", "1", "--device", "gpu"],
        { from: "user" },
      );
      text = log.mock.calls.map((c) => c.join(" ")).join("\n");
      await expect(
        probeCommand()
          .exitOverride()
          .parseAsync(["--ckpt", "random", "--task", "depth", "--data", root, "--out", out, "--device", "tpu"], { from: "user" }),
      ).rejects.toThrow(/--device must be gpu or cpu/);
    } finally {
      log.mockRestore();
    }
    expect(text).toMatch(/depth probe, random:nano:seed0@[0-9a-f]{12}, linear head, 4 train \/ 2 val images/);
    expect(text).toMatch(/AbsRel \d\.\d{4}/);
    const json = JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8"));
    expect(json.encoder).toBe(randomEncoder("nano", 0).name);
    expect(json.metrics.images).toBe(2);
  });
});
