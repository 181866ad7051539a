// Helpers shared by the CLI commands: exit codes, errors, JSON output, progress bars.
import path from "node:path";
import cliProgress from "cli-progress";
import { UsageError } from "../io/errors.js";

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
  const n = Number(v);
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
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi) throw new UsageError(`--${name} must be a number in [${lo}, ${hi}], got '${v}'`);
  return n;
}

export interface Progress {
  update(value: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * A progress bar on a TTY (stderr); plain log lines about every 10% otherwise; nothing if quiet.
 * `format` may use {bar} {percentage} {value} {total} {eta_formatted} and payload keys.
 */
export function progress(label: string, total: number, opts: { quiet?: boolean; format?: string } = {}): Progress {
  if (opts.quiet) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} {bar} {percentage}% {value}/{total} ${opts.format ?? ""} ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (v, p) => bar.update(v, p), stop: () => bar.stop() };
  }
  let lastDecile = -1;
  return {
    update(v, p) {
      const decile = total > 0 ? Math.floor((10 * v) / total) : 10;
      if (decile !== lastDecile) {
        lastDecile = decile;
        const extra = p
          ? Object.entries(p)
              .map(([k, x]) => `${k}=${x}`)
              .join(" ")
          : "";
        process.stderr.write(`${label}: ${v}/${total} ${extra}\n`);
      }
    },
    stop() {},
  };
}
