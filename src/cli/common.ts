// Helpers shared by the CLI commands: exit codes, errors, JSON output, progress bars.
import fs from "node:fs";
import path from "node:path";
import cliProgress from "cli-progress";
import { UsageError } from "../io/errors.js";
import { checkpointTensorsPath, resolveCheckpointPath } from "../models/checkpoint.js";

/** Exit codes: 0 success, 1 the work failed (or partly: some inputs failed), 2 bad arguments. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** An error the user caused (bad flag, missing input): printed without a stack, exit 2. Library code throws it too. */
export { UsageError };

/** Print a JSON value on stdout (one object, for scripts). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Parse a positive integer flag or throw a UsageError naming it. */
export function intFlag(name: string, v: string, min = 1): number {
  const n = numberOf(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

/** An output path flag: refused when empty (path.resolve('') would be the current folder). */
export function outFlag(v: string | undefined, name = "out"): string {
  if (typeof v !== "string" || v.trim() === "") throw new UsageError(`--${name} is empty. Fix: give the output path`);
  return path.resolve(v);
}

/** Parse a float flag or throw a UsageError naming it. */
export function floatFlag(name: string, v: string, lo = -Infinity, hi = Infinity): number {
  const n = numberOf(v);
  if (!Number.isFinite(n) || n < lo || n > hi) {
    const range =
      Number.isFinite(lo) && Number.isFinite(hi)
        ? ` in [${lo}, ${hi}]`
        : Number.isFinite(lo)
          ? ` >= ${lo}`
          : Number.isFinite(hi)
            ? ` <= ${hi}`
            : "";
    throw new UsageError(`--${name} must be a number${range}, got '${v}'`);
  }
  return n;
}

/** A flag's value as a number; NaN for an empty one (Number('') would be 0). */
function numberOf(v: string): number {
  return typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
}

export interface Progress {
  /** A new value (and payload); `total` when the estimate of the total changed. */
  update(value: number, payload?: Record<string, string | number>, total?: number): void;
  stop(): void;
}

const BAR_KEYS = new Set(["bar", "percentage", "value", "total", "eta", "eta_formatted", "duration", "duration_formatted"]);

/**
 * The payload a bar starts with: `payload`, and "-" for every other key `format` names, so a bar
 * never shows a raw {key} before its first update.
 */
export function initialPayload(format: string, payload: Record<string, string | number> = {}): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const m of format.matchAll(/\{(\w+)\}/g)) if (!BAR_KEYS.has(m[1])) out[m[1]] = "-";
  return { ...out, ...payload };
}

/**
 * A progress bar on a TTY (stderr); plain log lines about every 10% otherwise; nothing if quiet.
 * `format` may use {bar} {percentage} {value} {total} {eta_formatted} and payload keys; the bar
 * starts with `payload` filled in. `eta: false` drops the bar's own ETA (the format carries one).
 */
export function progress(
  label: string,
  total: number,
  opts: { quiet?: boolean; format?: string; payload?: Record<string, string | number>; eta?: boolean; stream?: NodeJS.WriteStream } = {},
): Progress {
  if (opts.quiet) return { update() {}, stop() {} };
  const stream = opts.stream ?? process.stderr;
  if (stream.isTTY) {
    const format = `${label} {bar} {percentage}% {value}/{total} ${opts.format ?? ""}${opts.eta === false ? "" : " ETA {eta_formatted}"}`;
    const bar = new cliProgress.SingleBar({ format, stream, hideCursor: true }, cliProgress.Presets.shades_classic);
    bar.start(total, 0, initialPayload(format, opts.payload));
    return {
      update: (v, p, t) => {
        if (t !== undefined) bar.setTotal(t);
        bar.update(v, p);
      },
      stop: () => bar.stop(),
    };
  }
  let lastDecile = -1;
  return {
    update(v, p, t) {
      if (t !== undefined) total = t;
      const decile = total > 0 ? Math.floor((10 * v) / total) : 10;
      if (decile !== lastDecile) {
        lastDecile = decile;
        const extra = p
          ? Object.entries(p)
              .map(([k, x]) => `${k}=${x}`)
              .join(" ")
          : "";
        stream.write(`${label}: ${v}/${total} ${extra}\n`);
      }
    },
    stop() {},
  };
}

/**
 * A `--size` value, the same on every command: `WIDTHxHEIGHT` (e.g. 320x240) or `N` for N x N.
 * Each side in 16..4096.
 */
export function parseSize(flag: string, v: string): [number, number] {
  const m = /^(\d+)(?:x(\d+))?$/.exec(v);
  if (!m) throw new UsageError(`--${flag} must be WIDTHxHEIGHT (e.g. 320x240) or N for N x N, got '${v}'`);
  const w = Number(m[1]);
  const h = m[2] === undefined ? w : Number(m[2]);
  if (w < 16 || h < 16 || w > 4096 || h > 4096) throw new UsageError(`--${flag} ${v}: each side must be in 16..4096`);
  return [w, h];
}

/** The files --ckpt stands for (as given, the sidecar or latest.json it names, its tensors): --out may not be one. */
export function checkpointFiles(ckpt: string): string[] {
  const isDir = (f: string) => fs.statSync(f, { throwIfNoEntry: false })?.isDirectory() ?? false;
  const files = isDir(ckpt) ? [path.join(ckpt, "latest.json")] : [ckpt];
  try {
    const f = resolveCheckpointPath(ckpt);
    files.push(f);
    if (f.endsWith(".json")) files.push(checkpointTensorsPath(f), f.replace(/\.json$/, ".optim.safetensors"));
  } catch {
    // the command's own loading names what is wrong with the checkpoint
  }
  return files;
}
