// CPU twins of shaders/features/sift_*.wgsl: plain loops in f32 (Math.fround where a kernel's
// discrete decisions depend on rounding), the oracle for the kernels' tests. Follows OpenCV's SIFT
// (modules/features2d/src/sift.simd.hpp) in [0,1] image units instead of 0..255, with the
// thresholds scaled to match.
//
// Layout shared with the kernels:
//   gauss[o]: (L+3, N, h, w) f32 per octave, dog[o]: (L+2, N, h, w) f32 (L = nOctaveLayers)
//   keypoint records: KP_WORDS f32 each (fields in KP, src/features/config.ts)

import {
  KP,
  KP_WORDS,
  type OctaveGeom,
  SIFT_IMG_BORDER,
  SIFT_ORI_RADIUS,
  SIFT_ORI_SIG_FCTR,
  type SiftConfig,
  siftOctaves,
  siftSigmas,
  siftThreshold,
} from "../../features/config.js";
import { blurPassRef, downsample2Ref, gaussianTaps, resizeBilinearRef } from "../image.js";

const f = Math.fround;
const FLT_EPSILON = 1.1920928955078125e-7;

/** cvRound / WGSL round(): nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const ATAN_P1 = f(0.9997878412794807 * (180 / Math.PI));
const ATAN_P3 = f(-0.3258083974640975 * (180 / Math.PI));
const ATAN_P5 = f(0.1555786518463281 * (180 / Math.PI));
const ATAN_P7 = f(-0.04432655554792128 * (180 / Math.PI));
const DBL_EPS_F = f(2.220446049250313e-16);

/** OpenCV's fastAtan2 in f32: degrees in [0, 360). Same operations as fast_atan2 in the kernels. */
export function fastAtan2(y: number, x: number): number {
  const ax = Math.abs(x);
  const ay = Math.abs(y);
  let a: number;
  if (ax >= ay) {
    const c = f(ay / f(ax + DBL_EPS_F));
    const c2 = f(c * c);
    a = f(f(f(f(f(f(f(ATAN_P7 * c2) + ATAN_P5) * c2) + ATAN_P3) * c2) + ATAN_P1) * c);
  } else {
    const c = f(ax / f(ay + DBL_EPS_F));
    const c2 = f(c * c);
    a = f(90 - f(f(f(f(f(f(f(ATAN_P7 * c2) + ATAN_P5) * c2) + ATAN_P3) * c2) + ATAN_P1) * c));
  }
  if (x < 0) a = f(180 - a);
  if (y < 0) a = f(360 - a);
  return a;
}

/**
 * One separable Gaussian pass over (N, H, W) planes in f32 (taps -r..r in order, reflect-101),
 * axis 0 horizontal, 1 vertical.  Twin of sift_blur.wgsl.
 */
export function siftBlurPassRef(src: Float32Array, n: number, h: number, w: number, taps: Float32Array, axis: 0 | 1): Float32Array {
  return blurPassRef(src, n, h, w, taps, axis, Math.fround);
}

/** Gaussian blur (both passes) in f32 with OpenCV's kernel size for `sigma`. */
export function siftBlurRef(src: Float32Array, n: number, h: number, w: number, sigma: number): Float32Array {
  const taps = gaussianTaps(sigma);
  return siftBlurPassRef(siftBlurPassRef(src, n, h, w, taps, 0), n, h, w, taps, 1);
}

export interface ScaleSpace {
  octaves: OctaveGeom[];
  gauss: Float32Array[]; // per octave (L+3, N, h, w)
  dog: Float32Array[]; // per octave (L+2, N, h, w)
}

/** Gaussian scale space of (N, H, W) gray images in [0,1].  Twin of image/resize_bilinear, sift_blur, image/downsample2. */
export function scaleSpaceRef(gray: Float32Array, n: number, height: number, width: number, cfg: SiftConfig): ScaleSpace {
  const octaves = siftOctaves(width, height, cfg);
  const { base, steps } = siftSigmas(cfg);
  const L = cfg.nOctaveLayers;
  const gauss: Float32Array[] = [];
  const dog: Float32Array[] = [];
  octaves.forEach(({ w, h }, o) => {
    const plane = n * h * w;
    const g = new Float32Array((L + 3) * plane);
    let first: Float32Array;
    if (o === 0) {
      const src = cfg.upsample ? resizeBilinearRef(gray, n, height, width, h, w) : gray;
      first = siftBlurRef(src, n, h, w, base);
    } else {
      const prev = octaves[o - 1];
      const pp = n * prev.h * prev.w;
      first = downsample2Ref(gauss[o - 1].subarray(L * pp, (L + 1) * pp), n, prev.h, prev.w, 0);
    }
    g.set(first, 0);
    for (let i = 1; i < L + 3; i++) g.set(siftBlurRef(g.subarray((i - 1) * plane, i * plane), n, h, w, steps[i - 1]), i * plane);
    gauss.push(g);
    dog.push(dogRef(g, L + 3, plane));
  });
  return { octaves, gauss, dog };
}

/** dog[l] = gauss[l+1] - gauss[l] over (levels-1) levels of `plane` floats.  Twin of sift_dog.wgsl. */
export function dogRef(gauss: Float32Array, levels: number, plane: number): Float32Array {
  const out = new Float32Array((levels - 1) * plane);
  for (let i = 0; i < out.length; i++) out[i] = gauss[i + plane] - gauss[i];
  return out;
}

/** Solve the 3x3 system H x = b by Gaussian elimination with partial pivoting in f32; null if singular. */
export function solve3(H: number[], b: number[]): number[] | null {
  const A = H.slice();
  const B = b.slice();
  const eps = f(FLT_EPSILON * 10);
  for (let i = 0; i < 3; i++) {
    let k = i;
    for (let j = i + 1; j < 3; j++) if (Math.abs(A[j * 3 + i]) > Math.abs(A[k * 3 + i])) k = j;
    if (Math.abs(A[k * 3 + i]) < eps) return null;
    if (k !== i) {
      for (let j = 0; j < 3; j++) {
        const t = A[i * 3 + j];
        A[i * 3 + j] = A[k * 3 + j];
        A[k * 3 + j] = t;
      }
      const t = B[i];
      B[i] = B[k];
      B[k] = t;
    }
    const d = f(-1 / A[i * 3 + i]);
    for (let j = i + 1; j < 3; j++) {
      const alpha = f(A[j * 3 + i] * d);
      for (let c = i + 1; c < 3; c++) A[j * 3 + c] = f(A[j * 3 + c] + f(alpha * A[i * 3 + c]));
      B[j] = f(B[j] + f(alpha * B[i]));
    }
  }
  const x = [0, 0, 0];
  for (let i = 2; i >= 0; i--) {
    let s = B[i];
    for (let c = i + 1; c < 3; c++) s = f(s - f(A[i * 3 + c] * x[c]));
    x[i] = f(s / A[i * 3 + i]);
  }
  return x;
}

/**
 * 3x3x3 DoG extrema of one octave above the pre-threshold, per image, in scan order (layer, r, c),
 * as codes layer << 28 | r << 14 | c.  Twin of sift_extrema.wgsl.
 */
export function detectRef(dog: Float32Array, n: number, h: number, w: number, cfg: SiftConfig): number[][] {
  const L = cfg.nOctaveLayers;
  const plane = n * h * w;
  const thr = f(siftThreshold(cfg));
  const out: number[][] = Array.from({ length: n }, () => []);
  for (let b = 0; b < n; b++)
    for (let layer = 1; layer <= L; layer++)
      for (let r = SIFT_IMG_BORDER; r < h - SIFT_IMG_BORDER; r++)
        for (let c = SIFT_IMG_BORDER; c < w - SIFT_IMG_BORDER; c++) {
          const at = (l: number, y: number, x: number) => dog[l * plane + b * h * w + y * w + x];
          const val = at(layer, r, c);
          if (!(Math.abs(val) > thr)) continue;
          let isMax = val > 0;
          let isMin = val < 0;
          for (let l = layer - 1; l <= layer + 1; l++)
            for (let y = r - 1; y <= r + 1; y++)
              for (let x = c - 1; x <= c + 1; x++) {
                const v = at(l, y, x);
                if (v > val) isMax = false;
                if (v < val) isMin = false;
              }
          if (isMax || isMin) out[b].push(((layer << 28) | (r << 14) | c) >>> 0);
        }
  return out;
}

/**
 * Scale-space extrema of one octave with sub-pixel refinement, contrast and edge checks, and
 * de-duplication of candidates that converge to the same sample.  Twin of sift_extrema.wgsl +
 * sift_refine.wgsl. `raw`: the extrema (detectRef's output by default).
 * Returns per image the records (KP_WORDS floats each, angle 0) in the order of `raw`.
 */
export function extremaRef(
  dog: Float32Array,
  n: number,
  h: number,
  w: number,
  octave: number,
  cfg: SiftConfig,
  raw: number[][] = detectRef(dog, n, h, w, cfg),
): Float32Array[][] {
  const claimed = new Set<number>();
  return raw.map((codes, b) => {
    const out: Float32Array[] = [];
    for (const code of codes) {
      const kp = refineRef(dog, n, h, w, b, octave, code >>> 28, (code >>> 14) & 0x3fff, code & 0x3fff, cfg);
      if (!kp) continue;
      const key = ((kp[KP.layer] * n + b) * h + kp[KP.r]) * w + kp[KP.c];
      if (claimed.has(key)) continue;
      claimed.add(key);
      out.push(kp);
    }
    return out;
  });
}

/** OpenCV's adjustLocalExtrema in f32; a record or null when rejected.  Twin of sift_refine.wgsl (per thread). */
export function refineRef(
  dog: Float32Array,
  n: number,
  h: number,
  w: number,
  b: number,
  octave: number,
  layer0: number,
  r0: number,
  c0: number,
  cfg: SiftConfig,
): Float32Array | null {
  const L = cfg.nOctaveLayers;
  const plane = n * h * w;
  const at = (l: number, y: number, x: number) => dog[l * plane + b * h * w + y * w + x];
  let layer = layer0;
  let r = r0;
  let c = c0;
  let xi = 0;
  let xr = 0;
  let xc = 0;
  const deriv = (): { dD: number[]; H: number[] } => {
    const v2 = f(at(layer, r, c) * 2);
    const dx = f(f(at(layer, r, c + 1) - at(layer, r, c - 1)) * 0.5);
    const dy = f(f(at(layer, r + 1, c) - at(layer, r - 1, c)) * 0.5);
    const ds = f(f(at(layer + 1, r, c) - at(layer - 1, r, c)) * 0.5);
    const dxx = f(f(at(layer, r, c + 1) + at(layer, r, c - 1)) - v2);
    const dyy = f(f(at(layer, r + 1, c) + at(layer, r - 1, c)) - v2);
    const dss = f(f(at(layer + 1, r, c) + at(layer - 1, r, c)) - v2);
    const dxy = f(f(f(f(at(layer, r + 1, c + 1) - at(layer, r + 1, c - 1)) - at(layer, r - 1, c + 1)) + at(layer, r - 1, c - 1)) * 0.25);
    const dxs = f(f(f(f(at(layer + 1, r, c + 1) - at(layer + 1, r, c - 1)) - at(layer - 1, r, c + 1)) + at(layer - 1, r, c - 1)) * 0.25);
    const dys = f(f(f(f(at(layer + 1, r + 1, c) - at(layer + 1, r - 1, c)) - at(layer - 1, r + 1, c)) + at(layer - 1, r - 1, c)) * 0.25);
    return { dD: [dx, dy, ds], H: [dxx, dxy, dxs, dxy, dyy, dys, dxs, dys, dss] };
  };
  let i = 0;
  for (; i < cfg.maxInterpSteps; i++) {
    const { dD, H } = deriv();
    const X = solve3(H, dD) ?? [0, 0, 0];
    xi = -X[2];
    xr = -X[1];
    xc = -X[0];
    if (Math.abs(xi) < 0.5 && Math.abs(xr) < 0.5 && Math.abs(xc) < 0.5) break;
    if (Math.abs(xi) > 1e6 || Math.abs(xr) > 1e6 || Math.abs(xc) > 1e6) return null;
    c += roundHalfEven(xc);
    r += roundHalfEven(xr);
    layer += roundHalfEven(xi);
    if (layer < 1 || layer > L || c < SIFT_IMG_BORDER || c >= w - SIFT_IMG_BORDER || r < SIFT_IMG_BORDER || r >= h - SIFT_IMG_BORDER)
      return null;
  }
  if (i >= cfg.maxInterpSteps) return null;
  const { dD, H } = deriv();
  const t = f(f(f(dD[0] * xc) + f(dD[1] * xr)) + f(dD[2] * xi));
  const contr = f(at(layer, r, c) + f(t * 0.5));
  if (f(Math.abs(contr) * L) < f(cfg.contrastThreshold)) return null;
  const dxx = H[0];
  const dyy = H[4];
  const dxy = H[1];
  const tr = f(dxx + dyy);
  const det = f(f(dxx * dyy) - f(dxy * dxy));
  const e = cfg.edgeThreshold;
  if (det <= 0 || f(f(tr * tr) * e) >= f(f((e + 1) * (e + 1)) * det)) return null;
  const kp = new Float32Array(KP_WORDS);
  const toInput = 2 ** octave * (cfg.upsample ? 0.5 : 1);
  const xo = f(c + xc);
  const yo = f(r + xr);
  const scl = f(cfg.sigma * f(2 ** f(f(layer + xi) / L)));
  kp[KP.x] = xo * toInput;
  kp[KP.y] = yo * toInput;
  kp[KP.size] = scl * 2 * toInput;
  kp[KP.angle] = 0;
  kp[KP.response] = Math.abs(contr);
  kp[KP.octave] = octave;
  kp[KP.layer] = layer;
  kp[KP.r] = r;
  kp[KP.c] = c;
  kp[KP.xo] = xo;
  kp[KP.yo] = yo;
  kp[KP.scl] = scl;
  return kp;
}

/**
 * Smoothed orientation histogram (OpenCV's calcOrientationHist) of `img` (one (h, w) plane) around
 * integer (r, c) and its maximum.
 */
export function orientationHistRef(
  img: Float32Array,
  h: number,
  w: number,
  r: number,
  c: number,
  radius: number,
  sigma: number,
  bins: number,
): Float32Array {
  const tmp = new Float32Array(bins);
  const expScale = f(-1 / f(2 * f(sigma * sigma)));
  for (let i = -radius; i <= radius; i++) {
    const y = r + i;
    if (y <= 0 || y >= h - 1) continue;
    for (let j = -radius; j <= radius; j++) {
      const x = c + j;
      if (x <= 0 || x >= w - 1) continue;
      const dx = f(img[y * w + x + 1] - img[y * w + x - 1]);
      const dy = f(img[(y - 1) * w + x] - img[(y + 1) * w + x]);
      const wt = f(Math.exp(f(f(i * i + j * j) * expScale)));
      const mag = f(Math.sqrt(f(f(dx * dx) + f(dy * dy))));
      const ori = fastAtan2(dy, dx);
      let bin = roundHalfEven(f(f(bins / 360) * ori));
      if (bin >= bins) bin -= bins;
      if (bin < 0) bin += bins;
      tmp[bin] = f(tmp[bin] + f(wt * mag));
    }
  }
  const hist = new Float32Array(bins);
  const at = (k: number) => tmp[(k + bins) % bins];
  for (let i = 0; i < bins; i++)
    hist[i] = f(f(f(f(at(i - 2) + at(i + 2)) * f(1 / 16)) + f(f(at(i - 1) + at(i + 1)) * f(4 / 16))) + f(at(i) * f(6 / 16)));
  return hist;
}

/**
 * Orientation assignment of one octave's candidates: one record per histogram peak >= peak ratio
 * of the maximum.  Twin of sift_orientation.wgsl. gauss: the octave's (L+3, N, h, w) levels.
 */
export function orientationRef(
  gauss: Float32Array,
  n: number,
  h: number,
  w: number,
  cands: Float32Array[][],
  cfg: SiftConfig,
): Float32Array[][] {
  const plane = n * h * w;
  const bins = cfg.oriBins;
  return cands.map((list, b) => {
    const out: Float32Array[] = [];
    for (const kp of list) {
      const img = gauss.subarray(kp[KP.layer] * plane + b * h * w, kp[KP.layer] * plane + (b + 1) * h * w);
      const scl = kp[KP.scl];
      const radius = roundHalfEven(f(f(SIFT_ORI_RADIUS) * scl));
      const hist = orientationHistRef(img, h, w, kp[KP.r], kp[KP.c], radius, f(f(SIFT_ORI_SIG_FCTR) * scl), bins);
      let omax = hist[0];
      for (let i = 1; i < bins; i++) omax = Math.max(omax, hist[i]);
      const thr = f(omax * f(cfg.oriPeakRatio));
      for (let j = 0; j < bins; j++) {
        const l = j > 0 ? j - 1 : bins - 1;
        const r2 = j < bins - 1 ? j + 1 : 0;
        if (hist[j] > hist[l] && hist[j] > hist[r2] && hist[j] >= thr) {
          let bin = f(j + f(f(0.5 * f(hist[l] - hist[r2])) / f(f(hist[l] - f(2 * hist[j])) + hist[r2])));
          bin = bin < 0 ? f(bins + bin) : bin >= bins ? f(bin - bins) : bin;
          let angle = f(360 - f(f(360 / bins) * bin));
          if (Math.abs(angle - 360) < FLT_EPSILON) angle = 0;
          const o = kp.slice();
          o[KP.angle] = angle;
          out.push(o);
        }
      }
    }
    return out;
  });
}

/**
 * Key order of keypoint records: (octave, layer, r, c, angle), unique per record (one record per
 * refined (octave, layer, r, c); the peaks of one orientation histogram have distinct angles).
 */
export function keypointKeyCompare(a: Float32Array, b: Float32Array): number {
  for (const f of [KP.octave, KP.layer, KP.r, KP.c, KP.angle]) if (a[f] !== b[f]) return a[f] - b[f];
  return 0;
}

/**
 * The per-image cap: keep records with response >= the maxFeatures-th largest (all when
 * maxFeatures is 0 or not exceeded; ties kept), at most maxFeatures + 32 of them: ranked by
 * response descending, then key (keypointKeyCompare), so the kept set does not depend on the input
 * order. Returns them grouped by octave, each octave in key order.  Twin of sift_select.wgsl
 * (which keeps the same set; its order within an octave is its input order).
 */
export function selectRef(oriented: Float32Array[], maxFeatures: number, nOctaves: number): Float32Array[] {
  let keep = oriented;
  if (maxFeatures > 0 && oriented.length > maxFeatures) {
    const ranked = [...oriented].sort((a, b) => b[KP.response] - a[KP.response] || keypointKeyCompare(a, b));
    const t = ranked[maxFeatures - 1][KP.response];
    keep = ranked.filter((k) => k[KP.response] >= t).slice(0, maxFeatures + 32);
  }
  const out: Float32Array[] = [];
  for (let o = 0; o < nOctaves; o++) out.push(...keep.filter((k) => k[KP.octave] === o).sort(keypointKeyCompare));
  return out;
}

/**
 * 128-D descriptor (OpenCV's calcSIFTDescriptor) of one keypoint on its octave/layer image
 * (one (h, w) plane): trilinear binning, Gaussian weighting, normalise, clip, renormalise
 * (L2, or RootSIFT).  Twin of sift_descriptor.wgsl.
 */
export function descriptorRef(img: Float32Array, h: number, w: number, kp: Float32Array, cfg: SiftConfig): Float32Array {
  const d = cfg.descWidth;
  const nb = cfg.descBins;
  const px = roundHalfEven(kp[KP.xo]);
  const py = roundHalfEven(kp[KP.yo]);
  let ori = f(360 - kp[KP.angle]);
  if (Math.abs(ori - 360) < FLT_EPSILON) ori = 0;
  const scl = kp[KP.scl];
  const rad = f(ori * f(Math.PI / 180));
  const histWidth = f(f(cfg.descMagnification) * scl);
  let radius = roundHalfEven(f(f(f(histWidth * f(Math.SQRT2)) * (d + 1)) * 0.5));
  radius = Math.min(radius, Math.trunc(Math.sqrt(w * w + h * h)));
  const cosT = f(f(Math.cos(rad)) / histWidth);
  const sinT = f(f(Math.sin(rad)) / histWidth);
  const binsPerRad = f(nb / 360);
  const expScale = f(-1 / f(d * d * 0.5));
  const hist = new Float32Array((d + 2) * (d + 2) * (nb + 2));
  for (let i = -radius; i <= radius; i++)
    for (let j = -radius; j <= radius; j++) {
      const cRot = f(f(j * cosT) - f(i * sinT));
      const rRot = f(f(j * sinT) + f(i * cosT));
      let rbin = f(f(rRot + d / 2) - 0.5);
      let cbin = f(f(cRot + d / 2) - 0.5);
      const r = py + i;
      const c = px + j;
      if (!(rbin > -1 && rbin < d && cbin > -1 && cbin < d && r > 0 && r < h - 1 && c > 0 && c < w - 1)) continue;
      const dx = f(img[r * w + c + 1] - img[r * w + c - 1]);
      const dy = f(img[(r - 1) * w + c] - img[(r + 1) * w + c]);
      const wt = f(Math.exp(f(f(f(cRot * cRot) + f(rRot * rRot)) * expScale)));
      const mag = f(f(Math.sqrt(f(f(dx * dx) + f(dy * dy)))) * wt);
      let obin = f(f(fastAtan2(dy, dx) - ori) * binsPerRad);
      const r0 = Math.floor(rbin);
      const c0 = Math.floor(cbin);
      let o0 = Math.floor(obin);
      rbin = f(rbin - r0);
      cbin = f(cbin - c0);
      obin = f(obin - o0);
      if (o0 < 0) o0 += nb;
      if (o0 >= nb) o0 -= nb;
      const vR1 = f(mag * rbin);
      const vR0 = f(mag - vR1);
      const vRc11 = f(vR1 * cbin);
      const vRc10 = f(vR1 - vRc11);
      const vRc01 = f(vR0 * cbin);
      const vRc00 = f(vR0 - vRc01);
      const vRco111 = f(vRc11 * obin);
      const vRco110 = f(vRc11 - vRco111);
      const vRco101 = f(vRc10 * obin);
      const vRco100 = f(vRc10 - vRco101);
      const vRco011 = f(vRc01 * obin);
      const vRco010 = f(vRc01 - vRco011);
      const vRco001 = f(vRc00 * obin);
      const vRco000 = f(vRc00 - vRco001);
      const idx = ((r0 + 1) * (d + 2) + c0 + 1) * (nb + 2) + o0;
      hist[idx] = f(hist[idx] + vRco000);
      hist[idx + 1] = f(hist[idx + 1] + vRco001);
      hist[idx + (nb + 2)] = f(hist[idx + (nb + 2)] + vRco010);
      hist[idx + (nb + 3)] = f(hist[idx + (nb + 3)] + vRco011);
      hist[idx + (d + 2) * (nb + 2)] = f(hist[idx + (d + 2) * (nb + 2)] + vRco100);
      hist[idx + (d + 2) * (nb + 2) + 1] = f(hist[idx + (d + 2) * (nb + 2) + 1] + vRco101);
      hist[idx + (d + 3) * (nb + 2)] = f(hist[idx + (d + 3) * (nb + 2)] + vRco110);
      hist[idx + (d + 3) * (nb + 2) + 1] = f(hist[idx + (d + 3) * (nb + 2) + 1] + vRco111);
    }
  const dst = new Float32Array(d * d * nb);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      const idx = ((i + 1) * (d + 2) + (j + 1)) * (nb + 2);
      hist[idx] = f(hist[idx] + hist[idx + nb]);
      hist[idx + 1] = f(hist[idx + 1] + hist[idx + nb + 1]);
      for (let k = 0; k < nb; k++) dst[(i * d + j) * nb + k] = hist[idx + k];
    }
  return finishDescriptor(dst, cfg);
}

/** Normalise, clip at descClip, renormalise (L2), or RootSIFT. In place; returns `dst`. */
export function finishDescriptor(dst: Float32Array, cfg: SiftConfig): Float32Array {
  let nrm2 = 0;
  for (let k = 0; k < dst.length; k++) nrm2 = f(nrm2 + f(dst[k] * dst[k]));
  const thr = f(f(Math.sqrt(nrm2)) * f(cfg.descClip));
  nrm2 = 0;
  for (let k = 0; k < dst.length; k++) {
    const v = Math.min(dst[k], thr);
    dst[k] = v;
    nrm2 = f(nrm2 + f(v * v));
  }
  if (cfg.rootSift) {
    let l1 = 0;
    for (let k = 0; k < dst.length; k++) l1 = f(l1 + dst[k]);
    const s = f(1 / Math.max(l1, FLT_EPSILON));
    for (let k = 0; k < dst.length; k++) dst[k] = f(Math.sqrt(f(dst[k] * s)));
  } else {
    const s = f(1 / Math.max(f(Math.sqrt(nrm2)), FLT_EPSILON));
    for (let k = 0; k < dst.length; k++) dst[k] = f(dst[k] * s);
  }
  return dst;
}

export interface SiftRefResult {
  /** Per image: final records (KP_WORDS each, grouped by octave) and descriptors (count, 128). */
  keypoints: Float32Array[];
  desc: Float32Array[];
  counts: number[];
}

/** The whole pipeline on the CPU for (N, H, W) gray images in [0,1]. */
export function siftRef(gray: Float32Array, n: number, height: number, width: number, cfg: SiftConfig): SiftRefResult {
  const ss = scaleSpaceRef(gray, n, height, width, cfg);
  return siftFromScaleSpaceRef(ss, n, cfg);
}

export function siftFromScaleSpaceRef(ss: ScaleSpace, n: number, cfg: SiftConfig): SiftRefResult {
  // Capacity (cfg.capacity), as the kernels apply it: whole octaves are dropped, never a part.
  // An octave with more refined candidates than the capacity has no oriented keypoints; the
  // octaves' oriented keypoints are appended in octave order, and the octave whose records cross
  // the capacity and all later ones are dropped (appended still counts them).
  const oriented: Float32Array[][] = Array.from({ length: n }, () => []);
  const appended = new Array<number>(n).fill(0);
  ss.octaves.forEach(({ w, h }, o) => {
    const cands = extremaRef(ss.dog[o], n, h, w, o, cfg).map((l) => (l.length > cfg.capacity ? [] : l));
    orientationRef(ss.gauss[o], n, h, w, cands, cfg).forEach((l, b) => {
      appended[b] += l.length;
      if (appended[b] <= cfg.capacity) oriented[b].push(...l);
    });
  });
  const res: SiftRefResult = { keypoints: [], desc: [], counts: [] };
  for (let b = 0; b < n; b++) {
    const sel = selectRef(oriented[b], cfg.maxFeatures, ss.octaves.length);
    const kps = new Float32Array(sel.length * KP_WORDS);
    const desc = new Float32Array(sel.length * 128);
    sel.forEach((kp, i) => {
      kps.set(kp, i * KP_WORDS);
      const { w, h } = ss.octaves[kp[KP.octave]];
      const plane = n * h * w;
      const base = kp[KP.layer] * plane + b * h * w;
      desc.set(descriptorRef(ss.gauss[kp[KP.octave]].subarray(base, base + h * w), h, w, kp, cfg), i * 128);
    });
    res.keypoints.push(kps);
    res.desc.push(desc);
    res.counts.push(sel.length);
  }
  return res;
}

/**
 * Canonical order of one image's kept records: (octave, y, x, size, angle, response) ascending,
 * then (layer, r, c). Twin of sift_order.wgsl's ranking (and readFeatures' order).
 */
export function orderCompare(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (const f of [KP.octave, KP.y, KP.x, KP.size, KP.angle, KP.response, KP.layer, KP.r, KP.c]) if (a[f] !== b[f]) return a[f] - b[f];
  return 0;
}

/**
 * RootSIFT of one descriptor as sift_order.wgsl computes it in f32: the L1 norm summed in index
 * order, then sqrt(|d| / l1) per component (zeros when l1 = 0).
 */
export function rootSiftF32Ref(d: Float32Array): Float32Array {
  let l1 = 0;
  for (let k = 0; k < 128; k++) l1 = Math.fround(l1 + Math.abs(d[k]));
  const out = new Float32Array(128);
  if (l1 > 0) for (let k = 0; k < 128; k++) out[k] = Math.fround(Math.sqrt(Math.fround(Math.abs(d[k]) / l1)));
  return out;
}

/**
 * Twin of sift_order.wgsl for one image: its records (any order) and their descriptors -> the
 * records in canonical order and the descriptors (RootSIFT when asked) in the same order.
 */
export function orderRef(
  records: Float32Array[],
  desc: Float32Array[],
  rootSift: boolean,
): { records: Float32Array[]; desc: Float32Array[] } {
  const idx = records.map((_, i) => i).sort((i, j) => orderCompare(records[i], records[j]));
  return { records: idx.map((i) => records[i]), desc: idx.map((i) => (rootSift ? rootSiftF32Ref(desc[i]) : desc[i])) };
}
