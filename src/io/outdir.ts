// The output folder: the one place a command writes, and the only place it ever deletes from.
//
//   safeSegment(what, name)   a name used as one path segment (a --source label, a video id read
//                             from a manifest): '', '.', '..', separators, NUL and mimic-kit's own
//                             file names are refused
//   realish(p)                p with every symlink of its existing part followed
//   isInside(dir, p)          containment after following symlinks (dir itself counts)
//   insideOrThrow(dir, p, ..) the same, as a check that names the manifest row that is wrong
//   outsideInputs(out, inputs) refuses an output that is, holds or sits inside one of the inputs
//   entriesOf(dir, except)    a folder's entries as inputs, so that an output may go beside them
//   notALink(file)            refuses an output file that is a symlink (a planted report.html -> ~/.bashrc)
//   prepareOut(out, opts)     claim an --out folder:
//     - refuses an --out that is, holds or sits inside one of the command's inputs;
//     - a non-empty --out needs --resume (a folder this command wrote) or --force;
//     - --force removes only a folder carrying MARKER, and in it only the entries that command
//       writes (OWNED), printing each; anything else in the folder is kept and named;
//     - takes the lock, then writes MARKER;
//     - adoptUnmarked: a folder without MARKER holding only this command's entries is taken as its
//       own (benchmark folders written before benchmark claimed its --out).
//   OutLock                   <out>/.mimic-kit.lock: created exclusively (link(2) of a finished
//                             temp file, so it is never seen half-written) with pid, hostname and
//                             start time; a lock whose pid is dead on this host is taken over, with
//                             a message; a live one refuses the second run.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { packageVersion } from "../version.js";
import { UsageError } from "./errors.js";

export const MARKER = ".mimic-kit.json";
export const LOCK = ".mimic-kit.lock";

/** Commands that write an output folder. */
export type OutCommand = "mine" | "merge" | "train" | "synth" | "benchmark";

/** Top-level entries each command writes (besides MARKER and LOCK, and the names in the marker's `owns`). */
const OWNED: Record<OutCommand, (name: string) => boolean> = {
  mine: (n) => MINE_FILES.has(n) || /^(pairs\.csv|pairs\.jsonl|progress\.jsonl|candidates\.jsonl)\.tmp$/.test(n),
  merge: (n) => MINE_FILES.has(n),
  train: (n) =>
    ["config.json", "metrics.jsonl", "latest.json"].includes(n) ||
    /^checkpoint-\d+\.(safetensors|json|optim\.safetensors|recon\.png)$/.test(n),
  synth: (n) => ["videos", "gt", "rgb", "depth", "labels", "splits.json", "classes.json", "synth.json"].includes(n),
  benchmark: (n) => BENCHMARK_FILES.has(n),
};
const BENCHMARK_FILES = new Set(["runs", "cache", "baselines", "leaderboard.json", "leaderboard.md"]);
const MINE_FILES = new Set(["config.json", "pairs.csv", "pairs.jsonl", "candidates.jsonl", "progress.jsonl", "stats.json", "README.md"]);
/** mine and merge write the same dataset layout: either may --force or --resume the other's. */
const SAME_LAYOUT: Record<OutCommand, OutCommand[]> = {
  mine: ["mine", "merge"],
  merge: ["mine", "merge"],
  train: ["train"],
  synth: ["synth"],
  benchmark: ["benchmark"],
};

/** Names no path segment taken from input may have: mimic-kit's own files at the top of an output. */
const RESERVED = new Set([MARKER, LOCK, ...MINE_FILES]);

/** `name` if it is safe as one path segment under an output folder, else a UsageError naming `what`. */
export function safeSegment(what: string, name: string): string {
  const why =
    typeof name !== "string"
      ? "is not a string"
      : name === ""
        ? "is empty"
        : name === "." || name === ".."
          ? `is '${name}'`
          : /[/\\]/.test(name)
            ? "holds a path separator"
            : name.includes("\0")
              ? "holds a NUL byte"
              : RESERVED.has(name)
                ? "is the name of one of mimic-kit's own files"
                : null;
  if (why) throw new UsageError(`${what} ${JSON.stringify(name)} ${why}; it must be a plain folder name (letters, digits, '.', '_', '-')`);
  return name;
}

/** The absolute path of p with the symlinks of its longest existing prefix followed. */
export function realish(p: string): string {
  const abs = path.resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...tail);
    } catch {
      const up = path.dirname(head);
      if (up === head) return abs;
      tail.unshift(path.basename(head));
      head = up;
    }
  }
}

/** Whether p is dir or lies under it, after following symlinks on both. */
export function isInside(dir: string, p: string): boolean {
  const rel = path.relative(realish(dir), realish(p));
  return rel === "" || (!rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel));
}

/**
 * The absolute path of `rel` under `dir`, refused (UsageError) if it is absolute or resolves outside
 * `dir` after following symlinks. `where` names the manifest row, e.g. "pairs.csv line 7".
 */
export function insideOrThrow(dir: string, rel: string, where: string): string {
  if (typeof rel !== "string" || rel === "" || rel.includes("\0") || path.isAbsolute(rel) || /^[A-Za-z]:[\\/]/.test(rel))
    throw new UsageError(`${where}: path ${JSON.stringify(rel)} must be relative to ${dir}. Fix: repair or regenerate the manifest`);
  const p = path.join(dir, rel);
  if (!isInside(dir, p))
    throw new UsageError(
      `${where}: path ${JSON.stringify(rel)} resolves outside ${dir} (through '..' or a symlink). Fix: repair or regenerate the manifest`,
    );
  return p;
}

/**
 * Refuse (UsageError) an output path that is, holds or sits inside one of `inputs`, after following
 * symlinks: no command writes over what it reads. `flag` names the output in the message.
 */
export function outsideInputs(out: string, inputs: string[], flag = "--out"): void {
  for (const input of inputs) {
    if (isInside(input, out))
      throw new UsageError(
        `${flag} ${out} is ${realish(out) === realish(input) ? "the input" : "inside the input"} ${input}. Fix: write the output somewhere else`,
      );
    if (isInside(out, input)) throw new UsageError(`${flag} ${out} holds the input ${input}. Fix: write the output somewhere else`);
  }
}

/** Refuse (UsageError) to write the file `file` when it is a symlink: the bytes would land wherever it points. */
export function notALink(file: string, flag = "--out"): void {
  if (isLink(file))
    throw new UsageError(`${flag} ${file} is a symlink; mimic-kit never writes through a link. Fix: remove it, or choose another ${flag}`);
}

/**
 * What is in folder `dir` (nothing if it is not one), but `except`: as a command's inputs they leave
 * room for an output written beside them (a report.html in a mined dataset), never over them.
 */
export function entriesOf(dir: string, except: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => n !== except)
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

// ---- the marker ---------------------------------------------------------------------------------

export interface Marker {
  tool: "mimic-kit";
  command: OutCommand;
  version: string;
  /** Further top-level entries this output owns (mine: its <source> folder). */
  owns: string[];
}

/** The marker of `out`, or null when it has none (or one mimic-kit did not write). */
export function readMarker(out: string): Marker | null {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(out, MARKER), "utf8")) as Marker;
    if (m.tool !== "mimic-kit" || !(m.command in OWNED) || !Array.isArray(m.owns)) return null;
    return m;
  } catch {
    return null;
  }
}

function writeMarker(out: string, command: OutCommand, owns: string[]): void {
  const m: Marker = { tool: "mimic-kit", command, version: packageVersion(), owns: [...new Set(owns)].sort() };
  fs.writeFileSync(path.join(out, MARKER), `${JSON.stringify(m, null, 2)}\n`);
}

// ---- the lock -------------------------------------------------------------------------------------

interface LockInfo {
  pid: number;
  hostname: string;
  started: string;
  command: string;
}

const held = new Set<string>();
let exitHook = false;

/** An exclusive lock on an output folder, held by this process until release() (or its exit). */
export class OutLock {
  private constructor(readonly file: string) {}

  /** Take the lock of `out` (which must exist); `log` hears about a stale lock taken over. */
  static acquire(out: string, command: string, log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): OutLock {
    const file = path.join(out, LOCK);
    const info: LockInfo = { pid: process.pid, hostname: os.hostname(), started: new Date().toISOString(), command };
    const tmp = path.join(out, `${LOCK}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, `${JSON.stringify(info)}\n`);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          fs.linkSync(tmp, file); // atomic, fails if the lock exists: O_EXCL with the content already in place
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
        }
        const other = readLock(file);
        if (!other)
          throw new Error(`${out} is locked (${file} exists but is unreadable). Fix: if no mimic-kit run is using ${out}, delete ${file}`);
        if (other.hostname === os.hostname() && !alive(other.pid)) {
          log(
            `mimic: ${out}: taking over the stale lock of '${other.command}' (pid ${other.pid} on ${other.hostname}, started ${other.started}; that process is gone)`,
          );
          fs.rmSync(file, { force: true });
          continue;
        }
        throw new Error(
          `${out} is in use by '${other.command}' (pid ${other.pid} on ${other.hostname}, started ${other.started}). ` +
            `Fix: wait for it to finish, or choose another --out; if that process is gone, delete ${file}`,
        );
      }
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    held.add(file);
    if (!exitHook) {
      exitHook = true;
      process.on("exit", () => {
        for (const f of held) fs.rmSync(f, { force: true });
      });
    }
    return new OutLock(file);
  }

  release(): void {
    if (!held.delete(this.file)) return;
    fs.rmSync(this.file, { force: true });
  }
}

function readLock(file: string): LockInfo | null {
  try {
    const j = JSON.parse(fs.readFileSync(file, "utf8")) as LockInfo;
    return Number.isInteger(j.pid) && typeof j.hostname === "string" ? j : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed process that its parent has not reaped yet (a zombie, state Z) still answers kill 0
  // but holds nothing: on Linux its /proc stat says so.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

// ---- claiming an output folder --------------------------------------------------------------------

export interface PrepareOptions {
  command: OutCommand;
  /** Continue the run in `out` (it must be this command's output). */
  resume?: boolean;
  /** Replace this command's previous output in `out` (only a folder carrying MARKER). */
  force?: boolean;
  /** Paths the command reads: `out` may not be, hold or sit inside any of them. */
  inputs?: string[];
  /** Top-level entries beyond the command's fixed ones that this run writes (mine: the source folder). */
  owns?: string[];
  /**
   * Take a folder without MARKER as this command's when every entry is one the command writes
   * (benchmark folders from versions that wrote no marker); it gets the marker now.
   */
  adoptUnmarked?: boolean;
  /** Where removals and lock take-overs are reported (default stderr). */
  log?: (msg: string) => void;
}

export interface PreparedOut {
  out: string;
  /** Whether `out` held a previous output (kept for --resume). */
  existed: boolean;
  lock: OutLock;
  /** Entries --force removed (relative to out). */
  removed: string[];
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Entries of `out` other than MARKER and the lock (and its temp files). */
function contents(out: string): string[] {
  if (!fs.existsSync(out)) return [];
  return fs.readdirSync(out).filter((n) => n !== MARKER && n !== LOCK && !n.startsWith(`${LOCK}.`));
}

/** Check and claim `out` for a command (see the file header). Throws UsageError for what the user must change. */
export function prepareOut(out: string, o: PrepareOptions): PreparedOut {
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  if (typeof out !== "string" || out.trim() === "") throw new UsageError("--out is empty. Fix: give the output folder");
  if (o.resume && o.force)
    throw new UsageError("--resume and --force exclude each other (--resume continues the run in --out, --force replaces it)");
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new UsageError(`--out ${out} exists and is not a folder`);
  outsideInputs(out, o.inputs ?? []);
  const entries = contents(out);
  let marker = fs.existsSync(out) ? readMarker(out) : null;
  if (marker === null && o.adoptUnmarked && entries.length > 0 && !fs.existsSync(path.join(out, MARKER)) && entries.every(OWNED[o.command]))
    marker = { tool: "mimic-kit", command: o.command, version: "unmarked", owns: [] };
  const mine = marker !== null && SAME_LAYOUT[o.command].includes(marker.command);
  if (entries.length > 0) {
    if (!o.resume && !o.force)
      throw new UsageError(
        `output folder ${out} is not empty. Fix: ${o.command === "mine" || o.command === "train" ? "pass --resume to continue that run, " : ""}pass --force to replace it, or choose another --out`,
      );
    if (!mine)
      throw new UsageError(
        marker
          ? `--${o.resume ? "resume" : "force"}: ${out} holds the output of 'mimic ${marker.command}', not of 'mimic ${o.command}'. Fix: choose another --out`
          : `--${o.resume ? "resume" : "force"}: ${out} is not a mimic-kit output (no ${MARKER} in it), so mimic-kit will not ${o.resume ? "continue in" : "delete anything in"} it. Fix: choose another --out`,
      );
  }
  // A name the run will own (mine: its <source> folder) that is already there but was not written
  // by mimic-kit stays the user's: writing pairs into it, and a later --force deleting it, are refused.
  const ownedBefore = new Set(mine && marker ? marker.owns : []);
  const foreign = (o.owns ?? []).filter((n) => entries.includes(n) && !ownedBefore.has(n));
  if (foreign.length)
    throw new UsageError(
      `${out} holds ${foreign.join(", ")}, which mimic-kit did not write; this run would write into it. Fix: choose another --source, or another --out`,
    );
  // Writes follow symlinks: a planted <out>/stats.json -> /elsewhere would be written through.
  const links = fs.existsSync(out) ? [MARKER, LOCK, ...entries].filter((n) => isLink(path.join(out, n))) : [];
  if (links.length && !o.force)
    throw new UsageError(
      `${out} holds symlinks where mimic-kit writes (${links.join(", ")}); it never writes through a link. Fix: remove them, or choose another --out`,
    );
  fs.mkdirSync(out, { recursive: true });
  if (isLink(path.join(out, MARKER)) || isLink(path.join(out, LOCK)))
    throw new UsageError(`${out}: ${MARKER} or ${LOCK} is a symlink. Fix: remove it, or choose another --out`);
  const lock = OutLock.acquire(out, o.command, log);
  const removed: string[] = [];
  try {
    let owns = o.owns ?? [];
    if (entries.length > 0 && o.force && marker) {
      const prevOwned = new Set(
        marker.owns.filter((n) => typeof n === "string" && n !== "" && n !== "." && n !== ".." && !/[/\\\0]/.test(n)),
      );
      const ownedBy = (n: string) => prevOwned.has(n) || SAME_LAYOUT[o.command].some((c) => OWNED[c](n));
      const kept: string[] = [];
      for (const n of entries.sort()) {
        if (!ownedBy(n)) {
          kept.push(n);
          continue;
        }
        log(`mimic ${o.command} --force: removing ${path.join(out, n)}`);
        fs.rmSync(path.join(out, n), { recursive: true, force: true }); // a symlink is unlinked, never followed
        removed.push(n);
      }
      if (kept.length)
        log(
          `mimic ${o.command} --force: kept ${kept.length} entr${kept.length === 1 ? "y" : "ies"} mimic-kit did not write: ${kept.join(", ")}`,
        );
    } else if (entries.length > 0 && marker) owns = [...owns, ...marker.owns];
    writeMarker(out, o.command, owns);
  } catch (e) {
    lock.release();
    throw e;
  }
  return { out, existed: entries.length > 0 && !o.force, lock, removed };
}
