// Probe dataset readers: NYU Depth v2 (as commonly exported), ADE20K (ADEChallengeData2016 layout)
// and the synthetic probe set written by `mimic synth`, all read into one typed sample list, and a
// sample loader that decodes, optionally crops, and resizes to the probe input size.
//
// Layouts (root = the folder given to openProbeDataset):
//   nyu     root/rgb/<stem>.{jpg,png} + root/depth/<stem>.png   (16-bit, millimetres, 0 = no data)
//           or root/{train,test|val}/rgb + .../depth             (two splits)
//           or list files root/{train,test|val}.txt, or one list file given as root: one pair per
//           line "rgb depth [ignored columns]", paths relative to the list's folder (or dataRoot),
//           "#" comments; a pair whose depth is "None" is skipped (as in BTS's lists).
//   ade20k  root/images/{training,validation}/<stem>.jpg + root/annotations/{same}/<stem>.png
//           (8-bit single-channel, 0 = other/ignore, 1..150 = classes); objectInfo150.csv optional.
//   synth   root/rgb/<stem>.jpg, root/depth/<stem>.png (16-bit mm), root/labels/<stem>.png (8-bit,
//           0 = unlabelled), root/splits.json and root/classes.json (see parseSplits/parseClasses).
// Splits are named "train" and "val" ("training" -> train, "validation"/"test" -> val); a layout
// without splits gives one split "all".
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { resizeBilinearCpu } from "../image/cpu.js";
import { readGray, readRgb } from "../image/io.js";
import { insideOrThrow } from "../io/outdir.js";
import { type CropBox, EIGEN_CROP, resolveCrop } from "./metrics.js";

export type ProbeTask = "depth" | "seg";
export type ProbeFormat = "nyu" | "ade20k" | "synth";

/** One image and its dense target. */
export interface ProbeSample {
  /** stem relative to the split's rgb folder, posix separators, no extension */
  id: string;
  rgbPath: string;
  /** depth PNG (16-bit mm) for "depth", label PNG (8-bit, 0 = ignore) for "seg" */
  targetPath: string;
  kind: ProbeTask;
}

export interface ProbeDataset {
  format: ProbeFormat;
  task: ProbeTask;
  root: string;
  /** "train" and "val", or "all" when the layout has no split */
  splits: Record<string, ProbeSample[]>;
  /** seg: K; labels are stored 0 = ignore, 1..K = classes */
  numClasses: number | null;
  /** seg: names of classes 1..K (index 0 = class 1), when the dataset ships them */
  classNames: string[] | null;
  /** seg: display colour by label id (index = label id), when classes.json gives them */
  classColors?: ([number, number, number] | undefined)[] | null;
  /** depth: metres per stored PNG unit (0.001: millimetres) */
  depthScale: number;
  /** the crop its papers evaluate in (NYU: Eigen crop), null if none */
  evalCrop: CropBox | null;
  /** things worth telling the user (skipped pairs, samples outside every split) */
  notes: string[];
}

export interface OpenOptions {
  task: ProbeTask;
  /** layout; "auto" detects it from the folder (default) */
  format?: ProbeFormat | "auto";
  /** NYU list files: folder the paths are relative to (default: the list file's folder) */
  dataRoot?: string;
  /** seg: number of classes when the dataset doesn't say (ADE20K: 150) */
  numClasses?: number;
}

const IMAGE_EXT = [".jpg", ".jpeg", ".png"];
const MAX_LISTED = 5;

const isDir = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();
const isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();

/** Image files under dir (recursively), keyed by posix stem relative to dir. */
function listImages(dir: string, exts = IMAGE_EXT): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full, rel ? `${rel}/${e.name}` : e.name);
      else if (exts.includes(path.extname(e.name).toLowerCase())) {
        const stem = (rel ? `${rel}/` : "") + e.name.slice(0, e.name.length - path.extname(e.name).length);
        if (out.has(stem)) throw new Error(`two images with the stem "${stem}" in ${dir}: ${out.get(stem)} and ${full}; keep one`);
        out.set(stem, full);
      }
    }
  };
  walk(dir, "");
  return out;
}

const listSome = (xs: string[]) => xs.slice(0, MAX_LISTED).join(", ") + (xs.length > MAX_LISTED ? `, ... (${xs.length} in all)` : "");

/** Pair rgbDir/<stem>.* with targetDir/<stem>.png; every file must have its partner. */
function pairByStem(rgbDir: string, targetDir: string, kind: ProbeTask): ProbeSample[] {
  if (!isDir(rgbDir)) throw new Error(`missing folder ${rgbDir}: expected the RGB images there`);
  if (!isDir(targetDir)) throw new Error(`missing folder ${targetDir}: expected the ${kind === "depth" ? "depth" : "label"} PNGs there`);
  const rgb = listImages(rgbDir);
  const target = listImages(targetDir, [".png"]);
  if (rgb.size === 0) throw new Error(`no images (.jpg/.jpeg/.png) in ${rgbDir}`);
  const noTarget = [...rgb.keys()].filter((s) => !target.has(s));
  if (noTarget.length)
    throw new Error(
      `${noTarget.length} image(s) in ${rgbDir} have no ${kind === "depth" ? "depth" : "label"} PNG of the same name in ${targetDir}: ` +
        `${listSome(noTarget)}. Add ${path.join(targetDir, `${noTarget[0]}.png`)} or remove the image.`,
    );
  const noRgb = [...target.keys()].filter((s) => !rgb.has(s));
  if (noRgb.length)
    throw new Error(
      `${noRgb.length} PNG(s) in ${targetDir} have no image of the same name in ${rgbDir}: ${listSome(noRgb)}. ` +
        "Add the image or remove the PNG (files pair by name without extension).",
    );
  return [...rgb.entries()].map(([id, rgbPath]) => ({ id, rgbPath, targetPath: target.get(id)!, kind }));
}

/**
 * Read an NYU-style list file: "rgb depth [more columns]" per line, paths relative to dataRoot
 * (default: the list file's folder). Lines with a depth of "None" are skipped (counted in skipped).
 */
export function readPairList(listFile: string, dataRoot?: string): { samples: ProbeSample[]; skipped: number } {
  if (!isFile(listFile)) throw new Error(`list file ${listFile} does not exist`);
  const base = dataRoot ?? path.dirname(listFile);
  const samples: ProbeSample[] = [];
  let skipped = 0;
  const lines = fs.readFileSync(listFile, "utf8").split(/\r?\n/);
  const seen = new Set<string>();
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln].trim();
    if (!line || line.startsWith("#")) continue;
    const cols = line.split(/\s+/);
    if (cols.length < 2) throw new Error(`${listFile}:${ln + 1}: expected "rgb-path depth-path" on each line, got "${line}"`);
    if (cols[1] === "None") {
      skipped++;
      continue;
    }
    // Relative to the data root (BTS lists start with '/'), and inside it after following symlinks.
    const [rgbPath, targetPath] = [cols[0], cols[1]].map((c) =>
      path.resolve(insideOrThrow(base, c.replace(/^\/+/, ""), `${listFile}:${ln + 1}`)),
    );
    for (const p of [rgbPath, targetPath])
      if (!isFile(p))
        throw new Error(
          `${listFile}:${ln + 1}: ${p} does not exist. Paths in a list file are relative to ${base}` +
            (dataRoot ? "" : " (the list's folder; pass dataRoot if they are relative to another folder)"),
        );
    let id = cols[0].replace(/^\/+/, "").replace(/\.[^./]+$/, "");
    if (seen.has(id)) id = `${id}#${ln + 1}`;
    seen.add(id);
    samples.push({ id, rgbPath, targetPath, kind: "depth" });
  }
  if (samples.length === 0) throw new Error(`${listFile}: no "rgb depth" pairs in it`);
  return { samples, skipped };
}

const SPLIT_NAMES: Record<string, string> = { train: "train", training: "train", val: "val", validation: "val", test: "val" };

function openNyu(root: string, opts: OpenOptions): ProbeDataset {
  const ds: ProbeDataset = {
    format: "nyu",
    task: "depth",
    root,
    splits: {},
    numClasses: null,
    classNames: null,
    depthScale: 0.001,
    evalCrop: EIGEN_CROP,
    notes: [],
  };
  if (isFile(root)) {
    const { samples, skipped } = readPairList(root, opts.dataRoot);
    ds.splits.all = samples;
    if (skipped) ds.notes.push(`${root}: skipped ${skipped} pair(s) without depth ("None")`);
    return ds;
  }
  if (isDir(path.join(root, "rgb")) || isDir(path.join(root, "depth"))) {
    ds.splits.all = pairByStem(path.join(root, "rgb"), path.join(root, "depth"), "depth");
    return ds;
  }
  for (const [name, split] of Object.entries(SPLIT_NAMES)) {
    if (ds.splits[split]) continue;
    const dir = path.join(root, name);
    const list = path.join(root, `${name}.txt`);
    if (isDir(dir)) ds.splits[split] = pairByStem(path.join(dir, "rgb"), path.join(dir, "depth"), "depth");
    else if (isFile(list)) {
      const { samples, skipped } = readPairList(list, opts.dataRoot ?? root);
      ds.splits[split] = samples;
      if (skipped) ds.notes.push(`${list}: skipped ${skipped} pair(s) without depth ("None")`);
    }
  }
  if (Object.keys(ds.splits).length === 0)
    throw new Error(
      `${root} is not an NYU Depth v2 export: expected rgb/ + depth/ (16-bit mm PNGs, paired by name), ` +
        "train/ and test/ folders with rgb/ + depth/ each, train.txt/test.txt list files, or a list file itself",
    );
  return ds;
}

/** Class names from ADEChallengeData2016's objectInfo150.csv (Idx,Ratio,Train,Val,Name). */
function readObjectInfo(file: string): string[] | null {
  if (!isFile(file)) return null;
  const rows = fs.readFileSync(file, "utf8").split(/\r?\n/).filter(Boolean).slice(1);
  return rows.map((r) => r.split(",").slice(4).join(",").split(";")[0].trim());
}

function openAde(root: string, opts: OpenOptions): ProbeDataset {
  if (opts.task !== "seg") throw new Error(`${root} is an ADE20K layout (segmentation only); use task "seg"`);
  const splits: Record<string, ProbeSample[]> = {};
  for (const name of ["training", "validation"]) {
    const img = path.join(root, "images", name);
    if (!isDir(img)) continue;
    splits[SPLIT_NAMES[name]] = pairByStem(img, path.join(root, "annotations", name), "seg");
  }
  if (Object.keys(splits).length === 0)
    throw new Error(`${root}: no images/training or images/validation folder; expected the ADEChallengeData2016 layout`);
  const classNames = readObjectInfo(path.join(root, "objectInfo150.csv"));
  const numClasses = opts.numClasses ?? classNames?.length ?? 150;
  return { format: "ade20k", task: "seg", root, splits, numClasses, classNames, depthScale: 0.001, evalCrop: null, notes: [] };
}

/**
 * classes.json of the synthetic set. Accepted: ["unlabelled", "wall", ...] (a first entry named
 * unlabelled/void/ignore/background/none is label 0, otherwise entry i is label i + 1),
 * [{id, name}, ...], {"1": "wall", ...}, or any of these under a "classes" key.
 * Returns names of labels 1..K (index 0 = label 1).
 */
export function parseClasses(json: unknown, file = "classes.json"): string[] {
  let v = json;
  if (v && typeof v === "object" && !Array.isArray(v) && "classes" in v) v = (v as { classes: unknown }).classes;
  const byId = new Map<number, string>();
  const bad = () =>
    new Error(`${file}: expected a list of class names, a list of {id, name} or an {"id": "name"} object, got ${JSON.stringify(json)}`);
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
    const zero = /^(unlabel+ed|void|ignore|background|none|other)$/i.test(v[0] ?? "");
    v.forEach((name, i) => {
      byId.set(zero ? i : i + 1, name);
    });
  } else if (Array.isArray(v)) {
    for (const x of v) {
      if (!x || typeof x !== "object" || typeof x.id !== "number") throw bad();
      byId.set(x.id, String(x.name ?? x.label ?? x.id));
    }
  } else if (v && typeof v === "object") {
    for (const [k, name] of Object.entries(v)) {
      if (!/^\d+$/.test(k)) throw bad();
      byId.set(Number(k), String(name));
    }
  } else throw bad();
  byId.delete(0);
  const k = Math.max(0, ...byId.keys());
  if (k === 0) throw new Error(`${file}: no classes with an id >= 1`);
  if (k > 255) throw new Error(`${file}: class id ${k} does not fit 8-bit label PNGs`);
  return Array.from({ length: k }, (_, i) => byId.get(i + 1) ?? `class${i + 1}`);
}

/** Display colours from a classes.json list of {id, color: [r, g, b]} (index = label id), or null. */
export function parseClassColors(json: unknown): ([number, number, number] | undefined)[] | null {
  const v = json && typeof json === "object" && !Array.isArray(json) && "classes" in json ? (json as { classes: unknown }).classes : json;
  if (!Array.isArray(v)) return null;
  const out: ([number, number, number] | undefined)[] = [];
  for (const x of v) {
    const c = x && typeof x === "object" ? (x as { color?: unknown }).color : undefined;
    if (typeof x?.id === "number" && Array.isArray(c) && c.length === 3 && c.every((n) => typeof n === "number"))
      out[x.id] = c.map((n) => Math.max(0, Math.min(255, Math.round(n)))) as [number, number, number];
  }
  return out.length ? out : null;
}

/**
 * splits.json of the synthetic set: {"train": [...], "val": [...]} (also "test", "validation").
 * An entry names a sample by stem ("scene003_0012"), by path ("rgb/scene003_0012.jpg"), or a
 * whole scene by prefix ("scene003" matches "scene003_*", "scene003-*" and "scene003/*"); a value
 * may also be an object whose string arrays (e.g. {"scenes": [...]}) are the entries.
 */
export function parseSplits(
  json: unknown,
  ids: string[],
  file = "splits.json",
): { splits: Record<string, string[]>; unassigned: string[] } {
  if (!json || typeof json !== "object" || Array.isArray(json))
    throw new Error(`${file}: expected {"train": [...], "val": [...]}, got ${JSON.stringify(json).slice(0, 80)}`);
  const entriesOf = (v: unknown): string[] => {
    if (Array.isArray(v)) return v.map(String);
    if (v && typeof v === "object") return Object.values(v).flatMap((x) => (Array.isArray(x) ? x.map(String) : []));
    return [];
  };
  const owner = new Map<string, string>();
  const splits: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(json)) {
    const split = SPLIT_NAMES[key.toLowerCase()];
    if (!split) continue;
    splits[split] ??= [];
    for (const raw of entriesOf(value)) {
      const e = raw
        .replace(/\\/g, "/")
        .replace(/^(\.\/)?(rgb|depth|labels)\//, "")
        .replace(/\.(jpe?g|png)$/i, "");
      const hits = ids.filter((id) => id === e || id.startsWith(`${e}_`) || id.startsWith(`${e}-`) || id.startsWith(`${e}/`));
      if (hits.length === 0)
        throw new Error(
          `${file}: ${key} entry "${raw}" matches no image in rgb/ (entries are stems like "${ids[0]}", paths like "rgb/${ids[0]}.jpg", or scene prefixes)`,
        );
      for (const id of hits) {
        const prev = owner.get(id);
        if (prev && prev !== split) throw new Error(`${file}: sample "${id}" is in both ${prev} and ${split}; a split must not leak`);
        if (!prev) splits[split].push(id);
        owner.set(id, split);
      }
    }
  }
  if (Object.keys(splits).length === 0) throw new Error(`${file}: no "train"/"val"/"test" key`);
  return { splits, unassigned: ids.filter((id) => !owner.has(id)) };
}

function openSynth(root: string, opts: OpenOptions): ProbeDataset {
  const targetDir = path.join(root, opts.task === "depth" ? "depth" : "labels");
  const all = pairByStem(path.join(root, "rgb"), targetDir, opts.task);
  const ds: ProbeDataset = {
    format: "synth",
    task: opts.task,
    root,
    splits: {},
    numClasses: null,
    classNames: null,
    depthScale: 0.001,
    evalCrop: null,
    notes: [],
  };
  const classesFile = path.join(root, "classes.json");
  if (isFile(classesFile)) {
    const json = readJson(classesFile);
    ds.classNames = parseClasses(json, classesFile);
    ds.numClasses = ds.classNames.length;
    ds.classColors = parseClassColors(json);
  } else if (opts.task === "seg") {
    if (!opts.numClasses) throw new Error(`${classesFile} is missing; write it (mimic synth does) or pass numClasses`);
    ds.numClasses = opts.numClasses;
  }
  if (opts.numClasses) ds.numClasses = opts.numClasses;
  const splitsFile = path.join(root, "splits.json");
  if (!isFile(splitsFile)) {
    ds.splits.all = all;
    ds.notes.push(`${splitsFile} not found: one split "all"`);
    return ds;
  }
  const byId = new Map(all.map((s) => [s.id, s]));
  const { splits, unassigned } = parseSplits(readJson(splitsFile), [...byId.keys()], splitsFile);
  for (const [k, ids] of Object.entries(splits)) ds.splits[k] = ids.map((id) => byId.get(id)!);
  if (unassigned.length)
    ds.notes.push(`${unassigned.length} sample(s) are in no split of ${splitsFile} and are left out: ${listSome(unassigned)}`);
  return ds;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot parse ${file}: ${(e as Error).message}`);
  }
}

/** Which layout a path holds, or null. */
export function detectFormat(root: string): ProbeFormat | null {
  if (isFile(root)) return "nyu";
  if (!isDir(root)) return null;
  const has = (p: string) => fs.existsSync(path.join(root, p));
  if (has("images") && has("annotations")) return "ade20k";
  if (has("rgb") && (has("labels") || has("splits.json") || has("classes.json"))) return "synth";
  if (has("rgb") || has("depth")) return "nyu";
  if (["train", "test", "val", "training", "validation"].some((n) => has(n) || has(`${n}.txt`))) return "nyu";
  return null;
}

/** Open a probe dataset for a task: the sample lists per split plus what the loader needs. */
export function openProbeDataset(root: string, opts: OpenOptions): ProbeDataset {
  const abs = path.resolve(root);
  if (!fs.existsSync(abs)) throw new Error(`probe data ${abs} does not exist; pass a dataset folder (or an NYU list file)`);
  const format = !opts.format || opts.format === "auto" ? detectFormat(abs) : opts.format;
  if (!format)
    throw new Error(
      `${abs}: unknown probe dataset layout. Expected NYU (rgb/ + depth/), ADE20K (images/ + annotations/) ` +
        "or a mimic synth folder (rgb/, depth/, labels/, splits.json, classes.json)",
    );
  if (format === "nyu") {
    if (opts.task !== "depth") throw new Error(`${abs} is an NYU depth layout (depth only); use task "depth"`);
    return openNyu(abs, opts);
  }
  if (format === "ade20k") return openAde(abs, opts);
  return openSynth(abs, opts);
}

// ---------------------------------------------------------------------------------------------
// Loading

export interface LoadOptions {
  /** probe input size; null keeps the stored size */
  size: { height: number; width: number } | null;
  /** crop both image and target before resizing (e.g. EIGEN_CROP to drop NYU's white border) */
  crop?: CropBox | null;
  /** depth: metres per stored unit (default 0.001, millimetres) */
  depthScale?: number;
  /** seg: labels above this are an error (labels 0..numClasses, 0 = ignore) */
  numClasses?: number | null;
}

export interface LoadedSample {
  id: string;
  height: number;
  width: number;
  /** (H, W, 3) */
  rgb: Uint8Array;
  /** depth: (H, W) metres, 0 = no data */
  depth?: Float32Array;
  /** seg: (H, W) labels as stored, 0 = ignore, 1..K */
  labels?: Uint8Array;
}

/** Nearest-neighbour resize with half-pixel centres (depth and labels: no invented values). */
export function resizeNearest<T extends Uint8Array | Float32Array>(
  src: T,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
  channels = 1,
): T {
  const dst = new (src.constructor as { new (n: number): T })(dh * dw * channels);
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(Math.floor(((y + 0.5) * sh) / dh), sh - 1);
    for (let x = 0; x < dw; x++) {
      const sx = Math.min(Math.floor(((x + 0.5) * sw) / dw), sw - 1);
      for (let c = 0; c < channels; c++) dst[(y * dw + x) * channels + c] = src[(sy * sw + sx) * channels + c];
    }
  }
  return dst;
}

/** Bilinear resize of (H, W, 3) bytes (the CPU twin of the GPU resize, per channel), rounded. */
export function resizeRgbBilinear(rgb: Uint8Array, sh: number, sw: number, dh: number, dw: number): Uint8Array {
  const planes = new Float32Array(3 * sh * sw); // (3, H, W)
  for (let i = 0; i < sh * sw; i++) for (let c = 0; c < 3; c++) planes[c * sh * sw + i] = rgb[3 * i + c];
  const out = resizeBilinearCpu(planes, 3, sh, sw, dh, dw);
  const dst = new Uint8Array(dh * dw * 3);
  for (let i = 0; i < dh * dw; i++)
    for (let c = 0; c < 3; c++) dst[3 * i + c] = Math.min(255, Math.max(0, Math.round(out[c * dh * dw + i])));
  return dst;
}

function cropPlane<T extends Uint8Array | Float32Array>(
  src: T,
  w: number,
  box: { top: number; bottom: number; left: number; right: number },
  channels: number,
): T {
  const cw = box.right - box.left;
  const dst = new (src.constructor as { new (n: number): T })((box.bottom - box.top) * cw * channels);
  for (let y = box.top; y < box.bottom; y++)
    dst.set(src.subarray((y * w + box.left) * channels, (y * w + box.right) * channels), (y - box.top) * cw * channels);
  return dst;
}

/** True if an RGB(A) PNG stores the same value in R, G and B at every pixel (a grey map saved as RGB). */
async function channelsEqual(file: string, sixteen: boolean): Promise<boolean> {
  const { data, info } = await sharp(file)
    .removeAlpha()
    .raw({ depth: sixteen ? "ushort" : "uchar" })
    .toBuffer({ resolveWithObject: true });
  const v = sixteen ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) : data;
  const c = info.channels;
  for (let i = 0; i < v.length; i += c) if (v[i] !== v[i + 1] || v[i] !== v[i + 2]) return false;
  return true;
}

/** Decode one sample: RGB bytes and depth in metres or labels, cropped and resized as asked. */
export async function loadSample(sample: ProbeSample, opts: LoadOptions): Promise<LoadedSample> {
  for (const p of [sample.rgbPath, sample.targetPath])
    if (!isFile(p)) throw new Error(`sample ${sample.id}: ${p} does not exist (moved or deleted since the dataset was opened?)`);
  const img = await readRgb(sample.rgbPath);
  const meta = await sharp(sample.targetPath)
    .metadata()
    .catch((e: Error) => {
      throw new Error(`cannot read ${sample.targetPath}: ${e.message}`);
    });
  const kindName = sample.kind === "depth" ? "depth" : "label";
  if (meta.format !== "png") throw new Error(`${sample.targetPath}: ${kindName} maps must be PNG (lossless), got ${meta.format}`);
  if ((meta.channels ?? 1) > 2 && !(await channelsEqual(sample.targetPath, meta.depth === "ushort")))
    throw new Error(
      `${sample.targetPath}: ${kindName} PNG has ${meta.channels} different channels${meta.isPalette ? " (palette)" : ""}; ` +
        (sample.kind === "depth"
          ? "store depth as a single-channel 16-bit PNG in millimetres"
          : "store labels as a single-channel 8-bit PNG of class ids (0 = ignore), as ADEChallengeData2016 does " +
            "(colour-coded label images need converting to class ids)"),
    );
  const t = await readGray(sample.targetPath);
  if (t.width !== img.width || t.height !== img.height)
    throw new Error(
      `sample ${sample.id}: ${sample.rgbPath} is ${img.width}x${img.height} but ${sample.targetPath} is ${t.width}x${t.height}; ` +
        `the ${kindName} map must have the image's size (re-export or resize it with nearest-neighbour)`,
    );
  let h = img.height;
  let w = img.width;
  let rgb = img.rgb;
  let depth: Float32Array | undefined;
  let labels: Uint8Array | undefined;
  if (sample.kind === "depth") {
    if (!(t.data instanceof Uint16Array))
      throw new Error(`${sample.targetPath}: depth PNG is 8-bit; expected 16-bit depth in millimetres (NYU Depth v2 exports, mimic synth)`);
    const scale = opts.depthScale ?? 0.001;
    depth = Float32Array.from(t.data, (v) => v * scale);
  } else {
    if (t.data instanceof Uint16Array) throw new Error(`${sample.targetPath}: label PNG is 16-bit; expected 8-bit class ids (0 = ignore)`);
    labels = t.data;
    const k = opts.numClasses;
    if (k != null) {
      let max = 0;
      let at = 0;
      for (let i = 0; i < labels.length; i++) if (labels[i] > max) [max, at] = [labels[i], i];
      if (max > k)
        throw new Error(
          `${sample.targetPath}: label ${max} at (x ${at % w}, y ${Math.floor(at / w)}) is out of range for ${k} classes ` +
            `(labels 0..${k}, 0 = ignore); fix the label map or the class count (numClasses / classes.json)`,
        );
    }
  }
  if (opts.crop) {
    const box = resolveCrop(opts.crop, h, w);
    rgb = cropPlane(rgb, w, box, 3);
    if (depth) depth = cropPlane(depth, w, box, 1);
    if (labels) labels = cropPlane(labels, w, box, 1);
    h = box.bottom - box.top;
    w = box.right - box.left;
  }
  if (opts.size && (opts.size.height !== h || opts.size.width !== w)) {
    const { height: dh, width: dw } = opts.size;
    if (!(Number.isInteger(dh) && Number.isInteger(dw) && dh > 0 && dw > 0)) throw new Error(`probe input size ${dw}x${dh} is not valid`);
    rgb = resizeRgbBilinear(rgb, h, w, dh, dw);
    if (depth) depth = resizeNearest(depth, h, w, dh, dw);
    if (labels) labels = resizeNearest(labels, h, w, dh, dw);
    h = dh;
    w = dw;
  }
  return { id: sample.id, height: h, width: w, rgb, ...(depth ? { depth } : {}), ...(labels ? { labels } : {}) };
}
