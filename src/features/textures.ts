// Procedural images for SIFT tests and bench/sift.ts (no fixtures): a continuous, seeded texture function (value
// noise at several scales + random rectangles and discs + a few sinusoids), rendered with 3x3
// supersampling, optionally through a homography so warped views are exact renderings rather
// than resamplings.
import sharp from "sharp";
import { gaussianBlurCpu } from "../image/cpu.js";
import { Pcg32 } from "../prng.js";

export type Texture = (x: number, y: number) => number;

/** A seeded texture over roughly [0, extent]^2 with values in about [0, 1]. */
export function makeTexture(seed: number, extent = 512): Texture {
  const r = new Pcg32(seed, 3);
  const G = 64;
  const lattices = [8, 20, 48].map(() => Float32Array.from({ length: G * G }, () => r.nextFloat()));
  const cell = [extent / 6, extent / 16, extent / 40];
  const shapes = Array.from({ length: 60 }, () => ({
    disc: r.nextFloat() < 0.4,
    x: r.nextFloat() * extent,
    y: r.nextFloat() * extent,
    a: 4 + r.nextFloat() * extent * 0.08,
    b: 4 + r.nextFloat() * extent * 0.08,
    v: r.nextFloat() - 0.5,
  }));
  const waves = Array.from({ length: 3 }, () => ({
    kx: (r.nextFloat() - 0.5) * 0.3,
    ky: (r.nextFloat() - 0.5) * 0.3,
    ph: r.nextFloat() * 6.28,
  }));
  const noise = (lat: Float32Array, s: number, x: number, y: number) => {
    const u = x / s + 8;
    const v = y / s + 8;
    const i = Math.floor(u);
    const j = Math.floor(v);
    const fu = u - i;
    const fv = v - j;
    const su = fu * fu * (3 - 2 * fu);
    const sv = fv * fv * (3 - 2 * fv);
    const at = (a: number, b: number) => lat[(((b % G) + G) % G) * G + (((a % G) + G) % G)];
    const top = at(i, j) + (at(i + 1, j) - at(i, j)) * su;
    const bot = at(i, j + 1) + (at(i + 1, j + 1) - at(i, j + 1)) * su;
    return top + (bot - top) * sv;
  };
  return (x, y) => {
    let v = 0.45 * noise(lattices[0], cell[0], x, y) + 0.3 * noise(lattices[1], cell[1], x, y) + 0.15 * noise(lattices[2], cell[2], x, y);
    for (const s of shapes) {
      const inside = s.disc
        ? (x - s.x) ** 2 / (s.a * s.a) + (y - s.y) ** 2 / (s.a * s.a) < 1
        : Math.abs(x - s.x) < s.a && Math.abs(y - s.y) < s.b;
      if (inside) v += s.v * 0.5;
    }
    for (const wv of waves) v += 0.04 * Math.sin(wv.kx * x + wv.ky * y + wv.ph);
    return Math.min(1, Math.max(0, v * 0.9));
  };
}

/**
 * Render (h, w) in [0,1]: pixel (x, y) shows the texture at Hinv (x, y) (3x3 supersampled).
 * Hinv: row-major 3x3 mapping image pixels to texture coordinates (default identity).
 */
export function render(tex: Texture, w: number, h: number, Hinv: number[] = [1, 0, 0, 0, 1, 0, 0, 0, 1], gain = 1, bias = 0): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let sy = 0; sy < 3; sy++)
        for (let sx = 0; sx < 3; sx++) {
          const px = x + (sx - 1) / 3;
          const py = y + (sy - 1) / 3;
          const d = Hinv[6] * px + Hinv[7] * py + Hinv[8];
          acc += tex((Hinv[0] * px + Hinv[1] * py + Hinv[2]) / d, (Hinv[3] * px + Hinv[4] * py + Hinv[5]) / d);
        }
      out[y * w + x] = Math.min(1, Math.max(0, (acc / 9) * gain + bias));
    }
  return out;
}

// ---- the standard warped pairs (test/features/quality.test.ts, bench/sift.ts) ---------------------

const mul3 = (a: number[], b: number[]) =>
  Array.from({ length: 9 }, (_, k) => {
    const r = Math.floor(k / 3);
    const c = k % 3;
    return a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  });

function inv3(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A, -(b * i - c * h), b * f - c * e, B, a * i - c * g, -(a * f - c * d), C, -(a * h - b * g), a * e - b * d].map((v) => v / det);
}

export interface Warp {
  name: string;
  /** Homography A -> B, row-major 3x3. */
  H: number[];
  /** Photometric change applied to B after rendering. */
  photo?: { gain?: number; bias?: number; blurSigma?: number; jpegQuality?: number };
}

/** Rotation 30 deg, scale 0.7 and 1.5, perspective tilt (about the centre), brightness, blur, JPEG. */
export function standardWarps(w: number, h: number): Warp[] {
  const cx = w / 2;
  const cy = h / 2;
  const about = (m: number[]) => mul3([1, 0, cx, 0, 1, cy, 0, 0, 1], mul3(m, [1, 0, -cx, 0, 1, -cy, 0, 0, 1]));
  const t = (30 * Math.PI) / 180;
  const I = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const s = 224 / Math.min(w, h); // the tilt's strength is set for 224 px images
  return [
    { name: "rotation 30 deg", H: about([Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0, 0, 0, 1]) },
    { name: "scale 0.7", H: about([0.7, 0, 0, 0, 0.7, 0, 0, 0, 1]) },
    { name: "scale 1.5", H: about([1.5, 0, 0, 0, 1.5, 0, 0, 0, 1]) },
    { name: "perspective tilt", H: about([1, 0.05, 0, 0.02, 0.9, 0, 0.0012 * s, 0.0004 * s, 1]) },
    { name: "brightness x0.7 + 0.15", H: I, photo: { gain: 0.7, bias: 0.15 } },
    { name: "blur sigma 1.5", H: I, photo: { blurSigma: 1.5 } },
    { name: "JPEG quality 40", H: I, photo: { jpegQuality: 40 } },
  ];
}

/** Render view B of `warp` (w x h, [0,1]). */
export async function renderWarp(tex: Texture, w: number, h: number, warp: Warp): Promise<Float32Array> {
  const p = warp.photo ?? {};
  let img = render(tex, w, h, inv3(warp.H), p.gain ?? 1, p.bias ?? 0);
  if (p.blurSigma) img = gaussianBlurCpu(img, 1, h, w, p.blurSigma);
  if (p.jpegQuality) {
    const bytes = Uint8Array.from(img, (v) => Math.round(v * 255));
    const buf = await sharp(bytes, { raw: { width: w, height: h, channels: 1 } })
      .jpeg({ quality: p.jpegQuality })
      .toBuffer();
    const { data } = await sharp(buf).greyscale().raw().toBuffer({ resolveWithObject: true });
    img = Float32Array.from(data, (v) => v / 255);
  }
  return img;
}
