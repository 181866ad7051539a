// Helpers of the safety tests: run the CLI, make a tiny video, and fingerprint a folder tree so a
// test can prove that nothing outside an output folder changed.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ffmpeg } from "../video/gen.js";

const bin = path.resolve(__dirname, "../../bin/mimic.js");

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run `mimic ...args` in `cwd` without blocking the test worker. */
export function mimic(args: string[], cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"], cwd });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    c.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** A fresh sandbox folder /tmp/safety-XXXX (every experiment's blast radius). */
export function sandbox(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "safety-"));
}

/** A 2 s, 10 fps, 160x120 pan over testsrc2: enough texture for SIFT pairs, fast to mine. */
export function tinyVideo(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  ffmpeg([
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=320x240:rate=10:duration=2",
    "-vf",
    "crop=160:120:x='t*30':y='t*20',format=yuv420p",
    "-c:v",
    "mpeg4",
    "-q:v",
    "3",
    file,
  ]);
}

/**
 * Every entry under `dir` (not following symlinks): relative path, kind, size and content hash
 * (a symlink: its target). Two equal results mean nothing in the tree was written or deleted.
 */
export function treeHash(dir: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const rel = path.relative(dir, p);
      if (skip(rel)) continue;
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) out.set(rel, `link ${fs.readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(rel, "dir");
        walk(p);
      } else out.set(rel, `file ${createHash("sha256").update(fs.readFileSync(p)).digest("hex")}`);
    }
  };
  walk(dir);
  return out;
}

/** The entries of `after` that differ from `before` (added, removed or changed). */
export function treeDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const d: string[] = [];
  for (const [k, v] of before) if (after.get(k) !== v) d.push(`${after.has(k) ? "changed" : "removed"} ${k}`);
  for (const k of after.keys()) if (!before.has(k)) d.push(`added ${k}`);
  return d.sort();
}
