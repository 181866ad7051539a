// Procedural test images for SIFT (no fixtures): a continuous, seeded texture function (value
// noise at several scales + random rectangles and discs + a few sinusoids), rendered with 3x3
// supersampling, optionally through a homography so warped views are exact renderings rather
// than resamplings.
import { Pcg32 } from "../../src/ref/prng.js";

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
