// HTML helpers for the report: escaping, a few template helpers, number formatting and data URIs.
// Everything that comes from files (names, strings, JSON values) goes through esc() before it is
// placed in the page, in text and in attribute values alike.
import fs from "node:fs";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escape a value for HTML text or a quoted attribute value. null/undefined become "". */
export function esc(value: unknown): string {
  if (value === null || value === undefined) return "";
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Attribute list from an object: {class: "a", "data-k": 3} -> ` class="a" data-k="3"`; false/null/undefined are left out. */
export function attrs(a: Record<string, string | number | boolean | null | undefined>): string {
  let s = "";
  for (const [k, v] of Object.entries(a)) {
    if (v === false || v === null || v === undefined) continue;
    if (!/^[a-zA-Z_:][-a-zA-Z0-9_:.]*$/.test(k)) throw new Error(`html: bad attribute name '${k}'`);
    s += v === true ? ` ${k}` : ` ${k}="${esc(v)}"`;
  }
  return s;
}

/** An element whose children are already HTML (escape text with esc() first). */
export function el(tag: string, a: Record<string, string | number | boolean | null | undefined>, ...children: string[]): string {
  return `<${tag}${attrs(a)}>${children.join("")}</${tag}>`;
}

/** A table: header cells and rows of cells, both already HTML. */
export function table(head: string[], rows: string[][], cls = ""): string {
  const th = head.map((h) => `<th>${h}</th>`).join("");
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n");
  return `<table${cls ? ` class="${esc(cls)}"` : ""}><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

/** A two-column key/value table (keys and values are escaped here). */
export function kvTable(entries: Array<[string, unknown]>): string {
  return table(
    ["", ""],
    entries.map(([k, v]) => [esc(k), esc(fmtValue(v))]),
    "kv",
  );
}

/** A number for humans: integers with thousands separators, others with `digits` significant digits. */
export function fmt(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "-∞";
  if (Number.isInteger(x)) return x.toLocaleString("en-US");
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

/** Any JSON value as a short string (numbers through fmt, objects as compact JSON). */
export function fmtValue(v: unknown): string {
  if (typeof v === "number") return fmt(v);
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** The MIME type of image bytes from their magic number (JPEG, PNG, GIF, WebP), or null. */
export function imageMime(bytes: Uint8Array): string | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  if (bytes.length >= 6 && bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46) return "image/gif";
  if (
    bytes.length >= 12 &&
    String.fromCharCode(...bytes.subarray(0, 4)) === "RIFF" &&
    String.fromCharCode(...bytes.subarray(8, 12)) === "WEBP"
  )
    return "image/webp";
  return null;
}

/** A data: URI of an image file (so the report is one self-contained file), or null if unreadable / not an image. */
export function imageDataUri(file: string): string | null {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return null;
  }
  const mime = imageMime(bytes);
  return mime ? `data:${mime};base64,${bytes.toString("base64")}` : null;
}
