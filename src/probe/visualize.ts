// Prediction pictures for the probe report: one row per image, [rgb | ground truth | prediction],
// depth colourised with the turbo colormap (shared range per picture, no data = black), labels
// with a fixed palette (PASCAL VOC's bit-interleaved colormap; label 0 / ignore = black).
import { writePng } from "../image/io.js";

/** Turbo colormap (Mikhailov 2019, polynomial fit) of x in [0, 1] -> [r, g, b] bytes. */
export function turbo(x: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, x));
  const r = 0.13572138 + t * (4.6153926 + t * (-42.66032258 + t * (132.13108234 + t * (-152.94239396 + t * 59.28637943))));
  const g = 0.09140261 + t * (2.19418839 + t * (4.84296658 + t * (-14.18503333 + t * (4.27729857 + t * 2.82956604))));
  const b = 0.1066733 + t * (12.64194608 + t * (-60.58204836 + t * (110.36276771 + t * (-89.90310912 + t * 27.34824973))));
  const q = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  return [q(r), q(g), q(b)];
}

/** Depth (H*W, metres; <= 0 = no data) -> (H, W, 3) turbo colours over [min, max]. */
export function colorizeDepth(depth: ArrayLike<number>, min: number, max: number): Uint8Array {
  const out = new Uint8Array(depth.length * 3);
  const span = max > min ? max - min : 1;
  for (let i = 0; i < depth.length; i++) {
    const d = depth[i];
    if (!(d > 0)) continue;
    out.set(turbo((d - min) / span), 3 * i);
  }
  return out;
}

/** Colour of label id l (PASCAL VOC colormap; 0 is black). */
export function labelColor(l: number): [number, number, number] {
  let r = 0;
  let g = 0;
  let b = 0;
  let c = l;
  for (let j = 0; j < 8; j++) {
    r |= ((c >> 0) & 1) << (7 - j);
    g |= ((c >> 1) & 1) << (7 - j);
    b |= ((c >> 2) & 1) << (7 - j);
    c >>= 3;
  }
  return [r, g, b];
}

/** A colour per label id (index 0 = label 0, drawn black unless given). */
export type Palette = ReadonlyArray<readonly [number, number, number] | undefined>;

/**
 * Labels (H*W) -> (H, W, 3) colours of label + offset (offset 1 for class indices 0..K-1), from
 * `palette` where it has the id (e.g. the synth classes' display colours), else the VOC colormap.
 */
export function colorizeLabels(labels: ArrayLike<number>, offset = 0, palette?: Palette): Uint8Array {
  const out = new Uint8Array(labels.length * 3);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] + offset;
    out.set((l > 0 && palette?.[l]) || labelColor(l), 3 * i);
  }
  return out;
}

export interface VisRow {
  /** (H, W, 3) */
  rgb: Uint8Array;
  /** depth: (H, W) metres, 0 = no data; seg: (H, W) labels as stored (0 = ignore, 1..K) */
  gt: ArrayLike<number>;
  /** depth: (H, W) metres; seg: (H, W) class indices 0..K-1 (argmax), drawn as label index + 1 */
  pred: ArrayLike<number>;
}

export interface VisOptions {
  kind: "depth" | "seg";
  height: number;
  width: number;
  /** depth colour range in metres (default: the min..max of valid gt over all rows) */
  depthRange?: [number, number];
  /** seg: colours by label id (default: VOC colormap); label 0 is always black */
  palette?: Palette;
  /** white pixels between panels and rows (default 2) */
  gap?: number;
}

/** The picture as (H, W, 3) bytes and its size; writePredictionGrid writes it as PNG. */
export function predictionGrid(rows: VisRow[], opts: VisOptions): { width: number; height: number; rgb: Uint8Array } {
  const { height: h, width: w, kind } = opts;
  const gap = opts.gap ?? 2;
  if (rows.length === 0) throw new Error("prediction grid: no rows to draw");
  rows.forEach((r, i) => {
    if (r.rgb.length !== h * w * 3 || r.gt.length !== h * w || r.pred.length !== h * w)
      throw new Error(
        `prediction grid row ${i}: rgb ${r.rgb.length}, gt ${r.gt.length}, pred ${r.pred.length} values; expected ${h}x${w} (x3 for rgb). ` +
          "Resize gt and prediction to the image size first",
      );
  });
  let [lo, hi] = opts.depthRange ?? [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  if (kind === "depth" && !opts.depthRange) {
    for (const r of rows)
      for (let i = 0; i < r.gt.length; i++)
        if (r.gt[i] > 0) {
          lo = Math.min(lo, r.gt[i]);
          hi = Math.max(hi, r.gt[i]);
        }
    if (!(hi >= lo)) [lo, hi] = [0, 1];
  }
  const W = 3 * w + 2 * gap;
  const H = rows.length * h + (rows.length - 1) * gap;
  const out = new Uint8Array(W * H * 3).fill(255);
  const blit = (panel: Uint8Array, row: number, col: number) => {
    for (let y = 0; y < h; y++) {
      const at = ((row * (h + gap) + y) * W + col * (w + gap)) * 3;
      out.set(panel.subarray(y * w * 3, (y + 1) * w * 3), at);
    }
  };
  rows.forEach((r, i) => {
    blit(r.rgb, i, 0);
    if (kind === "depth") {
      blit(colorizeDepth(r.gt, lo, hi), i, 1);
      blit(colorizeDepth(r.pred, lo, hi), i, 2);
    } else {
      blit(colorizeLabels(r.gt, 0, opts.palette), i, 1);
      blit(colorizeLabels(r.pred, 1, opts.palette), i, 2);
    }
  });
  return { width: W, height: H, rgb: out };
}

/** Write rows of [rgb | gt | prediction] as one PNG. Returns its size. */
export async function writePredictionGrid(file: string, rows: VisRow[], opts: VisOptions): Promise<{ width: number; height: number }> {
  const g = predictionGrid(rows, opts);
  await writePng(file, g.width, g.height, g.rgb, 3);
  return { width: g.width, height: g.height };
}
