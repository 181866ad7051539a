import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writePng } from "../../src/image/io.js";
import { paramsToTensors, saveCheckpoint } from "../../src/models/checkpoint.js";
import { modelConfig, type VitArch } from "../../src/models/config.js";
import { initParams } from "../../src/models/params.js";
import { writeSafetensors } from "../../src/models/safetensors.js";
import { openProbeDataset } from "../../src/probe/datasets.js";
import { checkpointEncoder, positionEncoder, randomEncoder, referenceEncoder } from "../../src/probe/encoders.js";
import { runProbe } from "../../src/probe/pipeline.js";
import { encoderRef } from "../../src/ref/models/mim.js";
import { randomFloats, toyVit } from "../helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-probe-enc-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
// A toy ViT so the CPU reference runs in milliseconds: 16x16 input, 4 px patches (4x4 grid), width 8.
const arch: VitArch = toyVit();

describe("frozen encoders from the CPU reference", () => {
  it("random encoder: patch tokens (B, L, D) after the final norm, cls dropped; named by a weight hash", async () => {
    const enc = randomEncoder(arch, 1);
    expect([enc.embedDim, enc.patchSize, enc.imageHeight, enc.imageWidth]).toEqual([8, 4, 16, 16]);
    expect(enc.name).toMatch(/^random:custom:seed1@[0-9a-f]{12}$/);
    expect(randomEncoder(arch, 1).name).toBe(enc.name);
    expect(randomEncoder(arch, 2).name).not.toBe(enc.name);
    const imgs = randomFloats(2 * 3 * 16 * 16, 4, -2, 2);
    const tokens = await enc.encode(imgs, 2);
    expect(tokens.length).toBe(2 * 16 * 8);
    const params = initParams(modelConfig(arch, "mae"), 1);
    const { latent } = encoderRef((n) => params.get(n), params.config, imgs, 2, null); // (B, 17, D)
    expect(Array.from(tokens.subarray(0, 8))).toEqual(Array.from(latent.subarray(8, 16))); // image 0, patch 0
    expect(Array.from(tokens.subarray(16 * 8, 16 * 8 + 8))).toEqual(Array.from(latent.subarray(18 * 8, 19 * 8))); // image 1, patch 0
    // final LayerNorm (weight 1, bias 0 at init): each token has mean ~0 and variance ~1
    const t = Array.from(tokens.subarray(5 * 8, 6 * 8));
    const mean = t.reduce((a, b) => a + b, 0) / 8;
    expect(Math.abs(mean)).toBeLessThan(1e-5);
    expect(t.reduce((a, b) => a + (b - mean) ** 2, 0) / 8).toBeCloseTo(1, 3);
  });

  it("checkpoint encoder: a mimic-kit checkpoint, or bare safetensors with an architecture", async () => {
    const params = initParams(modelConfig(arch, "croco"), 5);
    const sidecar = await saveCheckpoint(path.join(tmp, "ck"), { params, step: 42 });
    const imgs = randomFloats(3 * 16 * 16, 6, -2, 2);
    const want = await referenceEncoder(params, "x").encode(imgs, 1);
    const a = await checkpointEncoder(sidecar);
    expect(a.name).toMatch(/ck\.json:step42@/);
    expect(Array.from(await a.encode(imgs, 1))).toEqual(Array.from(want));
    const b = await checkpointEncoder(path.join(tmp, "ck.safetensors"));
    expect(b.name.split("@")[1]).toBe(a.name.split("@")[1]);
    // bare encoder-only safetensors (e.g. converted from PyTorch)
    const bare = path.join(tmp, "bare.safetensors");
    await writeSafetensors(
      bare,
      paramsToTensors(params).filter((t) => !t.name.startsWith("decoder") && t.name !== "mask_token"),
    );
    await expect(checkpointEncoder(bare)).rejects.toThrow(/no .*bare\.json sidecar; say the model preset/);
    const c = await checkpointEncoder(bare, arch);
    expect(Array.from(await c.encode(imgs, 1))).toEqual(Array.from(want));
    await expect(checkpointEncoder(path.join(tmp, "none.json"))).rejects.toThrow(/none\.json does not exist/);
  });

  it("runs the whole probe with the random-init baseline encoder", async () => {
    const root = path.join(tmp, "set");
    for (const d of ["rgb", "labels"]) fs.mkdirSync(path.join(root, d), { recursive: true });
    for (let k = 0; k < 6; k++) {
      const stem = `s${k % 3}_${k}`;
      await writePng(path.join(root, "rgb", `${stem}.png`), 20, 20, new Uint8Array(20 * 20 * 3).fill(40 * k), 3);
      await writePng(
        path.join(root, "labels", `${stem}.png`),
        20,
        20,
        Uint8Array.from({ length: 400 }, (_, i) => (i % 20 < 10 ? 1 : 2)),
        1,
      );
    }
    fs.writeFileSync(path.join(root, "classes.json"), JSON.stringify(["a", "b"]));
    fs.writeFileSync(path.join(root, "splits.json"), JSON.stringify({ train: ["s0", "s1"], val: ["s2"] }));
    const out = path.join(tmp, "out");
    const res = await runProbe({
      dataset: openProbeDataset(root, { task: "seg" }),
      encoder: randomEncoder(arch, 0),
      config: { head: "mlp", epochs: 2, batchSize: 2, pictures: 2 },
      out,
    });
    expect(res.encoder).toMatch(/^random:custom:seed0@/);
    expect(res.head).toMatchObject({ kind: "mlp", gridH: 4, gridW: 4, outChannels: 2, patchSize: 4 });
    expect(res.dataset).toMatchObject({ train: 4, val: 2 });
    expect(res.train.steps).toBe(4);
    expect(res.metrics.images).toBe(2);
    // scored at the stored 20x20 (native, default): 2 images x 400 labelled pixels; at input size 16x16: 2 x 256
    expect(res.evalResolution).toBe("native");
    expect(res.metrics.pixels).toBe(800);
    const atInput = await runProbe({
      dataset: openProbeDataset(root, { task: "seg" }),
      encoder: randomEncoder(arch, 0),
      config: { head: "linear", epochs: 1, batchSize: 2, pictures: 0 },
      evalResolution: "input",
    });
    expect(atInput.metrics.pixels).toBe(512);
    expect(fs.existsSync(path.join(out, "metrics.json")) && fs.existsSync(path.join(out, "predictions.png"))).toBe(true);
  });
});

describe("the position prior", () => {
  it("gives every image the same tokens: the fixed sin-cos position embedding, whatever the pixels", async () => {
    const enc = positionEncoder(arch);
    expect(enc.name).toBe("position:custom");
    expect([enc.embedDim, enc.patchSize, enc.imageHeight]).toEqual([8, 4, 16]);
    const a = await enc.encode(randomFloats(2 * 3 * 16 * 16, 1, -2, 2), 2);
    const b = await enc.encode(randomFloats(2 * 3 * 16 * 16, 2, -2, 2), 2);
    expect(Array.from(a)).toEqual(Array.from(b));
    const pos = initParams(modelConfig(arch, "mae"), 7).get("pos_embed"); // fixed: no seed dependence
    expect(Array.from(a.subarray(0, 16 * 8))).toEqual(Array.from(pos.subarray(8, 17 * 8)));
    expect(Array.from(a.subarray(16 * 8))).toEqual(Array.from(pos.subarray(8, 17 * 8)));
    await expect(enc.encode(new Float32Array(5), 1)).rejects.toThrow(/position encoder/);
  });
});
