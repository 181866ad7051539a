// Small inline-SVG charts for the report: a (stacked) histogram with a shaded band, a line chart
// (linear or log y) and a horizontal bar chart. Each returns one <svg> element as a string, sized
// by its viewBox (it scales with the page), with classes the report's stylesheet colours and
// data-* attributes that tests read. Labels are HTML-escaped.
import { esc, fmt } from "./html.js";

/** Colours of series, in order (colour-blind friendly: Okabe-Ito). */
export const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"];

/** Up to ~n round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, n);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Tick values for a log axis over [lo, hi] (lo > 0): powers of ten, plus 2x and 5x when the range is under two decades. */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi > 0)) return [];
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const mults = Math.log10(hi / lo) <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = a; e <= b; e++)
    for (const m of mults) {
      const t = Number((m * 10 ** e).toPrecision(12));
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(t);
    }
  return ticks;
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const FRAME: Frame = { width: 640, height: 260, left: 56, right: 16, top: 16, bottom: 40 };

function svgOpen(cls: string, f: Frame, extra = ""): string {
  return `<svg class="chart ${cls}" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" role="img"${extra}>`;
}

/** Axis lines, tick marks and labels; sx/sy map data to px. */
function axes(
  f: Frame,
  xTicks: number[],
  yTicks: number[],
  sx: (x: number) => number,
  sy: (y: number) => number,
  xLabel: string,
  yLabel: string,
  xFmt: (x: number) => string = (x) => fmt(x, 3),
  yFmt: (y: number) => string = (y) => fmt(y, 3),
): string {
  const x0 = f.left;
  const x1 = f.width - f.right;
  const y0 = f.height - f.bottom;
  const y1 = f.top;
  let s = `<g class="axes"><line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}"/><line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}"/>`;
  for (const t of xTicks) {
    const x = r1(sx(t));
    s += `<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + 4}"/><text class="tick" x="${x}" y="${y0 + 16}" text-anchor="middle">${esc(xFmt(t))}</text>`;
  }
  for (const t of yTicks) {
    const y = r1(sy(t));
    s += `<line class="grid" x1="${x0}" y1="${y}" x2="${x1}" y2="${y}"/><text class="tick" x="${x0 - 6}" y="${y + 4}" text-anchor="end">${esc(yFmt(t))}</text>`;
  }
  if (xLabel) s += `<text class="label" x="${(x0 + x1) / 2}" y="${f.height - 4}" text-anchor="middle">${esc(xLabel)}</text>`;
  if (yLabel)
    s += `<text class="label" x="12" y="${(y0 + y1) / 2}" text-anchor="middle" transform="rotate(-90 12 ${(y0 + y1) / 2})">${esc(yLabel)}</text>`;
  return `${s}</g>`;
}

/** [min, max] of values without spreading them into arguments (long arrays overflow the stack). */
function extent(values: number[]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

const r1 = (v: number) => Math.round(v * 10) / 10;

export interface HistogramSeries {
  label: string;
  values: number[];
}

export interface HistogramOptions {
  bins?: number; // number of equal-width bins over [lo, hi] (default 20)
  lo?: number; // default 0
  hi?: number; // default 1
  band?: [number, number] | null; // shaded interval (e.g. the keep band)
  bandLabel?: string;
  xLabel?: string;
  yLabel?: string;
  xFmt?: (x: number) => string;
}

/** Bin counts of values over [lo, hi] in `bins` equal bins (hi itself falls in the last bin; values outside are dropped). */
export function binCounts(values: number[], bins: number, lo: number, hi: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v) || v < lo || v > hi) continue;
    counts[Math.min(bins - 1, Math.floor(((v - lo) * bins) / (hi - lo)))]++;
  }
  return counts;
}

/**
 * A histogram of one or more series stacked per bin (series i drawn in PALETTE[i]), with an
 * optional shaded band. Each bar is <rect class="bar" data-series data-bin data-count>.
 */
export function histogram(series: HistogramSeries[], opts: HistogramOptions = {}): string {
  const bins = opts.bins ?? 20;
  const lo = opts.lo ?? 0;
  const hi = opts.hi ?? 1;
  const f = FRAME;
  const counts = series.map((s) => binCounts(s.values, bins, lo, hi));
  const totals = counts[0]?.map((_, b) => counts.reduce((a, c) => a + c[b], 0)) ?? [];
  const maxCount = Math.max(1, extent(totals)[1]);
  const yTicks = niceTicks(0, maxCount, 4).filter((t) => Number.isInteger(t));
  const yMax = Math.max(maxCount, yTicks[yTicks.length - 1] ?? 0);
  const sx = (x: number) => f.left + ((x - lo) / (hi - lo)) * (f.width - f.left - f.right);
  const sy = (y: number) => f.height - f.bottom - (y / yMax) * (f.height - f.top - f.bottom);
  let s = svgOpen("histogram", f, ` data-bins="${bins}"`);
  if (opts.band) {
    const a = Math.max(lo, opts.band[0]);
    const b = Math.min(hi, opts.band[1]);
    s += `<rect class="band" x="${r1(sx(a))}" y="${f.top}" width="${r1(sx(b) - sx(a))}" height="${f.height - f.top - f.bottom}" data-lo="${a}" data-hi="${b}"><title>${esc(opts.bandLabel ?? "band")}</title></rect>`;
  }
  const base = new Array<number>(bins).fill(0);
  series.forEach((ser, i) => {
    const colour = PALETTE[i % PALETTE.length];
    for (let b = 0; b < bins; b++) {
      const c = counts[i][b];
      if (c === 0) continue;
      const x = sx(lo + (b * (hi - lo)) / bins);
      const w = sx(lo + ((b + 1) * (hi - lo)) / bins) - x;
      const yTop = sy(base[b] + c);
      const h = sy(base[b]) - yTop;
      base[b] += c;
      const range = `${fmt(lo + (b * (hi - lo)) / bins, 3)}..${fmt(lo + ((b + 1) * (hi - lo)) / bins, 3)}`;
      s += `<rect class="bar" fill="${colour}" x="${r1(x + 0.5)}" y="${r1(yTop)}" width="${r1(Math.max(0.5, w - 1))}" height="${r1(h)}" data-series="${i}" data-bin="${b}" data-count="${c}"><title>${esc(ser.label)} ${esc(range)}: ${c}</title></rect>`;
    }
  });
  s += axes(f, niceTicks(lo, hi, 10), yTicks, sx, sy, opts.xLabel ?? "", opts.yLabel ?? "count", opts.xFmt);
  s += legend(
    f,
    series.map((x) => x.label),
    opts.band ? (opts.bandLabel ?? "band") : null,
  );
  return `${s}</svg>`;
}

function legend(f: Frame, labels: string[], bandLabel: string | null): string {
  if (labels.length < 2 && !bandLabel) return "";
  let s = `<g class="legend">`;
  let y = f.top + 10;
  const x = f.width - f.right - 150;
  labels.forEach((l, i) => {
    s += `<rect x="${x}" y="${y - 8}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 14}" y="${y + 1}">${esc(l)}</text>`;
    y += 15;
  });
  if (bandLabel)
    s += `<rect class="band" x="${x}" y="${y - 8}" width="10" height="10"/><text x="${x + 14}" y="${y + 1}">${esc(bandLabel)}</text>`;
  return `${s}</g>`;
}

export interface LineSeries {
  label: string;
  points: Array<[number, number]>; // (x, y)
}

export interface LineChartOptions {
  logY?: boolean; // log-scale y axis (points with y <= 0 are dropped)
  xLabel?: string;
  yLabel?: string;
}

/** A line chart, one <path class="line" data-series data-points> per series, with a legend. */
export function lineChart(series: LineSeries[], opts: LineChartOptions = {}): string {
  const f = FRAME;
  const logY = opts.logY ?? false;
  const keep = (p: [number, number]) => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!logY || p[1] > 0);
  const clean = series.map((s) => ({ label: s.label, points: s.points.filter(keep) }));
  const xs = clean.flatMap((s) => s.points.map((p) => p[0]));
  const ys = clean.flatMap((s) => s.points.map((p) => p[1]));
  let s = svgOpen("linechart", f, logY ? ` data-log-y="true"` : "");
  if (xs.length === 0) return `${s}<text x="${f.width / 2}" y="${f.height / 2}" text-anchor="middle">no data</text></svg>`;
  let [x0, x1] = extent(xs);
  let [y0, y1] = extent(ys);
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = logY ? [y0 / 2, y1 * 2] : [y0 - 1, y1 + 1];
  const ty = logY ? Math.log10 : (y: number) => y;
  if (!logY) {
    const pad = (y1 - y0) * 0.05;
    y0 = y0 >= 0 && y0 - pad < 0 ? 0 : y0 - pad;
    y1 += pad;
  }
  const [ty0, ty1] = [ty(y0), ty(y1)];
  const sx = (x: number) => f.left + ((x - x0) / (x1 - x0)) * (f.width - f.left - f.right);
  const sy = (y: number) => f.height - f.bottom - ((ty(y) - ty0) / (ty1 - ty0)) * (f.height - f.top - f.bottom);
  const yTicks = logY ? logTicks(y0, y1) : niceTicks(y0, y1, 5).filter((t) => t >= y0 && t <= y1);
  s += axes(
    f,
    niceTicks(x0, x1, 6).filter((t) => t >= x0 && t <= x1),
    yTicks,
    sx,
    sy,
    opts.xLabel ?? "",
    (opts.yLabel ?? "") + (logY ? " (log)" : ""),
  );
  clean.forEach((ser, i) => {
    if (ser.points.length === 0) return;
    const d = ser.points.map((p, k) => `${k === 0 ? "M" : "L"}${r1(sx(p[0]))},${r1(sy(p[1]))}`).join("");
    const colour = PALETTE[i % PALETTE.length];
    s += `<path class="line" d="${d}" stroke="${colour}" fill="none" data-series="${i}" data-points="${ser.points.length}"><title>${esc(ser.label)}</title></path>`;
  });
  s += legend(
    f,
    clean.map((x) => x.label),
    null,
  );
  if (clean.length === 1)
    s += `<text class="legend-single" x="${f.width - f.right}" y="${f.top + 10}" text-anchor="end">${esc(clean[0].label)}</text>`;
  return `${s}</svg>`;
}

export interface Bar {
  label: string;
  value: number;
}

/** A horizontal bar chart, largest first as given, one <rect class="bar" data-value> per item with its label and value. */
export function barChart(items: Bar[], opts: { valueFmt?: (v: number) => string } = {}): string {
  const rowH = 22;
  const labelW = 200;
  const width = 640;
  const height = Math.max(1, items.length) * rowH + 8;
  const max = Math.max(0, extent(items.map((b) => b.value))[1]);
  const barMax = width - labelW - 80;
  const vf = opts.valueFmt ?? ((v: number) => fmt(v));
  let s = `<svg class="chart barchart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`;
  items.forEach((b, i) => {
    const y = 4 + i * rowH;
    const w = max > 0 ? (Math.max(0, b.value) / max) * barMax : 0;
    s += `<text class="tick" x="${labelW - 6}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`;
    s += `<rect class="bar" fill="${PALETTE[0]}" x="${labelW}" y="${y + 3}" width="${r1(w)}" height="${rowH - 6}" data-value="${b.value}"><title>${esc(b.label)}: ${esc(vf(b.value))}</title></rect>`;
    s += `<text class="tick" x="${r1(labelW + w + 6)}" y="${y + 15}">${esc(vf(b.value))}</text>`;
  });
  return `${s}</svg>`;
}
