// safetensors read/write (the format of Hugging Face's safetensors library):
//   bytes 0..8        u64 little-endian N = header length
//   bytes 8..8+N      UTF-8 JSON: { "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//                                   ..., "__metadata__": {"key": "string value"} }  (may be space-padded)
//   bytes 8+N..       the data; offsets are relative to this point, little-endian, row-major.
// We write F32; we read F32, F16, BF16 and F64 (converted to Float32Array). Every bound is checked
// and a malformed file gets an error naming the file and what is wrong.

import { readFile, writeFile } from "node:fs/promises";

export type Dtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

const DTYPE_BYTES: Record<Dtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Largest header we accept (the reference implementation's limit is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorHeader {
  dtype: Dtype;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A parsed file: the header and the raw bytes; tensors are converted on demand. */
export class Safetensors {
  constructor(
    /** Where it came from (for error messages). */
    readonly source: string,
    /** Tensors by name, in header order. */
    readonly headers: Map<string, TensorHeader>,
    /** The "__metadata__" string map ({} when absent). */
    readonly metadata: Record<string, string>,
    private readonly bytes: Uint8Array,
    private readonly dataStart: number,
  ) {}

  /** Tensor names in header order. */
  names(): string[] {
    return [...this.headers.keys()];
  }

  has(name: string): boolean {
    return this.headers.has(name);
  }

  shape(name: string): number[] {
    return this.header(name).shape;
  }

  private header(name: string): TensorHeader {
    const h = this.headers.get(name);
    if (!h) throw new Error(`${this.source}: no tensor '${name}' (it has ${this.headers.size}: ${preview(this.names())})`);
    return h;
  }

  /** One tensor as float32 (F32 copied, F16/BF16/F64 converted). */
  float32(name: string): Float32Array {
    const h = this.header(name);
    const [b, e] = h.dataOffsets;
    const n = e - b;
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.dataStart + b, n);
    switch (h.dtype) {
      case "F32": {
        const out = new Float32Array(n / 4);
        for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
        return out;
      }
      case "F64": {
        const out = new Float32Array(n / 8);
        for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
        return out;
      }
      case "F16": {
        const out = new Float32Array(n / 2);
        for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
        return out;
      }
      case "BF16": {
        const out = new Float32Array(n / 2);
        const tmp = new DataView(new ArrayBuffer(4));
        for (let i = 0; i < out.length; i++) {
          tmp.setUint32(0, view.getUint16(2 * i, true) << 16);
          out[i] = tmp.getFloat32(0);
        }
        return out;
      }
      default:
        throw new Error(`${this.source}: tensor '${name}' has dtype ${h.dtype}; only F32, F16, BF16 and F64 convert to float32`);
    }
  }
}

/** IEEE half (as u16 bits) to a JS number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function preview(names: string[], n = 8): string {
  return names.length <= n ? names.join(", ") : `${names.slice(0, n).join(", ")}, ... (+${names.length - n} more)`;
}

/** Parse safetensors bytes; `source` names the file in errors. */
export function parseSafetensors(bytes: Uint8Array, source = "<buffer>"): Safetensors {
  const fail = (why: string): never => {
    throw new Error(`${source}: not a valid safetensors file: ${why}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBig = dv.getBigUint64(0, true);
  if (lenBig === 0n) fail("header length is 0");
  if (lenBig > BigInt(MAX_HEADER_BYTES)) fail(`header length ${lenBig} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(lenBig);
  if (8 + headerLen > bytes.length) fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail("header JSON is not an object");
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const headers = new Map<string, TensorHeader>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof v !== "object" || v === null || Array.isArray(v)) fail("__metadata__ is not an object");
      for (const [k, s] of Object.entries(v as Record<string, unknown>))
        if (typeof s !== "string") fail(`__metadata__.${k} is not a string`);
      metadata = v as Record<string, string>;
      continue;
    }
    if (typeof v !== "object" || v === null) fail(`entry '${name}' is not an object`);
    const { dtype, shape, data_offsets } = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) fail(`tensor '${name}': unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (
      !Array.isArray(data_offsets) ||
      data_offsets.length !== 2 ||
      !data_offsets.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      data_offsets[0] > data_offsets[1]
    )
      fail(`tensor '${name}': data_offsets ${JSON.stringify(data_offsets)} is not [begin, end] with 0 <= begin <= end`);
    const [b, e] = data_offsets as [number, number];
    if (e > dataLen) fail(`tensor '${name}': data_offsets [${b}, ${e}] run past the data section (${dataLen} bytes)`);
    const want = (shape as number[]).reduce((a, d) => a * d, 1) * DTYPE_BYTES[dtype as Dtype];
    if (e - b !== want) fail(`tensor '${name}': ${e - b} bytes of data for shape [${shape}] ${dtype}, which needs ${want} bytes`);
    headers.set(name, { dtype: dtype as Dtype, shape: shape as number[], dataOffsets: [b, e] });
  }
  // Tensors must not overlap.
  const spans = [...headers.entries()]
    .filter(([, h]) => h.dataOffsets[1] > h.dataOffsets[0])
    .sort((x, y) => x[1].dataOffsets[0] - y[1].dataOffsets[0]);
  for (let i = 1; i < spans.length; i++)
    if (spans[i][1].dataOffsets[0] < spans[i - 1][1].dataOffsets[1]) fail(`tensors '${spans[i - 1][0]}' and '${spans[i][0]}' overlap`);
  return new Safetensors(source, headers, metadata, bytes, dataStart);
}

/** Read and parse a safetensors file. */
export async function readSafetensors(file: string): Promise<Safetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new Error(`cannot read checkpoint ${file}: ${(e as Error).message}`);
  }
  return parseSafetensors(bytes, file);
}

/** A tensor to write: float32 data and its shape (product must equal the length). */
export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Serialise float32 tensors (in the given order) and string metadata to safetensors bytes. */
export function serializeSafetensors(tensors: Iterable<TensorToWrite>, metadata: Record<string, string> = {}): Uint8Array {
  const list = [...tensors];
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  const seen = new Set<string>();
  for (const t of list) {
    if (t.name === "__metadata__") throw new Error("a tensor cannot be named __metadata__");
    if (seen.has(t.name)) throw new Error(`duplicate tensor name '${t.name}'`);
    seen.add(t.name);
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (n !== t.data.length) throw new Error(`tensor '${t.name}': shape [${t.shape}] has ${n} elements but data has ${t.data.length}`);
    header[t.name] = { dtype: "F32", shape: t.shape, data_offsets: [off, off + 4 * n] };
    off += 4 * n;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hbytes = enc.encode(json);
  const pad = (8 - (hbytes.length % 8)) % 8; // keep the data 8-byte aligned, as the reference writer does
  if (pad) {
    json += " ".repeat(pad);
    hbytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + hbytes.length + off);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let p = 8 + hbytes.length;
  for (const t of list) {
    for (let i = 0; i < t.data.length; i++) dv.setFloat32(p + 4 * i, t.data[i], true);
    p += 4 * t.data.length;
  }
  return out;
}

/** Write float32 tensors to a safetensors file. */
export async function writeSafetensors(
  file: string,
  tensors: Iterable<TensorToWrite>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFile(file, serializeSafetensors(tensors, metadata));
}
