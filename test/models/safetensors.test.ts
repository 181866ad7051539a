import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  decoderMayBeMissing,
  loadCheckpoint,
  loadParams,
  loadParamsInto,
  readSidecar,
  saveCheckpoint,
} from "../../src/models/checkpoint.js";
import { type ModelConfig, modelConfig } from "../../src/models/config.js";
import { initParams, ParamStore } from "../../src/models/params.js";
import { halfToFloat, parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors } from "../../src/models/safetensors.js";
import { toyVit } from "../helpers.js";

/** A small config so files stay tiny. */
const small: ModelConfig = modelConfig(toyVit({ patchSize: 8 }), "croco", { maskRatio: 0.5 });

/** Raw safetensors bytes from a header object and a data section. */
function raw(header: unknown, data: Uint8Array = new Uint8Array(0), lenOverride?: bigint): Uint8Array {
  const h = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lenOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe("safetensors", () => {
  it("round-trips float32 tensors and metadata; header is 8-byte aligned", () => {
    const a = Float32Array.from([1, -2.5, 3.25, Math.PI, 0, -0, 1e-30, 6e4]);
    const b = Float32Array.from([7]);
    const bytes = serializeSafetensors(
      [
        { name: "a", shape: [2, 4], data: a },
        { name: "b.c", shape: [1], data: b },
        { name: "empty", shape: [0, 3], data: new Float32Array(0) },
      ],
      { format: "pt", note: "hi" },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const st = parseSafetensors(bytes, "mem");
    expect(st.names()).toEqual(["a", "b.c", "empty"]);
    expect(st.metadata).toEqual({ format: "pt", note: "hi" });
    expect(st.shape("a")).toEqual([2, 4]);
    expect(Array.from(st.float32("a"))).toEqual(Array.from(a));
    expect(Array.from(st.float32("b.c"))).toEqual([7]);
    expect(st.float32("empty").length).toBe(0);
    expect(() => st.float32("nope")).toThrow(/mem: no tensor 'nope'/);
  });

  it("reads F16, BF16 and F64 by converting to float32", () => {
    const f16 = new Uint8Array(8);
    const dv = new DataView(f16.buffer);
    for (const [i, h] of [0x3c00, 0xc000, 0x3555, 0x0001].entries()) dv.setUint16(2 * i, h, true); // 1, -2, ~0.3333, smallest subnormal
    const bf = new Uint8Array(4);
    new DataView(bf.buffer).setUint16(0, 0x3f80, true); // 1.0
    new DataView(bf.buffer).setUint16(2, 0xc0a0, true); // -5.0
    const f64 = new Uint8Array(8);
    new DataView(f64.buffer).setFloat64(0, 0.1, true);
    const data = new Uint8Array(20);
    data.set(f16, 0);
    data.set(bf, 8);
    data.set(f64, 12);
    const st = parseSafetensors(
      raw(
        {
          h: { dtype: "F16", shape: [4], data_offsets: [0, 8] },
          bf: { dtype: "BF16", shape: [2], data_offsets: [8, 12] },
          d: { dtype: "F64", shape: [1], data_offsets: [12, 20] },
        },
        data,
      ),
    );
    expect(Array.from(st.float32("h"))).toEqual([1, -2, Math.fround(halfToFloat(0x3555)), Math.fround(2 ** -24)]);
    expect(halfToFloat(0x3555)).toBeCloseTo(1 / 3, 3);
    expect(Array.from(st.float32("bf"))).toEqual([1, -5]);
    expect(st.float32("d")[0]).toBe(Math.fround(0.1));
  });

  it("rejects every malformed file with a clear reason", () => {
    const ok = { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
    const d8 = new Uint8Array(8);
    const cases: [string, Uint8Array, RegExp][] = [
      ["too short", new Uint8Array(5), /shorter than the 8-byte header length/],
      ["zero header", raw("", d8, 0n), /header length is 0/],
      ["header past end", raw(ok, d8, 10_000n), /runs past the end of the file/],
      ["huge header", raw(ok, d8, 2n ** 60n), /exceeds the .*limit/],
      ["not json", raw("{nope", d8), /not UTF-8 JSON/],
      ["array header", raw([1, 2], d8), /not an object/],
      ["bad dtype", raw({ a: { dtype: "F8", shape: [2], data_offsets: [0, 8] } }, d8), /tensor 'a': unknown dtype "F8"/],
      ["bad shape", raw({ a: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, d8), /tensor 'a': shape \[-2\]/],
      ["bad offsets", raw({ a: { dtype: "F32", shape: [2], data_offsets: [8, 0] } }, d8), /data_offsets \[8,0\]/],
      ["offsets past data", raw({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, d8), /run past the data section \(8 bytes\)/],
      [
        "size mismatch",
        raw({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, d8),
        /8 bytes of data for shape \[3\] F32, which needs 12/,
      ],
      [
        "overlap",
        raw({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, d8),
        /tensors 'a' and 'b' overlap/,
      ],
      ["metadata not strings", raw({ __metadata__: { step: 3 } }, d8), /__metadata__.step is not a string/],
    ];
    for (const [what, bytes, re] of cases) {
      expect(() => parseSafetensors(bytes, "bad.safetensors"), what).toThrow(/bad\.safetensors: not a valid safetensors file/);
      expect(() => parseSafetensors(bytes, "bad.safetensors"), what).toThrow(re);
    }
    // Integer tensors parse but do not convert to float.
    const st = parseSafetensors(raw({ i: { dtype: "I32", shape: [2], data_offsets: [0, 8] } }, d8), "ints");
    expect(() => st.float32("i")).toThrow(/ints: tensor 'i' has dtype I32/);
  });

  it("writer refuses shape/data mismatches and duplicate names", () => {
    expect(() => serializeSafetensors([{ name: "a", shape: [3], data: new Float32Array(2) }])).toThrow(
      /shape \[3\] has 3 elements but data has 2/,
    );
    expect(() =>
      serializeSafetensors([
        { name: "a", shape: [1], data: new Float32Array(1) },
        { name: "a", shape: [1], data: new Float32Array(1) },
      ]),
    ).toThrow(/duplicate tensor name 'a'/);
  });
});

describe("checkpoints", () => {
  it("save + load round-trips params, sidecar and optimizer state", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ckpt-"));
    const p = initParams(small, 3);
    const m = new Float32Array(p.get("decoder_pred.weight").length).fill(0.5);
    const sidecarPath = await saveCheckpoint(join(dir, "step-000010"), {
      params: p,
      step: 10,
      epoch: 1,
      optimizer: {
        tensors: [{ name: "exp_avg.decoder_pred.weight", shape: p.shape("decoder_pred.weight"), data: m }],
        state: { t: 10, beta1: 0.9 },
      },
      rng: { seed: 7, step: 10 },
    });
    expect(sidecarPath).toBe(join(dir, "step-000010.json"));
    const ck = await loadCheckpoint(sidecarPath);
    expect(ck.sidecar.step).toBe(10);
    expect(ck.sidecar.epoch).toBe(1);
    expect(ck.sidecar.rng).toEqual({ seed: 7, step: 10 });
    expect(ck.sidecar.config).toEqual(small);
    expect(ck.sidecar.optimizer?.state).toEqual({ t: 10, beta1: 0.9 });
    expect(Buffer.compare(Buffer.from(ck.params.data.buffer), Buffer.from(p.data.buffer))).toBe(0);
    expect(Array.from(ck.optimizer!.float32("exp_avg.decoder_pred.weight"))).toEqual(Array.from(m));
    // The model file has exactly the model's tensors (no padding), PyTorch names, metadata.
    const st = await readSafetensors(join(dir, "step-000010.safetensors"));
    expect(st.names()).toEqual(p.layout.entries.map((e) => e.name));
    expect(JSON.parse(st.metadata["mimic-kit.config"])).toEqual(small);
    // readSidecar accepts the .safetensors path too.
    expect((await readSidecar(join(dir, "step-000010.safetensors"))).step).toBe(10);
  });

  it("mismatched files list missing, unexpected and mis-shaped tensors", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ckpt-"));
    const p = initParams(small, 1);
    const tensors = [...p.tensors()]
      .filter(([n]) => n !== "norm.bias" && n !== "mask_token")
      .map(([name, data, shape]) => (name === "cls_token" ? { name, shape: [1, 1, 4], data: data.subarray(0, 4) } : { name, shape, data }));
    tensors.push({ name: "head.weight", shape: [2], data: new Float32Array(2) });
    const file = join(dir, "bad.safetensors");
    await writeSafetensors(file, tensors);
    const err = await loadParams(file, small).catch((e: Error) => e.message);
    expect(err).toMatch(/bad\.safetensors does not fit model 'custom'/);
    expect(err).toMatch(/missing \(2\): mask_token, norm\.bias/);
    expect(err).toMatch(/unexpected \(1\): head\.weight/);
    expect(err).toMatch(/shape mismatches \(1\): cls_token: file \[1,1,4\] vs model \[1,1,8\]/);
    // A CroCo checkpoint into an MAE model: decoder names differ.
    const good = join(dir, "good.safetensors");
    await writeSafetensors(
      good,
      [...p.tensors()].map(([name, data, shape]) => ({ name, shape, data })),
    );
    const mae = { ...small, objective: "mae" as const };
    await expect(loadParams(good, mae)).rejects.toThrow(/missing \(\d+\): decoder_blocks\.0\.norm1\.weight/);
    // ...works when only the encoder is wanted.
    const init = initParams(mae, 9);
    const enc = await loadParams(good, mae, { allowMissing: decoderMayBeMissing, ignoreUnexpected: true }, init);
    expect(Array.from(enc.get("blocks.0.attn.qkv.weight"))).toEqual(Array.from(p.get("blocks.0.attn.qkv.weight")));
    expect(Array.from(enc.get("decoder_blocks.0.attn.qkv.weight"))).toEqual(Array.from(init.get("decoder_blocks.0.attn.qkv.weight")));
  });

  it("accepts a converted PyTorch {model: state_dict} with a 'model.' prefix", () => {
    const p = initParams(small, 2);
    const st = parseSafetensors(
      serializeSafetensors([...p.tensors()].map(([name, data, shape]) => ({ name: `model.${name}`, shape, data }))),
      "pt",
    );
    const q = new ParamStore(small);
    loadParamsInto(q, st);
    expect(Buffer.compare(Buffer.from(q.data.buffer), Buffer.from(p.data.buffer))).toBe(0);
  });

  it("rejects invalid sidecars naming the file and field", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ckpt-"));
    const f = join(dir, "x.json");
    await writeFile(f, "{not json");
    await expect(readSidecar(f)).rejects.toThrow(/x\.json is not JSON/);
    await writeFile(f, JSON.stringify({ format: "other", version: 1, step: 1 }));
    await expect(readSidecar(f)).rejects.toThrow(/format is "other"[\s\S]*model \(tensor file name\) is missing[\s\S]*config is missing/);
    await writeFile(
      f,
      JSON.stringify({ format: "mimic-kit.checkpoint", version: 1, model: "m.safetensors", step: 1, config: { ...small, heads: 3 } }),
    );
    await expect(readSidecar(f)).rejects.toThrow(/width 8 must be divisible by heads 3/);
    await expect(readSidecar(join(dir, "missing.json"))).rejects.toThrow(/cannot read checkpoint sidecar .*missing\.json/);
    expect((await readFile(f, "utf8")).length).toBeGreaterThan(0);
  });
});
