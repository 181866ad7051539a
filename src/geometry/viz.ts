// A debugging picture of a two-view result: the two images side by side, matched patches tinted
// with one colour per correspondence (same colour in both views), RANSAC inlier matches as green
// lines and outliers as red dots in view a.
import type { Features } from "../contracts.js";
import type { ImageSize, TwoViewResult } from "./two_view.js";

export interface RgbPicture {
  width: number;
  height: number;
  rgb: Uint8Array; // (H, W, 3)
}

function hueColour(i: number): [number, number, number] {
  const h = (i * 0.618033988749895) % 1;
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return Math.round(255 * (1 - Math.max(0, Math.min(k, 4 - k, 1))));
  };
  return [f(5), f(3), f(1)];
}

/**
 * Side-by-side picture: a and b are the images the features were detected on (same size as the
 * features' coordinates); patches are drawn on the grid of cfg size scaled to each image.
 */
export function drawTwoView(
  a: RgbPicture,
  b: RgbPicture,
  fa: Omit<Features, "desc">,
  fb: Omit<Features, "desc">,
  r: TwoViewResult,
  grid: ImageSize & { patch: number },
): RgbPicture {
  const W = a.width + b.width;
  const H = Math.max(a.height, b.height);
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < a.height; y++) out.set(a.rgb.subarray(y * a.width * 3, (y + 1) * a.width * 3), y * W * 3);
  for (let y = 0; y < b.height; y++) out.set(b.rgb.subarray(y * b.width * 3, (y + 1) * b.width * 3), (y * W + a.width) * 3);
  const put = (x: number, y: number, c: [number, number, number], alpha = 1) => {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const o = (y * W + x) * 3;
    for (let k = 0; k < 3; k++) out[o + k] = Math.round(out[o + k] * (1 - alpha) + c[k] * alpha);
  };
  const ncols = Math.floor(grid.width / grid.patch);
  const tint = (img: RgbPicture, x0: number, p: number, c: [number, number, number]) => {
    const sx = img.width / grid.width;
    const sy = img.height / grid.height;
    const px = (p % ncols) * grid.patch;
    const py = Math.floor(p / ncols) * grid.patch;
    for (let y = Math.floor(py * sy); y < Math.floor((py + grid.patch) * sy); y++)
      for (let x = Math.floor(px * sx); x < Math.floor((px + grid.patch) * sx); x++) {
        const edge = y === Math.floor(py * sy) || x === Math.floor(px * sx);
        put(x0 + x, y, c, edge ? 0.8 : 0.35);
      }
  };
  if (r.correspondence)
    for (const [p1, p2] of r.correspondence.map) {
      const c = hueColour(p1);
      tint(a, 0, p1, c);
      tint(b, a.width, p2, c);
    }
  const line = (x0: number, y0: number, x1: number, y1: number, c: [number, number, number]) => {
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    for (let i = 0; i <= n; i++) put(x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, c, 0.9);
  };
  const inl = r.homography.kind === "model" ? r.homography.fit.inliers : null;
  // at most ~60 inlier lines (evenly spread); the other inliers as green dots
  const numIn = inl ? inl.reduce((s, v) => s + v, 0) : 0;
  const every = Math.max(1, Math.ceil(numIn / 60));
  let seen = 0;
  for (let k = 0; k < r.matches.count; k++) {
    const qa = r.matches.idx[2 * k];
    const qb = r.matches.idx[2 * k + 1];
    const [xa, ya] = [fa.xy[2 * qa], fa.xy[2 * qa + 1]];
    const [xb, yb] = [fb.xy[2 * qb], fb.xy[2 * qb + 1]];
    if (inl?.[k]) {
      if (seen++ % every === 0) line(xa, ya, xb + a.width, yb, [40, 230, 60]);
      else
        for (const [dx, dy] of [
          [0, 0],
          [1, 0],
          [0, 1],
        ]) {
          put(xa + dx, ya + dy, [40, 230, 60]);
          put(xb + a.width + dx, yb + dy, [40, 230, 60]);
        }
    } else
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [-1, 0],
        [0, -1],
      ])
        put(xa + dx, ya + dy, [230, 40, 40]);
  }
  return { width: W, height: H, rgb: out };
}
