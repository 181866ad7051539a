import { describe, expect, it } from "vitest";
import { archPresets, gridSize, modelConfig, numKeep, numPatches } from "../../src/models/config.js";
import { mimGpuParams } from "../../src/models/mim_gpu.js";
import { initParams, PARAM_ALIGN, paramLayout, paramShapes, sincosPosEmbed2d } from "../../src/models/params.js";
import { decayMask, FINETUNE_NO_DECAY } from "../../src/nn/layout.js";

describe("model config presets", () => {
  it("nano keeps the 14x14 grid of the 224/16 models", () => {
    const c = modelConfig("nano", "croco");
    expect(gridSize(c)).toBe(14);
    expect(numPatches(c)).toBe(196);
    expect(c.maskRatio).toBe(0.9);
    expect(modelConfig("nano", "mae").maskRatio).toBe(0.75);
    expect(numKeep(196, 0.9)).toBe(19); // int(196 * 0.1) in Python is 19
    expect(numKeep(196, 0.75)).toBe(49);
  });

  it("every preset validates; base is MIMIC's ViT-B/16 with a 512x8 decoder", () => {
    for (const name of Object.keys(archPresets) as (keyof typeof archPresets)[]) expect(modelConfig(name).name).toBe(name);
    const b = modelConfig("base");
    expect([b.width, b.depth, b.heads, b.decoderWidth, b.decoderDepth, b.decoderHeads]).toEqual([768, 12, 12, 512, 8, 16]);
  });

  it("rejects inconsistent configs with the reason", () => {
    expect(() => modelConfig({ ...archPresets.nano, heads: 3 })).toThrow(/width 128 must be divisible by heads 3/);
    expect(() => modelConfig({ ...archPresets.nano, patchSize: 10 })).toThrow(/multiple of patchSize/);
    expect(() => modelConfig("nano", "croco", { maskRatio: 1 })).toThrow(/maskRatio/);
    expect(() => modelConfig("huge" as "nano")).toThrow(/unknown model preset 'huge'/);
  });
});

describe("parameter table and flat layout", () => {
  it("lists MIMIC's names and PyTorch shapes (CroCo decoder)", () => {
    const c = modelConfig("nano", "croco");
    const t = new Map(paramShapes(c));
    expect(t.get("cls_token")).toEqual([1, 1, 128]);
    expect(t.get("pos_embed")).toEqual([1, 197, 128]);
    expect(t.get("patch_embed.proj.weight")).toEqual([128, 3, 8, 8]);
    expect(t.get("blocks.3.attn.qkv.weight")).toEqual([384, 128]);
    expect(t.get("blocks.0.mlp.fc1.weight")).toEqual([512, 128]);
    expect(t.get("blocks.0.mlp.fc2.weight")).toEqual([128, 512]);
    expect(t.get("decoder_embed.weight")).toEqual([96, 128]);
    expect(t.get("mask_token")).toEqual([1, 1, 96]);
    expect(t.get("decoder_pos_embed")).toEqual([1, 197, 96]);
    expect(t.get("decoder_blocks_croco.1.cross_attn.projk.weight")).toEqual([96, 96]);
    expect(t.get("decoder_blocks_croco.1.norm_y.bias")).toEqual([96]);
    expect(t.get("decoder_pred.weight")).toEqual([192, 96]);
    expect(t.has("blocks.4.norm1.weight")).toBe(false);
    expect([...t.keys()].some((n) => n.startsWith("decoder_blocks."))).toBe(false);
    // 4 own + 2 patch + 12 per block + 2 norm + 2 embed + 24 per croco block + 2 + 2
    expect(t.size).toBe(4 + 2 + 12 * 4 + 2 + 2 + 24 * 2 + 2 + 2);
  });

  it("MAE objective uses decoder_blocks.{i} (timm Block)", () => {
    const t = new Map(paramShapes(modelConfig("nano", "mae")));
    expect(t.get("decoder_blocks.1.attn.qkv.weight")).toEqual([288, 96]);
    expect([...t.keys()].some((n) => n.includes("croco") || n.includes("cross_attn"))).toBe(false);
  });

  it("offsets are aligned, in order and non-overlapping", () => {
    const lay = paramLayout(modelConfig("tiny", "croco"));
    let end = 0;
    for (const e of lay.entries) {
      expect(e.offset % PARAM_ALIGN).toBe(0);
      expect(e.offset).toBeGreaterThanOrEqual(end);
      end = e.offset + e.size;
    }
    expect(lay.totalFloats).toBeGreaterThanOrEqual(end);
    expect(lay.totalFloats - end).toBeLessThan(PARAM_ALIGN);
  });

  it("the GPU side (src/nn GpuParams) takes the host store's layout for every preset and objective", () => {
    for (const name of Object.keys(archPresets) as (keyof typeof archPresets)[])
      for (const objective of ["croco", "mae"] as const) {
        const c = modelConfig(name, objective);
        const host = paramLayout(c); // the layout of ParamStore.data (new ParamStore(c).data.length === totalFloats)
        const ps = mimGpuParams(c);
        expect(ps.size, `${name} ${objective}`).toBe(host.totalFloats);
        expect(ps.specs.map((s) => [s.name, s.offset, s.decay, s.trainable])).toEqual(
          host.entries.map((e) => [e.name, e.offset, e.decay, e.trainable]),
        );
      }
  });

  it("sin-cos position embedding: cls row zero, column in the first half, row in the second", () => {
    const pe = sincosPosEmbed2d(8, 3); // quarter = 2, w = [1, 0.01]
    expect(Array.from(pe.subarray(0, 8))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const row = (r: number, c: number) => Array.from(pe.subarray((1 + r * 3 + c) * 8, (2 + r * 3 + c) * 8));
    const f = Math.fround;
    expect(row(0, 1)).toEqual([f(Math.sin(1)), f(Math.sin(0.01)), f(Math.cos(1)), f(Math.cos(0.01)), 0, 0, 1, 1]);
    expect(row(2, 0)).toEqual([0, 0, 1, 1, f(Math.sin(2)), f(Math.sin(0.02)), f(Math.cos(2)), f(Math.cos(0.02))]);
  });

  it("MAE init: seeded, xavier bounds, LayerNorm 1/0, zero biases, 0.02 tokens", () => {
    const c = modelConfig("nano", "croco");
    const a = initParams(c, 1);
    const b = initParams(c, 1);
    const d = initParams(c, 2);
    const same = (x: Float32Array, y: Float32Array) => x.length === y.length && x.every((v, i) => v === y[i]);
    expect(same(a.data, b.data)).toBe(true);
    expect(same(a.get("blocks.0.attn.qkv.weight"), d.get("blocks.0.attn.qkv.weight"))).toBe(false);
    const w = a.get("blocks.0.mlp.fc1.weight"); // (512, 128)
    const bound = Math.sqrt(6 / (128 + 512));
    let ss = 0;
    let maxAbs = 0;
    for (const v of w) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
      ss += v * v;
    }
    expect(maxAbs).toBeLessThanOrEqual(bound);
    expect(Math.sqrt(ss / w.length)).toBeCloseTo(bound / Math.sqrt(3), 3);
    expect(a.get("blocks.2.norm2.weight").every((v) => v === 1)).toBe(true);
    expect(a.get("decoder_blocks_croco.0.norm_y.bias").every((v) => v === 0)).toBe(true);
    expect(a.get("decoder_pred.bias").every((v) => v === 0)).toBe(true);
    const pw = a.get("patch_embed.proj.weight");
    const pb = Math.sqrt(6 / (192 + 128));
    expect(pw.every((v) => Math.abs(v) <= pb)).toBe(true);
    const tok = Array.from(a.get("cls_token")).concat(Array.from(a.get("mask_token")));
    const std = Math.sqrt(tok.reduce((s, v) => s + v * v, 0) / tok.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    expect(same(a.get("pos_embed"), sincosPosEmbed2d(128, 14))).toBe(true);
    expect(same(a.get("decoder_pos_embed"), sincosPosEmbed2d(96, 14))).toBe(true);
    // padding between tensors stays zero
    const lay = a.layout;
    let padNonZero = 0;
    for (let i = 1; i < lay.entries.length; i++) {
      const prev = lay.entries[i - 1];
      for (let k = prev.offset + prev.size; k < lay.entries[i].offset; k++) if (a.data[k] !== 0) padNonZero++;
    }
    expect(padNonZero).toBe(0);
  });
});

describe("weight decay: one table (src/nn/layout.ts weightDecays), MAE's pretraining rule", () => {
  // MAE's main_pretrain.py: optim_factory.add_weight_decay(model, wd) with no skip list, i.e. no
  // decay for 1-D tensors and *.bias, decay for everything else that requires grad (the tokens
  // (1, 1, D) included); pos_embed / decoder_pos_embed have requires_grad=False (frozen).
  it("tokens, weights and the patch kernel decay; biases and norms do not; sin-cos embeddings are frozen", () => {
    for (const objective of ["croco", "mae"] as const) {
      const lay = paramLayout(modelConfig("nano", objective));
      const e = (n: string) => {
        const x = lay.byName.get(n);
        if (!x) throw new Error(`no ${n}`);
        return [x.trainable, x.decay];
      };
      expect(e("cls_token")).toEqual([true, true]);
      expect(e("mask_token")).toEqual([true, true]);
      expect(e("patch_embed.proj.weight")).toEqual([true, true]);
      expect(e("blocks.0.attn.qkv.weight")).toEqual([true, true]);
      expect(e("decoder_pred.weight")).toEqual([true, true]);
      expect(e("patch_embed.proj.bias")).toEqual([true, false]);
      expect(e("blocks.0.attn.qkv.bias")).toEqual([true, false]);
      expect(e("blocks.0.norm1.weight")).toEqual([true, false]);
      expect(e("decoder_norm.weight")).toEqual([true, false]);
      expect(e("pos_embed")).toEqual([false, false]);
      expect(e("decoder_pos_embed")).toEqual([false, false]);
      // Every decayed tensor is at least 2-D and no bias; every 2-D+ trainable non-bias decays.
      for (const x of lay.entries) expect(x.decay, x.name).toBe(x.trainable && x.shape.length > 1 && !x.name.endsWith(".bias"));
      // The optimizer mask: -1 over the frozen embeddings, 1 over the tokens, 0 over padding.
      const mask = decayMask(lay);
      const at = (n: string) => mask[(lay.byName.get(n) as { offset: number }).offset];
      expect([at("pos_embed"), at("cls_token"), at("blocks.0.norm1.weight")]).toEqual([-1, 1, 0]);
      expect(mask.length).toBe(lay.totalFloats);
    }
  });

  it("fine-tuning (MAE's no_weight_decay list) turns decay off for cls_token only, same offsets", () => {
    const c = modelConfig("nano", "croco");
    const pre = mimGpuParams(c);
    const ft = mimGpuParams(c, FINETUNE_NO_DECAY);
    expect(ft.specs.map((s) => s.offset)).toEqual(pre.specs.map((s) => s.offset));
    const changed = ft.specs.filter((s, i) => s.decay !== pre.specs[i].decay).map((s) => s.name);
    expect(changed).toEqual(["cls_token"]);
    expect(ft.spec("cls_token").decay).toBe(false);
    expect(ft.spec("mask_token").decay).toBe(true);
    expect(pre.spec("cls_token").decay).toBe(true);
  });
});
