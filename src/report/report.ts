// `mimic report <dir>`: one self-contained report.html from a demo folder. Every part is optional;
// a missing part shows as "not run". Images are embedded as data: URIs, plots are inline SVG, and a
// small inline script draws the hover highlight of patch correspondences, so the file works offline
// and can be mailed around. Everything read from files is HTML-escaped.
//
// The folder it reads (each part optional; ReportOptions names other places for each part):
//   <dir>/mined/        pairs.jsonl, stats.json, config.json, candidates.jsonl (all candidates' overlaps)
//   <dir>/train/<run>/  metrics.jsonl ({step, loss, lr, imgPerSec, epoch?} per line), config.json,
//                       recon-<step>.png or checkpoint-<step>.recon.png
//   <dir>/probe/<encoder>-<task>/metrics.json (+ predictions.png)   task: depth | seg
//   <dir>/eval-mining.json   {precision, recall, ...} or {<preset>: {precision, recall, ...}}
//   <dir>/env.json           {adapter, node, mimicKit, ffmpeg, configHashes, ...}
import fs from "node:fs";
import path from "node:path";
import type { PairRecord } from "../contracts.js";
import { entriesOf, isInside, notALink, outsideInputs } from "../io/outdir.js";
import type { MineStats } from "../mine/card.js";
import type { MineConfig } from "../mine/config.js";
import type { CandidateLine, DatasetConfigFile } from "../mine/writer.js";
import type { DepthMetrics, ImageStats, SegMetrics } from "../probe/metrics.js";
import type { ProbeResult } from "../probe/pipeline.js";
import { compareProbeRuns } from "../probe/stats.js";
import type { EvalMiningResult } from "../synth/eval.js";
import type { MetricsLine } from "../train/loop.js";
import type { TrainRunConfig } from "../train/run_config.js";
import { packageVersion } from "../version.js";
import { esc, fmt, fmtValue, imageDataUri, kvTable, table } from "./html.js";
import { barChart, histogram, lineChart } from "./svg.js";

/** ok: shown; not run: its input is missing; empty: the input is there but has nothing to show (or is unreadable, see notes). */
export type SectionStatus = "ok" | "not run" | "empty";

export interface ReportSection {
  id: string;
  title: string;
  status: SectionStatus;
  /** Problems met while reading this section's inputs (bad lines, missing images), for humans. */
  notes: string[];
}

export interface ReportOptions {
  /** Mined pairs shown in the gallery, picked evenly over pairs.jsonl (default 24). */
  maxPairs?: number;
  /** Reconstruction images per training run, first and last included (default 4). */
  maxRecons?: number;
  /** The mined dataset folder (default <dir>/mined). */
  mined?: string;
  /** Training run folders (default every folder in <dir>/train). */
  runs?: string[];
  /** Probe output folders, named <encoder>-<task> (default every folder in <dir>/probe). */
  probes?: string[];
}

/** Where a report looks for each part: explicit options first, else the demo/tour layout under `dir`. */
export interface ReportInputs {
  mined: string | null;
  runs: string[] | { dir: string };
  probes: string[] | { dir: string };
  evalMining: string[];
  env: string | null;
}

export function reportInputs(dir: string | undefined, opts: ReportOptions = {}): ReportInputs {
  const mined = opts.mined ?? (dir ? path.join(dir, "mined") : null);
  return {
    mined,
    runs: opts.runs ?? { dir: dir ? path.join(dir, "train") : "" },
    probes: opts.probes ?? { dir: dir ? path.join(dir, "probe") : "" },
    // mimic eval-mining writes <mined>/eval-mining.json by default; a demo may put it at the top.
    evalMining: [...(dir ? [path.join(dir, "eval-mining.json")] : []), ...(mined ? [path.join(mined, "eval-mining.json")] : [])],
    env: dir ? path.join(dir, "env.json") : null,
  };
}

/**
 * What a report reads: the entries of the mined, run and probe folders (but an earlier report.html
 * there), eval-mining.json and env.json. The report file may be none of them, nor lie inside one.
 */
export function reportInputPaths(dir: string | undefined, opts: ReportOptions = {}): string[] {
  const i = reportInputs(dir, opts);
  const dirs = (x: string[] | { dir: string }) => (Array.isArray(x) ? x : [x.dir]);
  const folders = [i.mined, ...dirs(i.runs), ...dirs(i.probes)].filter((p): p is string => !!p);
  return [...folders.flatMap((d) => entriesOf(d, "report.html")), ...i.evalMining, ...(i.env ? [i.env] : [])];
}

/** Sections whose input was found: a report with none of them has nothing to show. */
export const CONTENT_SECTIONS = ["pairs", "overlap", "mining", "training", "reconstructions", "probe", "eval-mining"];

export interface Report {
  html: string;
  sections: ReportSection[];
}

// ---------------------------------------------------------------------------------------------
// Reading inputs: never throw on a bad file; record a note instead.

type Json = Record<string, unknown>;

/**
 * A stage's JSON as read back: the fields of the type the stage writes it with (MineStats,
 * PairRecord, MetricsLine, ProbeResult, ...), so a renamed field is a compile error here rather
 * than a blank cell; each value stays `unknown` until num() / obj() / a type check reads it, since
 * the file may be hand-made, older or damaged.
 */
type Read<T> = { [K in keyof T]?: unknown };

function readJson<T = Json>(file: string, notes: string[]): Read<T> | null {
  if (!fs.existsSync(file)) return null;
  try {
    const v = JSON.parse(fs.readFileSync(file, "utf8"));
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Read<T>;
    notes.push(`${file}: expected a JSON object`);
  } catch (e) {
    notes.push(`${file}: ${(e as Error).message}`);
  }
  return null;
}

function readJsonl<T = Json>(file: string, notes: string[]): Read<T>[] | null {
  if (!fs.existsSync(file)) return null;
  const rows: Read<T>[] = [];
  let bad = 0;
  let firstBad = 0;
  const lines = fs.readFileSync(file, "utf8").split("\n");
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const v = JSON.parse(line);
      if (v && typeof v === "object" && !Array.isArray(v)) rows.push(v as Read<T>);
      else throw new Error("not an object");
    } catch {
      if (bad++ === 0) firstBad = i + 1;
    }
  });
  if (bad) notes.push(`${file}: ${bad} unreadable line(s), the first at line ${firstBad}; skipped`);
  return rows;
}

const minOf = (a: number[]) => a.reduce((x, y) => Math.min(x, y), Number.POSITIVE_INFINITY);
const maxOf = (a: number[]) => a.reduce((x, y) => Math.max(x, y), Number.NEGATIVE_INFINITY);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Json | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null);
/** A nested object of a stage's JSON, read as its type's fields. */
const objOf = <T>(v: unknown): Read<T> | null => obj(v) as Read<T> | null;
const isDir = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();

// ---------------------------------------------------------------------------------------------
// The page.

interface Built {
  section: ReportSection;
  body: string;
  /** Lines for the summary at the top (HTML, escaped already). */
  summary?: string[];
}

function section(id: string, title: string): ReportSection {
  return { id, title, status: "ok", notes: [] };
}

function notRun(s: ReportSection, what: string): Built {
  s.status = "not run";
  return { section: s, body: `<p class="notrun">not run: ${what}</p>` };
}

/**
 * Build the report of a demo/tour folder, or of the parts `opts` names (then `dir` may be
 * undefined). Throws only if `dir` is given and is not a folder.
 */
export async function buildReport(dir: string | undefined, opts: ReportOptions = {}): Promise<Report> {
  if (dir !== undefined && !isDir(dir))
    throw new Error(`report: ${dir} is not a folder. Fix: pass the folder that mimic demo (or mine/train/probe) wrote`);
  const inputs = reportInputs(dir, opts);
  const mined = readMined(inputs.mined ?? "");
  const parts: Built[] = [
    pairsSection(mined, opts.maxPairs ?? 24),
    overlapSection(mined),
    miningSection(mined),
    ...trainingSections(inputs.runs, opts.maxRecons ?? 4),
    probeSection(inputs.probes),
    evalMiningSection(inputs.evalMining.find((f) => fs.existsSync(f)) ?? inputs.evalMining[0] ?? ""),
    environmentSection(inputs.env, mined),
  ];
  const sections = parts.map((p) => p.section);
  const html = page(dir ?? inputs.mined ?? "report", parts);
  return { html, sections };
}

/** What `reportInputs` looks for, in words (for "nothing found" messages). */
export function describeInputs(dir: string | undefined, opts: ReportOptions = {}): string[] {
  const i = reportInputs(dir, opts);
  const where = (x: string[] | { dir: string }, what: string) =>
    Array.isArray(x) ? x.map((d) => `${d}/${what}`) : x.dir ? [`${x.dir}/*/${what}`] : [];
  return [
    ...(i.mined ? [`${i.mined}/pairs.jsonl, stats.json, candidates.jsonl`] : []),
    ...where(i.runs, "metrics.jsonl"),
    ...where(i.probes, "metrics.json"),
    ...i.evalMining,
  ];
}

/** Write the report (default <dir>/report.html). Returns the file written and the sections. */
export async function writeReport(
  dir: string | undefined,
  out?: string,
  opts: ReportOptions = {},
): Promise<{ out: string; sections: ReportSection[] }> {
  if (out === undefined && dir === undefined) throw new Error("report: say where to write it (--out) when no folder is given");
  const file = out ?? path.join(dir as string, "report.html");
  outsideInputs(file, reportInputPaths(dir, opts));
  notALink(file);
  const r = await buildReport(dir, opts);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, r.html);
  return { out: file, sections: r.sections };
}

function page(dir: string, parts: Built[]): string {
  const name = path.basename(path.resolve(dir));
  const nav = parts
    .map(
      (p) =>
        `<li><a href="#${esc(p.section.id)}">${esc(p.section.title)}</a> <span class="status ${p.section.status === "ok" ? "ok" : "missing"}">${esc(p.section.status)}</span></li>`,
    )
    .join("");
  const body = parts
    .map((p) => {
      const notes = p.section.notes.length ? `<ul class="notes">${p.section.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : "";
      return `<section id="${esc(p.section.id)}" data-status="${esc(p.section.status)}"><h2>${esc(p.section.title)}</h2>\n${notes}${p.body}</section>`;
    })
    .join("\n");
  const summary = parts
    .flatMap((p) => p.summary ?? [])
    .map((l) => `<li>${l}</li>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>mimic-kit report: ${esc(name)}</title>
<style>${CSS}</style></head>
<body>
<header><h1>mimic-kit report: ${esc(name)}</h1><p class="sub">mine multi-view pairs, pretrain CroCo/MAE, probe depth and segmentation. mimic-kit ${esc(packageVersion())}</p>
<nav><ul>${nav}</ul></nav></header>
<main>
${summary ? `<section id="summary"><h2>At a glance</h2><ul class="summary">${summary}</ul></section>` : ""}
${body}
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}

// ---------------------------------------------------------------------------------------------
// Mined dataset: gallery, overlap histogram, stats.

interface Mined {
  dir: string;
  present: boolean;
  notes: string[];
  pairs: Read<PairRecord>[] | null;
  stats: Read<MineStats> | null;
  config: Read<MineConfig> | null; // the mining config (stats.config or config.json's config)
  configFile: Read<DatasetConfigFile> | null;
  candidates: Read<CandidateLine>[] | null;
  size: number;
  patch: number;
  band: [number, number] | null; // keep band as fractions
}

function readMined(dir: string): Mined {
  const notes: string[] = [];
  const present = isDir(dir);
  const pairs = present ? readJsonl<PairRecord>(path.join(dir, "pairs.jsonl"), notes) : null;
  const stats = present ? readJson<MineStats>(path.join(dir, "stats.json"), notes) : null;
  const configFile = present ? readJson<DatasetConfigFile>(path.join(dir, "config.json"), notes) : null;
  const candidates = present ? readJsonl<CandidateLine>(path.join(dir, "candidates.jsonl"), notes) : null;
  // Overlaps are fractions; a writer that used percent (any value > 1) is read as percent.
  for (const [rows, name] of [
    [pairs, "pairs.jsonl"],
    [candidates, "candidates.jsonl"],
  ] as const)
    if (rows?.some((r) => (num(r.overlap) ?? 0) > 1)) {
      for (const r of rows) if (num(r.overlap) !== null) r.overlap = (r.overlap as number) / 100;
      notes.push(`${path.join(dir, name)}: overlaps above 1 read as percent (the format is a fraction 0..1)`);
    }
  const config = objOf<MineConfig>(stats?.config) ?? objOf<MineConfig>(configFile?.config);
  const size = num(config?.size) ?? 224;
  const patch = num(config?.patch) ?? 16;
  const lo = num(config?.overlapLower);
  const hi = num(config?.overlapUpper);
  // The mining config gives the band in percent (50, 75); overlaps are fractions.
  const band: [number, number] | null = lo !== null && hi !== null ? (hi > 1 ? [lo / 100, hi / 100] : [lo, hi]) : null;
  return { dir, present, notes, pairs, stats, config, configFile, candidates, size, patch, band };
}

/** `n` items spread evenly over `items` (all of them if there are fewer). */
function spread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  if (n <= 1) return items.slice(0, n);
  return Array.from({ length: n }, (_, i) => items[Math.round((i * (items.length - 1)) / (n - 1))]);
}

const DISPLAY = 224; // px of one view on the page
const GAP = 12; // px between the two views

function pairsSection(m: Mined, maxPairs: number): Built {
  const s = section("pairs", "Mined pairs");
  if (!m.present) return notRun(s, "no mined/ folder");
  if (!m.pairs) return notRun(s, "no mined/pairs.jsonl");
  s.notes.push(...m.notes.filter((n) => n.includes("pairs.jsonl")));
  if (m.pairs.length === 0) {
    s.status = "empty";
    return { section: s, body: "<p>pairs.jsonl has no pairs (every candidate was rejected; see the rejection reasons).</p>" };
  }
  const grid = Math.floor(m.size / m.patch);
  const shown = spread(m.pairs, maxPairs);
  const figs = shown.map((rec, i) => pairFigure(m, rec, i, grid, s.notes)).join("\n");
  const body = `<p>${fmt(shown.length)} of ${fmt(m.pairs.length)} pairs (picked evenly over pairs.jsonl). ${grid}x${grid} patches of ${m.patch} px at ${m.size} px; tinted patches have a partner in the other view. Hover a patch to see its partner.</p>
<div class="gallery">${figs}</div>`;
  return { section: s, body };
}

function pairFigure(m: Mined, rec: Read<PairRecord>, index: number, grid: number, notes: string[]): string {
  const scale = DISPLAY / m.size; // page px per image px
  const cell = m.patch * scale;
  const n = grid * grid;
  const img = (p: unknown, cls: string) => {
    const rel = typeof p === "string" ? p : "";
    // Only files inside mined/ are embedded (a manifest cannot pull other files into a shared report).
    const file = path.resolve(m.dir, rel);
    const inside = isInside(m.dir, file) && file !== path.resolve(m.dir); // after following symlinks
    const uri = rel && inside ? imageDataUri(file) : null;
    if (!uri) {
      notes.push(`pair ${String(rec.id)}: cannot read image '${rel}' under ${m.dir}`);
      return `<div class="${cls} missing">missing image ${esc(rel)}</div>`;
    }
    return `<img class="${cls}" src="${uri}" alt="${esc(rel)}" width="${DISPLAY}" height="${DISPLAY}">`;
  };
  // Correspondences: view-1 patch a -> view-2 patch b (many a may share one b).
  const corr: Array<[number, number]> = [];
  for (const [k, v] of Object.entries(obj(rec.correspondence) ?? {})) {
    const a = Number(k);
    const b = Number(v);
    if (Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a < n && b >= 0 && b < n) corr.push([a, b]);
  }
  const partners2 = new Map<number, number[]>();
  for (const [a, b] of corr) partners2.set(b, [...(partners2.get(b) ?? []), a]);
  const rect = (view: 1 | 2, p: number, partners: number[]) => {
    const x = (view === 1 ? 0 : DISPLAY + GAP) + (p % grid) * cell;
    const y = Math.floor(p / grid) * cell;
    const other = view === 1 ? "b" : "a";
    return `<rect class="patch v${view}" x="${r2(x)}" y="${r2(y)}" width="${r2(cell)}" height="${r2(cell)}" data-k="${view === 1 ? "a" : "b"}${p}" data-partners="${partners.map((q) => other + q).join(" ")}"/>`;
  };
  const center = (view: 1 | 2, p: number): [number, number] => [
    r2((view === 1 ? 0 : DISPLAY + GAP) + ((p % grid) + 0.5) * cell),
    r2((Math.floor(p / grid) + 0.5) * cell),
  ];
  // A few correspondences drawn as lines, so the pairing shows without hovering.
  const lines = spread(corr, 10)
    .map(([a, b]) => {
      const [x1, y1] = center(1, a);
      const [x2, y2] = center(2, b);
      return `<line class="corr" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>`;
    })
    .join("");
  const rects = corr.map(([a, b]) => rect(1, a, [b])).join("") + [...partners2].map(([b, as]) => rect(2, b, as)).join("");
  const w = 2 * DISPLAY + GAP;
  const overlap = num(rec.overlap);
  const caption = [
    `<b>${esc(rec.id)}</b>`,
    `${esc(rec.video)} t=${esc(fmt(num(rec.t1), 4))}s → ${esc(fmt(num(rec.t2), 4))}s`,
    `overlap ${overlap === null ? "—" : `${fmt(overlap * 100, 3)}%`}, ${esc(fmt(num(rec.inliers)))} inliers, ${corr.length} patch correspondences`,
  ].join("<br>");
  return `<figure class="pair" id="pair-${index}" data-grid="${grid}">
<div class="views" style="width:${w}px;height:${DISPLAY}px">${img(rec.path1, "v1")}${img(rec.path2, "v2")}<svg class="overlay" viewBox="0 0 ${w} ${DISPLAY}" width="${w}" height="${DISPLAY}"><g class="lines">${lines}</g><g class="patches">${rects}</g><g class="links"></g></svg></div>
<figcaption>${caption}<br><span class="hover-info">&nbsp;</span></figcaption></figure>`;
}

const r2 = (v: number) => Math.round(v * 100) / 100;

function overlapSection(m: Mined): Built {
  const s = section("overlap", "Overlap histogram");
  if (!m.present) return notRun(s, "no mined/ folder");
  const band = m.band;
  const bandLabel = band ? `keep band ${fmt(band[0] * 100, 3)}–${fmt(band[1] * 100, 3)}%` : "";
  const xFmt = (x: number) => `${fmt(x * 100, 3)}%`;
  if (m.candidates) {
    s.notes.push(...m.notes.filter((n) => n.includes("candidates.jsonl")));
    const kept: number[] = [];
    const rejected: number[] = [];
    let noH = 0;
    for (const c of m.candidates) {
      const o = num(c.overlap);
      if (o === null) noH++;
      else (c.kept === true ? kept : rejected).push(o);
    }
    if (kept.length + rejected.length + noH === 0) {
      s.status = "empty";
      return { section: s, body: "<p>candidates.jsonl is empty.</p>" };
    }
    const svg = histogram(
      [
        { label: "kept", values: kept },
        { label: "rejected", values: rejected },
      ],
      { bins: 25, band, bandLabel, xLabel: "overlap (fraction of patches with a partner)", xFmt },
    );
    return {
      section: s,
      body: `<p>All ${fmt(m.candidates.length)} candidate pairs: ${fmt(kept.length)} kept, ${fmt(rejected.length)} rejected with an overlap, ${fmt(noH)} without a homography (not drawn).${band ? ` Shaded: the ${esc(bandLabel)}.` : ""}</p>${svg}`,
    };
  }
  if (!m.pairs || m.pairs.length === 0) return notRun(s, "no mined/candidates.jsonl and no kept pairs");
  s.notes.push("mined/candidates.jsonl not found: the histogram shows kept pairs only (all inside the band by construction)");
  const svg = histogram([{ label: "kept pairs", values: m.pairs.map((p) => num(p.overlap)).filter((x): x is number => x !== null) }], {
    bins: 25,
    band,
    bandLabel,
    xLabel: "overlap (fraction of patches with a partner)",
    xFmt,
  });
  return { section: s, body: svg };
}

function miningSection(m: Mined): Built {
  const s = section("mining", "Mining: counts, rejection reasons, throughput");
  if (!m.present) return notRun(s, "no mined/ folder");
  const st = m.stats;
  s.notes.push(...m.notes.filter((n) => n.includes("stats.json") || n.includes("config.json")));
  // Rejection reasons: stats.json, else counted from candidates.jsonl.
  let rejected = obj(st?.rejected);
  if (!rejected && m.candidates) {
    const r: Record<string, number> = {};
    for (const c of m.candidates) if (c.kept !== true) r[String(c.reason ?? "unknown")] = (r[String(c.reason ?? "unknown")] ?? 0) + 1;
    rejected = r;
  }
  if (!st && !rejected) return notRun(s, "no mined/stats.json");
  let body = "";
  if (st) {
    const candidates = num(st.candidates);
    const kept = num(st.kept);
    body += `<h3>Counts</h3>${kvTable([
      ["source", st.source],
      ["config hash", st.configHash],
      ["videos (done / failed)", `${fmt(num(st.videos))} (${fmt(num(st.done))} / ${fmt(num(st.failed))})`],
      ["frames sampled", num(st.frames)],
      ["candidate pairs", candidates],
      ["kept pairs", kept],
      ["keep rate", candidates && kept !== null ? `${fmt((100 * kept) / candidates, 3)}%` : null],
    ])}`;
    const run = objOf<MineStats["run"]>(st.run);
    if (run)
      body += `<h3>Throughput</h3>${kvTable([
        ["wall time", num(run.seconds) === null ? null : `${fmt(num(run.seconds), 4)} s`],
        ["candidate pairs / s", num(run.candidatesPerSec)],
        ["frames / s", num(run.framesPerSec)],
        ["adapter", st.adapter],
      ])}`;
  }
  if (rejected) {
    const bars = Object.entries(rejected)
      .map(([label, v]) => ({ label, value: num(v) ?? 0 }))
      .sort((a, b) => b.value - a.value);
    body += `<h3>Rejection reasons</h3>${bars.length ? barChart(bars) : "<p>none: every candidate was kept.</p>"}`;
  }
  const cfg = m.config;
  if (cfg) body += `<details><summary>mining config</summary>${kvTable(Object.entries(cfg))}</details>`;
  type Failure = MineStats["failures"][number];
  const failures = Array.isArray(st?.failures)
    ? (st.failures as unknown[]).map((f) => objOf<Failure>(f)).filter((f): f is Read<Failure> => f !== null)
    : [];
  if (failures.length)
    body += `<h3>Failed videos</h3>${table(
      ["video", "error"],
      failures.slice(0, 50).map((f) => [esc(f.video), esc(f.error)]),
    )}${failures.length > 50 ? `<p>... and ${failures.length - 50} more</p>` : ""}`;
  const summary: string[] = [];
  if (st) {
    const rate = num(objOf<MineStats["run"]>(st.run)?.candidatesPerSec);
    summary.push(
      `mined <b>${esc(fmt(num(st.kept)))}</b> pairs from ${esc(fmt(num(st.candidates)))} candidate pairs in ${esc(fmt(num(st.videos)))} videos${rate === null ? "" : ` (${esc(fmt(rate, 3))} candidate pairs/s)`}`,
    );
  }
  return { section: s, body, summary };
}

// ---------------------------------------------------------------------------------------------
// Training: loss curves and reconstructions.

interface Run {
  name: string;
  dir: string;
  metrics: Read<MetricsLine>[];
  config: Read<TrainRunConfig> | null;
  recons: Array<{ step: number; file: string }>;
}

function trainingSections(where: string[] | { dir: string }, maxRecons: number): Built[] {
  const s = section("training", "Training: loss curves");
  const r = section("reconstructions", "Reconstructions");
  let dirs: string[];
  if (Array.isArray(where)) {
    for (const d of where) if (!isDir(d)) s.notes.push(`${d}: not a folder`);
    dirs = where.filter(isDir);
  } else {
    const trainDir = where.dir;
    if (!trainDir || !isDir(trainDir)) return [notRun(s, "no train/ folder"), notRun(r, "no train/ folder")];
    dirs = fs
      .readdirSync(trainDir)
      .sort()
      .map((name) => path.join(trainDir, name))
      .filter(isDir);
  }
  const runs: Run[] = dirs.map((dir) => {
    const name = path.basename(dir);
    const metrics = readJsonl<MetricsLine>(path.join(dir, "metrics.jsonl"), s.notes) ?? [];
    const config = readJson<TrainRunConfig>(path.join(dir, "config.json"), s.notes);
    const recons = fs
      .readdirSync(dir)
      // recon-<step>.png, or the trainer's checkpoint-<step>.recon.png
      .map((f) => ({ f, m: /^(?:recon-|checkpoint-)(\d+)(?:\.recon)?\.png$/.exec(f) }))
      .filter((x) => x.m)
      .map((x) => ({ step: Number(x.m![1]), file: path.join(dir, x.f) }))
      .sort((a, b) => a.step - b.step);
    return { name, dir, metrics, config, recons };
  });
  if (runs.length === 0) return [notRun(s, "no training run folders"), notRun(r, "no training run folders")];
  return [lossBody(s, runs), reconBody(r, runs, maxRecons)];
}

/** Points per loss curve at most (longer logs are thinned evenly, the last point kept). */
const MAX_POINTS = 2000;

function lossBody(s: ReportSection, runs: Run[]): Built {
  const series = runs.map((run) => ({
    label: run.name,
    points: run.metrics
      .map((x) => [num(x.step), num(x.loss)] as [number | null, number | null])
      .filter((p): p is [number, number] => p[0] !== null && p[1] !== null)
      .filter((_, i, a) => a.length <= MAX_POINTS || i % Math.ceil(a.length / MAX_POINTS) === 0 || i === a.length - 1),
  }));
  const all = series.flatMap((x) => x.points.map((p) => p[1]));
  if (all.length === 0) s.status = "empty";
  const positive = all.filter((y) => y > 0);
  const logY = positive.length === all.length && all.length > 0 && maxOf(positive) / minOf(positive) > 10;
  const rows = runs.map((run) => {
    const c: Read<TrainRunConfig> = run.config ?? {};
    const losses = run.metrics.map((x) => num(x.loss)).filter((x): x is number => x !== null);
    const tail = losses.slice(Math.floor(losses.length * 0.9));
    const ips = run.metrics.map((x) => num(x.imgPerSec)).filter((x): x is number => x !== null);
    const lastStep = run.metrics.length ? num(run.metrics[run.metrics.length - 1].step) : null;
    return [
      esc(run.name),
      esc(fmtValue(c.objective ?? null)),
      esc(fmtValue(c.model ?? null)),
      `${esc(fmt(lastStep))} / ${esc(fmt(num(c.steps)))}`,
      esc(fmtValue(c.batch ?? null)),
      esc(fmtValue(c.blr ?? null)),
      esc(fmt(tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : null)),
      esc(fmt(losses.length ? minOf(losses) : null)),
      esc(fmt(ips.length ? ips.reduce((a, b) => a + b, 0) / ips.length : null, 3)),
    ];
  });
  const configs = runs
    .filter((run) => run.config)
    .map(
      (run) => `<details><summary>${esc(run.name)}: config.json</summary><pre>${esc(JSON.stringify(run.config, null, 2))}</pre></details>`,
    )
    .join("");
  const summary = runs.map((run, i) => `${esc(run.name)}: final loss ${rows[i][6]} after ${esc(fmt(num(run.metrics.at(-1)?.step)))} steps`);
  const body = `${lineChart(series, { logY, xLabel: "step", yLabel: "loss" })}
${table(["run", "objective", "model", "last step / steps", "batch", "blr", "final loss (mean of last 10%)", "min loss", "img/s"], rows)}${configs}`;
  return { section: s, body, summary: summary.length ? [`training: ${summary.join("; ")}`] : [] };
}

function reconBody(s: ReportSection, runs: Run[], maxRecons: number): Built {
  const withRecons = runs.filter((r) => r.recons.length);
  if (withRecons.length === 0) {
    s.status = "empty";
    return { section: s, body: "<p>no recon-&lt;step&gt;.png in any run folder.</p>" };
  }
  const body = withRecons
    .map((run) => {
      const figs = spread(run.recons, maxRecons)
        .map((rc) => {
          const uri = isInside(run.dir, rc.file) ? imageDataUri(rc.file) : null; // a symlink out of the run is not embedded
          if (!uri) {
            s.notes.push(`${rc.file}: not a readable image`);
            return "";
          }
          return `<figure class="recon"><img src="${uri}" alt="${esc(`${run.name} step ${rc.step}`)}"><figcaption>${esc(run.name)}, step ${fmt(rc.step)}</figcaption></figure>`;
        })
        .join("");
      return `<h3>${esc(run.name)}</h3><p class="sub">masked input / prediction / target</p><div class="recons">${figs}</div>`;
    })
    .join("\n");
  return { section: s, body };
}

// ---------------------------------------------------------------------------------------------
// Probes: one table per task, encoders as rows, best per column bold.

/** A score mimic probe writes (DepthMetrics, SegMetrics): a renamed field is a compile error here. */
type ProbeScore = keyof DepthMetrics | keyof SegMetrics;

/**
 * Known metrics: our field, display name and direction (true = higher is better); other tools'
 * names for the same score (mmseg's aAcc, ...) map to the same column.
 */
const METRICS: Array<{ key: ProbeScore; aliases?: string[]; name: string; higher: boolean }> = [
  { key: "absRel", name: "AbsRel", higher: false },
  { key: "sqRel", name: "SqRel", higher: false },
  { key: "rmse", name: "RMSE", higher: false },
  { key: "rmseLog", name: "RMSE log", higher: false },
  { key: "log10", name: "log10", higher: false },
  { key: "siLog", aliases: ["silog"], name: "SILog", higher: false },
  { key: "delta1", name: "δ<1.25", higher: true },
  { key: "delta2", name: "δ<1.25²", higher: true },
  { key: "delta3", name: "δ<1.25³", higher: true },
  { key: "mIoU", name: "mIoU", higher: true },
  { key: "pixelAccuracy", aliases: ["pixelAcc", "aAcc"], name: "pixel acc", higher: true },
  { key: "meanAccuracy", aliases: ["mAcc"], name: "mean class acc", higher: true },
];
/** Numeric fields that are counts, not scores. */
const NOT_SCORES = new Set(["pixels", "images", "classesCounted", "numClasses", "steps", "seconds"]);
const ENCODER_ORDER = ["croco", "mae", "random", "position"];

function probeSection(where: string[] | { dir: string }): Built {
  const s = section("probe", "Probes: frozen encoder + head");
  let dirs: string[];
  if (Array.isArray(where)) dirs = where;
  else {
    if (!where.dir || !isDir(where.dir)) return notRun(s, "no probe/ folder");
    dirs = fs
      .readdirSync(where.dir)
      .sort()
      .map((name) => path.join(where.dir, name));
  }
  const byTask = new Map<string, Array<{ encoder: string; dir: string; m: Json; ci: Json | null; stats: ImageStats | null }>>();
  for (const dir of dirs) {
    const name = path.basename(dir);
    if (!isDir(dir)) {
      if (Array.isArray(where)) s.notes.push(`${dir}: not a folder`);
      continue;
    }
    const file = readJson<ProbeResult>(path.join(dir, "metrics.json"), s.notes);
    if (!file) {
      if (!fs.existsSync(path.join(dir, "metrics.json"))) s.notes.push(`${dir}: no metrics.json`);
      continue;
    }
    // Either the scores themselves, or mimic probe's result: {task, encoder, metrics: {...}, classNames, ...}.
    const inner = obj(file.metrics);
    const m: Json = inner ? { ...inner, classNames: inner.classNames ?? file.classNames } : (file as Json);
    const cut = name.lastIndexOf("-");
    const encoder = cut > 0 ? name.slice(0, cut) : name;
    const task = typeof file.task === "string" && inner ? file.task : cut > 0 ? name.slice(cut + 1) : "probe";
    // intervals and per-image statistics, as mimic probe writes them
    const ci = obj(objOf<ProbeResult["intervals"]>(file.intervals)?.ci);
    const st = obj(file.imageStats);
    const stats = st && Array.isArray(st.ids) && (st.kind === "depth" || st.kind === "seg") ? (st as unknown as ImageStats) : null;
    byTask.set(task, [...(byTask.get(task) ?? []), { encoder, dir, m, ci, stats }]);
  }
  if (byTask.size === 0) return notRun(s, "no <encoder>-<task>/metrics.json");
  const rank = (e: string) => {
    const i = ENCODER_ORDER.indexOf(e.toLowerCase());
    return i < 0 ? ENCODER_ORDER.length : i;
  };
  let body = "";
  const summary: string[] = [];
  for (const [task, rows] of [...byTask].sort((a, b) => a[0].localeCompare(b[0]))) {
    rows.sort((a, b) => rank(a.encoder) - rank(b.encoder) || a.encoder.localeCompare(b.encoder));
    // Columns: known metrics present in any row, in order, then other numeric fields.
    const cols: Array<{ name: string; higher: boolean | null; get: (m: Json) => number | null; key?: (m: Json) => string | null }> = [];
    const used = new Set<string>();
    for (const metric of METRICS) {
      const k = { ...metric, keys: [metric.key, ...(metric.aliases ?? [])] };
      const present = rows.some((r) => k.keys.some((key) => key in r.m));
      for (const key of k.keys) used.add(key);
      if (present)
        cols.push({
          name: k.name,
          higher: k.higher,
          get: (m) => {
            for (const key of k.keys) if (key in m) return num(m[key]);
            return null;
          },
          key: (m) => k.keys.find((key) => key in m) ?? null,
        });
    }
    const extra = [...new Set(rows.flatMap((r) => Object.keys(r.m)))].filter(
      (key) => !used.has(key) && !NOT_SCORES.has(key) && rows.some((r) => num(r.m[key]) !== null),
    );
    for (const key of extra) cols.push({ name: key, higher: null, get: (m) => num(m[key]) });
    const best = cols.map((c) => {
      const vals = rows.map((r) => c.get(r.m)).filter((v): v is number => v !== null);
      if (c.higher === null || vals.length < 2) return null;
      return c.higher ? Math.max(...vals) : Math.min(...vals);
    });
    const head = ["encoder", ...cols.map((c) => `${esc(c.name)}${c.higher === null ? "" : c.higher ? " ↑" : " ↓"}`)];
    const trs = rows.map((r) => [
      esc(r.encoder),
      ...cols.map((c, i) => {
        const v = c.get(r.m);
        const text = esc(fmt(v, 4));
        const key = c.key?.(r.m);
        const iv = key && r.ci && Array.isArray(r.ci[key]) ? (r.ci[key] as unknown[]).map(num) : null;
        const ci = iv && iv[0] !== null && iv[1] !== null ? ` <span class="ci">[${esc(fmt(iv[0], 3))}, ${esc(fmt(iv[1], 3))}]</span>` : "";
        return (v !== null && best[i] !== null && v === best[i] ? `<b class="best">${text}</b>` : text) + ci;
      }),
    ]);
    body += `<h3>${esc(task)}</h3>${table(head, trs, "probe")}`;
    const paired = pairedTable(rows);
    body += paired.html;
    summary.push(...paired.summary);
    // Headline: the first known metric (AbsRel for depth, mIoU for seg), every encoder, best first.
    const hi = cols.findIndex((c) => c.higher !== null);
    if (hi >= 0) {
      const c = cols[hi];
      const ranked = rows
        .map((r) => ({ e: r.encoder, v: c.get(r.m) }))
        .filter((x): x is { e: string; v: number } => x.v !== null)
        .sort((a, b) => (c.higher ? b.v - a.v : a.v - b.v));
      summary.push(
        `${esc(task)} ${esc(c.name)}${c.higher ? " ↑" : " ↓"}: ${ranked.map((x, i) => (i === 0 ? `<b>${esc(x.e)} ${esc(fmt(x.v, 3))}</b>` : `${esc(x.e)} ${esc(fmt(x.v, 3))}`)).join(", ")}`,
      );
    }
    body += perClassTable(rows);
    const preds = rows
      .map((r) => ({
        r,
        uri:
          fs.existsSync(path.join(r.dir, "predictions.png")) && isInside(r.dir, path.join(r.dir, "predictions.png"))
            ? imageDataUri(path.join(r.dir, "predictions.png"))
            : null,
      }))
      .filter((x) => x.uri);
    if (preds.length)
      body += `<div class="recons">${preds.map((x) => `<figure class="recon"><img src="${x.uri}" alt="${esc(`${x.r.encoder} ${task} predictions`)}"><figcaption>${esc(x.r.encoder)}: predictions</figcaption></figure>`).join("")}</div>`;
  }
  body += `<p class="sub">Bold: best per column (↑ higher is better, ↓ lower is better). [lo, hi]: 95% interval, ${esc(intervalNote(byTask))}. A difference is significant when the 95% interval of the paired difference (both encoders on the same val images, resampled together) excludes 0.</p>`;
  return { section: s, body, summary: summary.map((l) => `probe ${l}`) };
}

/** The interval method as mimic probe described it ("95% CI, percentile bootstrap over N val images, ..."). */
function intervalNote(byTask: Map<string, Array<{ ci: Json | null; dir: string }>>): string {
  for (const rows of byTask.values())
    for (const r of rows) {
      const f = readJson<ProbeResult>(path.join(r.dir, "metrics.json"), []);
      const d = objOf<ProbeResult["intervals"]>(f?.intervals)?.description;
      if (typeof d === "string") return d.replace(/^95% CI, /, "");
    }
  return "not in these metrics.json files";
}

/** Headline metrics compared pairwise, with their direction. */
const PAIRED: Record<string, Array<{ key: ProbeScore; name: string; higher: boolean }>> = {
  depth: [
    { key: "absRel", name: "AbsRel", higher: false },
    { key: "delta1", name: "δ<1.25", higher: true },
  ],
  seg: [
    { key: "mIoU", name: "mIoU", higher: true },
    { key: "pixelAccuracy", name: "pixel acc", higher: true },
  ],
};

/**
 * Every pair of encoders of one task with per-image statistics: the paired bootstrap of the
 * difference (same val images, resampled together; 1000 resamples, seed 0), and whether it is
 * significant. Summary lines say which differences are and are not.
 */
function pairedTable(rows: Array<{ encoder: string; stats: ImageStats | null }>): { html: string; summary: string[] } {
  const have = rows.filter((r) => r.stats);
  if (have.length < 2) return { html: "", summary: [] };
  const trs: string[][] = [];
  const summary: string[] = [];
  for (let i = 0; i < have.length; i++)
    for (let j = i + 1; j < have.length; j++) {
      const a = have[i];
      const b = have[j];
      let cmp: ReturnType<typeof compareProbeRuns>;
      try {
        cmp = compareProbeRuns(b.stats!, a.stats!, { resamples: 1000, seed: 0 });
      } catch (e) {
        trs.push([esc(`${a.encoder} vs ${b.encoder}`), "—", "—", esc((e as Error).message)]);
        continue;
      }
      for (const m of PAIRED[a.stats!.kind] ?? []) {
        const d = cmp.diff[m.key];
        if (!d) continue;
        const better = d.diff > 0 === m.higher ? a.encoder : b.encoder;
        const verdict = d.significant ? `${better} better (significant)` : "no significant difference";
        trs.push([
          esc(`${a.encoder} − ${b.encoder}`),
          esc(m.name),
          `${esc(fmt(d.diff, 3))} <span class="ci">[${esc(fmt(d.ci.lo, 3))}, ${esc(fmt(d.ci.hi, 3))}]</span>`,
          d.significant ? `<b>${esc(verdict)}</b>` : esc(verdict),
        ]);
        if (m === PAIRED[a.stats!.kind][0])
          summary.push(
            `${esc(a.stats!.kind)} ${esc(m.name)}: ${esc(a.encoder)} vs ${esc(b.encoder)}: ${d.significant ? `<b>${esc(better)} better</b>` : "no significant difference"} (${esc(a.encoder)} − ${esc(b.encoder)} = ${esc(fmt(d.diff, 3))} [${esc(fmt(d.ci.lo, 3))}, ${esc(fmt(d.ci.hi, 3))}])`,
          );
      }
    }
  return {
    html: `<p class="sub">Paired differences (row − row on the same val images, 95% interval):</p>${table(["pair", "metric", "difference [95% CI]", "verdict"], trs, "paired")}`,
    summary,
  };
}

/** Per-class IoU (perClassIoU {name: iou} or iou [..] with optional classNames) as a collapsed table. */
function perClassTable(rows: Array<{ encoder: string; m: Json }>): string {
  const per = rows.map((r) => {
    const map = obj(r.m.perClassIoU);
    if (map) return new Map(Object.entries(map).map(([k, v]) => [k, num(v)]));
    if (Array.isArray(r.m.iou)) {
      const names = Array.isArray(r.m.classNames) ? (r.m.classNames as unknown[]) : [];
      return new Map((r.m.iou as unknown[]).map((v, i) => [String(names[i] ?? i), num(v)]));
    }
    return null;
  });
  if (per.every((p) => p === null)) return "";
  const classes = [...new Set(per.flatMap((p) => (p ? [...p.keys()] : [])))];
  const trs = classes.map((c) => [esc(c), ...per.map((p) => esc(fmt(p?.get(c) ?? null, 3)))]);
  return `<details><summary>per-class IoU</summary>${table(["class", ...rows.map((r) => esc(r.encoder))], trs)}</details>`;
}

// ---------------------------------------------------------------------------------------------
// Mining quality against ground truth, and the environment.

function evalMiningSection(file: string): Built {
  const s = section("eval-mining", "Mining quality (against ground truth)");
  const e = readJson<EvalMiningResult>(file, s.notes);
  if (!e) {
    if (s.notes.length) s.status = "empty";
    return s.notes.length ? { section: s, body: "" } : notRun(s, "no eval-mining.json");
  }
  // Either one result ({precision, recall, ...}) or one per preset ({default: {...}, mimic: {...}}).
  type Result = Read<EvalMiningResult>;
  const presets: Array<[string, Result]> =
    "precision" in e || "recall" in e
      ? [["result", e]]
      : Object.entries(e)
          .map(([k, v]) => [k, objOf<EvalMiningResult>(v)] as [string, Result | null])
          .filter((x): x is [string, Result] => x[1] !== null);
  if (presets.length === 0) {
    s.status = "empty";
    return { section: s, body: "<p>eval-mining.json has no results.</p>" };
  }
  const first: Array<keyof EvalMiningResult> = ["precision", "recall", "meanAbsOverlapError", "keepRejectAccuracy", "pairs"];
  const cell = (v: Result, k: string) => (v as Json)[k];
  const keys: string[] = [
    ...first.filter((k) => presets.some(([, v]) => k in v)),
    ...[...new Set(presets.flatMap(([, v]) => Object.keys(v)))].filter(
      (k) => !(first as string[]).includes(k) && presets.some(([, v]) => num(cell(v, k)) !== null),
    ),
  ];
  const rows = presets.map(([name, v]) => [esc(name), ...keys.map((k) => esc(fmtValue(cell(v, k) ?? null)))]);
  const summary = `mining vs ground truth: ${presets.map(([name, v]) => `${esc(name)} precision ${esc(fmt(num(v.precision), 3))} / recall ${esc(fmt(num(v.recall), 3))}`).join("; ")}`;
  return { section: s, body: table(["preset", ...keys.map(esc)], rows), summary: [summary] };
}

/** Nested objects flattened to dotted keys. */
function flatten(o: Json, prefix = "", out: Array<[string, unknown]> = []): Array<[string, unknown]> {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    const inner = obj(v);
    if (inner && Object.keys(inner).length) flatten(inner, key, out);
    else out.push([key, v]);
  }
  return out;
}

function environmentSection(envFile: string | null, m: Mined): Built {
  const s = section("environment", "Environment");
  const env = envFile ? readJson(envFile, s.notes) : null;
  const rows: Array<[string, unknown]> = env ? flatten(env) : [];
  const have = new Set(rows.map((r) => r[0]));
  const add = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && !have.has(k)) rows.push([k, v]);
  };
  add("mined.adapter", m.stats?.adapter);
  add("mined.configHash", m.stats?.configHash ?? m.configFile?.configHash);
  add("report.mimicKit", packageVersion());
  if (!env) {
    s.status = "not run";
    s.notes.push("no env.json: showing what the mined dataset records");
  }
  return { section: s, body: kvTable(rows) };
}

// ---------------------------------------------------------------------------------------------
// Style and the hover script (inline: the report has no external resources).

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#15233b;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:22px}
header .sub{color:#c8d2e0;margin:0 0 8px}nav ul{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:6px 16px}
nav a{color:#fff}.status{font-size:11px;padding:1px 6px;border-radius:8px}.status.ok{background:#2e7d32}.status.missing{background:#8d6e63}
main{padding:8px 24px 40px;max-width:1500px}section{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:8px 16px 16px;margin:16px 0}
h2{font-size:18px;margin:8px 0}h3{font-size:15px;margin:16px 0 6px}.sub{color:#666}.notrun{color:#8d6e63;font-style:italic}
.notes{color:#b45309;font-size:12px}table{border-collapse:collapse;margin:6px 0}th,td{border-bottom:1px solid #e6e6e6;padding:3px 10px;text-align:right}
th:first-child,td:first-child{text-align:left}table.kv thead{display:none}table.kv td{text-align:left}b.best{color:#0b5394}span.ci{color:#666;font-size:85%;white-space:nowrap}
pre{background:#f4f4f4;padding:8px;overflow:auto;font-size:12px}
.gallery{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}figure.pair figcaption{font-size:12px;color:#444;max-width:460px;overflow-wrap:anywhere}
.views{position:relative}.views img,.views .missing{position:absolute;top:0;width:${DISPLAY}px;height:${DISPLAY}px}
.views .v1{left:0}.views .v2{left:${DISPLAY + GAP}px}.views .missing{background:#eee;color:#a00;font-size:12px;overflow:hidden}
svg.overlay{position:absolute;left:0;top:0}
rect.patch{fill:#ffd54f;fill-opacity:.12;stroke:#ffd54f;stroke-opacity:.25;stroke-width:.5;cursor:crosshair}
rect.patch:hover{fill-opacity:.3}rect.patch.hl{fill:#ff1744;fill-opacity:.45;stroke:#fff;stroke-opacity:1;stroke-width:1.5}
rect.patch.partner{fill:#00e5ff}line.corr{stroke:#ffd54f;stroke-width:1;stroke-opacity:.7}g.links line{stroke:#ff1744;stroke-width:2}
svg.overlay.active g.lines{display:none}g.lines,g.links{pointer-events:none}
svg.chart{max-width:100%;height:auto;font-size:11px}svg.chart .axes line{stroke:#888;stroke-width:1}svg.chart .axes line.grid{stroke:#eee}
svg.chart text{fill:#333}svg.chart rect.band{fill:#4caf50;fill-opacity:.15}svg.chart path.line{stroke-width:1.8}
.recons{display:flex;flex-wrap:wrap;gap:12px}figure.recon img{max-width:100%;min-height:160px;image-rendering:pixelated;border:1px solid #ddd}figure.recon figcaption{font-size:12px;color:#444}
`;

// Hover a patch: it and its partner(s) in the other view are highlighted (class "hl"; partners
// also "partner"), joined by lines, and the caption names them. Event delegation, no globals.
const SCRIPT = `
(function(){
  var NS = "http://www.w3.org/2000/svg";
  function clear(svg){
    svg.querySelectorAll("rect.patch.hl").forEach(function(r){ r.classList.remove("hl","partner"); });
    var links = svg.querySelector("g.links"); while (links.firstChild) links.removeChild(links.firstChild);
    svg.classList.remove("active");
    var info = svg.closest("figure").querySelector(".hover-info"); if (info) info.textContent = "\\u00a0";
  }
  function centre(r){ return [+r.getAttribute("x") + r.getAttribute("width")/2, +r.getAttribute("y") + r.getAttribute("height")/2]; }
  function name(k, grid){ var p = +k.slice(1); return "view " + (k[0]==="a"?1:2) + " patch " + p + " (row " + Math.floor(p/grid) + ", col " + (p%grid) + ")"; }
  function show(rect){
    var svg = rect.ownerSVGElement; clear(svg); svg.classList.add("active");
    var grid = +svg.closest("figure").getAttribute("data-grid");
    rect.classList.add("hl");
    var links = svg.querySelector("g.links"), c0 = centre(rect), names = [];
    (rect.getAttribute("data-partners") || "").split(" ").forEach(function(k){
      if (!k) return;
      var p = svg.querySelector('rect.patch[data-k="' + k + '"]'); if (!p) return;
      p.classList.add("hl","partner"); names.push(name(k, grid));
      var c1 = centre(p), l = document.createElementNS(NS, "line");
      l.setAttribute("x1", c0[0]); l.setAttribute("y1", c0[1]); l.setAttribute("x2", c1[0]); l.setAttribute("y2", c1[1]);
      links.appendChild(l);
    });
    var info = svg.closest("figure").querySelector(".hover-info");
    if (info) info.textContent = name(rect.getAttribute("data-k"), grid) + " \\u2194 " + names.join(", ");
  }
  document.addEventListener("mouseover", function(e){
    var t = e.target; if (t instanceof Element && t.matches("rect.patch")) show(t);
  });
  document.addEventListener("mouseout", function(e){
    var t = e.target; if (t instanceof Element && t.matches("rect.patch") && !(e.relatedTarget instanceof Element && e.relatedTarget.matches("rect.patch"))) clear(t.ownerSVGElement);
  });
})();
`;
