// src/io/outdir.ts on its own (names, containment through symlinks, --force, the lock), plus the
// small should-fix items that need no GPU: write errors name the file, --resume retries transient
// failures.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writePng } from "../../src/image/io.js";
import { UsageError } from "../../src/io/errors.js";
import { insideOrThrow, isInside, LOCK, MARKER, OutLock, prepareOut, safeSegment } from "../../src/io/outdir.js";
import { configHash, minePresets } from "../../src/mine/config.js";
import { DatasetWriter, type VideoResult } from "../../src/mine/writer.js";
import { sandbox, treeDiff, treeHash } from "./helpers.js";

const quiet = () => {};

describe("safeSegment", () => {
  it.each(["", ".", "..", "a/b", "a\\b", "x\0y", ".mimic-kit.json", "pairs.csv"])("refuses %j", (n) => {
    expect(() => safeSegment("--source", n)).toThrow(UsageError);
  });
  it.each(["videos", "..a", "a.b", ".hidden", "a-b_c"])("accepts %j", (n) => {
    expect(safeSegment("--source", n)).toBe(n);
  });
});

describe("isInside / insideOrThrow", () => {
  it("follows symlinks of existing parts and refuses '..', absolute paths and links out", () => {
    const t = sandbox();
    fs.mkdirSync(path.join(t, "ds", "a"), { recursive: true });
    fs.mkdirSync(path.join(t, "other"));
    fs.symlinkSync(path.join(t, "other"), path.join(t, "ds", "out-link"));
    fs.symlinkSync(path.join(t, "ds", "a"), path.join(t, "ds", "in-link"));
    const ds = path.join(t, "ds");
    expect(isInside(ds, path.join(ds, "a", "x.jpg"))).toBe(true);
    expect(isInside(ds, path.join(ds, "in-link", "x.jpg"))).toBe(true);
    expect(isInside(ds, path.join(ds, "out-link", "x.jpg"))).toBe(false);
    expect(isInside(ds, path.join(ds, "..", "other"))).toBe(false);
    expect(isInside(ds, ds)).toBe(true);
    expect(isInside(path.join(t, "d"), path.join(t, "ds"))).toBe(false); // a prefix is not a parent
    for (const bad of ["../x", "/etc/hostname", "out-link/x", "a/../../x", ""])
      expect(() => insideOrThrow(ds, bad, "pairs.csv row 4"), bad).toThrow(/pairs\.csv row 4/);
    expect(insideOrThrow(ds, "a/../a/x.jpg", "row")).toBe(path.join(ds, "a", "x.jpg"));
  });
});

describe("prepareOut", () => {
  it("refuses --out that is, holds or sits inside an input; --resume with --force; an empty --out", () => {
    const t = sandbox();
    fs.mkdirSync(path.join(t, "in"));
    for (const out of [path.join(t, "in"), t, path.join(t, "in", "o")])
      expect(() => prepareOut(out, { command: "mine", inputs: [path.join(t, "in")], log: quiet }), out).toThrow(/input/);
    expect(() => prepareOut(path.join(t, "o"), { command: "mine", resume: true, force: true, log: quiet })).toThrow(/exclude/);
    expect(() => prepareOut("", { command: "mine", log: quiet })).toThrow(/empty/);
    expect(fs.readdirSync(t)).toEqual(["in"]);
  });

  it("--force removes only the command's own entries of a marked folder, and refuses an unmarked one", () => {
    const t = sandbox();
    const o = path.join(t, "o");
    fs.mkdirSync(path.join(o, "src", "v"), { recursive: true });
    fs.writeFileSync(path.join(o, "pairs.csv"), "x");
    fs.writeFileSync(path.join(o, "thesis.txt"), "keep me");
    fs.symlinkSync(t, path.join(o, "src", "v", "up")); // must be unlinked, never followed
    const before = treeHash(t, (rel) => rel.startsWith(`o${path.sep}`) || rel === "o");
    expect(() => prepareOut(o, { command: "mine", force: true, log: quiet })).toThrow(/not a mimic-kit output/);
    fs.writeFileSync(path.join(o, MARKER), JSON.stringify({ tool: "mimic-kit", command: "mine", version: "0", owns: ["src"] }));
    const said: string[] = [];
    const p = prepareOut(o, { command: "mine", force: true, owns: ["new"], log: (m) => said.push(m) });
    p.lock.release();
    expect(p.removed).toEqual(["pairs.csv", "src"]);
    expect(fs.readdirSync(o).sort()).toEqual([MARKER, "thesis.txt"]);
    expect(said.join("\n")).toMatch(/removing .*pairs\.csv[\s\S]*kept 1 entry .*thesis\.txt/);
    expect(
      treeDiff(
        before,
        treeHash(t, (rel) => rel.startsWith(`o${path.sep}`) || rel === "o"),
      ),
    ).toEqual([]);
    expect(JSON.parse(fs.readFileSync(path.join(o, MARKER), "utf8")).owns).toEqual(["new"]);
    // --resume of another command's output, or with a planted symlink, is refused
    expect(() => prepareOut(o, { command: "train", resume: true, log: quiet })).toThrow(/not of 'mimic train'/);
    fs.symlinkSync(path.join(t, "elsewhere.json"), path.join(o, "stats.json"));
    expect(() => prepareOut(o, { command: "mine", resume: true, log: quiet })).toThrow(/symlink/);
  });

  it("adoptUnmarked takes a folder of only the command's own entries (a benchmark folder from before markers), nothing else", () => {
    const t = sandbox();
    const old = path.join(t, "bench-old");
    fs.mkdirSync(path.join(old, "runs", "d", "seed0"), { recursive: true });
    fs.writeFileSync(path.join(old, "leaderboard.json"), "{}");
    const claim = { command: "benchmark", resume: true, adoptUnmarked: true, log: quiet } as const;
    const p = prepareOut(old, claim);
    p.lock.release();
    expect(JSON.parse(fs.readFileSync(path.join(old, MARKER), "utf8")).command).toBe("benchmark");
    expect(fs.readdirSync(path.join(old, "runs", "d"))).toEqual(["seed0"]);
    // one entry it does not write, and the folder stays the user's
    const mixed = path.join(t, "mixed");
    fs.mkdirSync(path.join(mixed, "runs"), { recursive: true });
    fs.writeFileSync(path.join(mixed, "notes.txt"), "mine");
    expect(() => prepareOut(mixed, claim)).toThrow(/not a mimic-kit output/);
    expect(fs.existsSync(path.join(mixed, MARKER))).toBe(false);
    // another command's marked output is not adopted
    const trained = path.join(t, "trained");
    fs.mkdirSync(trained);
    fs.writeFileSync(path.join(trained, MARKER), JSON.stringify({ tool: "mimic-kit", command: "train", version: "0", owns: [] }));
    fs.writeFileSync(path.join(trained, "runs"), "x");
    expect(() => prepareOut(trained, claim)).toThrow(/not of 'mimic benchmark'/);
  });
});

describe("OutLock", () => {
  it("is exclusive while held, released on release(), and a dead holder's lock is taken over", () => {
    const o = sandbox();
    const a = OutLock.acquire(o, "mine", quiet);
    expect(() => OutLock.acquire(o, "mine", quiet)).toThrow(new RegExp(`in use by 'mine' \\(pid ${process.pid}`));
    a.release();
    expect(fs.existsSync(path.join(o, LOCK))).toBe(false);
    fs.writeFileSync(
      path.join(o, LOCK),
      JSON.stringify({ pid: 2 ** 22 + 12345, hostname: os.hostname(), started: "then", command: "train" }),
    );
    const said: string[] = [];
    const b = OutLock.acquire(o, "mine", (m) => said.push(m));
    expect(said.join("")).toMatch(/stale lock of 'train'/);
    b.release();
    fs.writeFileSync(path.join(o, LOCK), JSON.stringify({ pid: 1, hostname: "another-host", started: "then", command: "mine" }));
    expect(() => OutLock.acquire(o, "mine", quiet)).toThrow(/another-host.*delete/);
    fs.writeFileSync(path.join(o, LOCK), "{torn");
    expect(() => OutLock.acquire(o, "mine", quiet)).toThrow(/unreadable/);
    expect(fs.readdirSync(o)).toEqual([LOCK]); // no temp file left behind
  });

  it("a killed holder that is not reaped yet (a zombie) holds nothing: its lock is taken over", async () => {
    // `sleep 0` exits at once, but its parent (sh, exec'd into `sleep 2`) never waits for it.
    const sh = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 2"], { stdio: ["ignore", "pipe", "ignore"] });
    const pid = Number(await new Promise<string>((resolve) => sh.stdout.once("data", (d) => resolve(String(d)))));
    await new Promise((r) => setTimeout(r, 300));
    expect(fs.readFileSync(`/proc/${pid}/stat`, "utf8")).toMatch(/\) Z /);
    const o = sandbox();
    fs.writeFileSync(path.join(o, LOCK), JSON.stringify({ pid, hostname: os.hostname(), started: "then", command: "mine" }));
    const said: string[] = [];
    OutLock.acquire(o, "mine", (m) => said.push(m)).release();
    expect(said.join("")).toMatch(/stale lock of 'mine'/);
    sh.kill();
  });
});

describe("should-fix items without a GPU", () => {
  it("an image write into a missing folder names the file", async () => {
    const f = path.join(sandbox(), "missing", "x.png");
    await expect(writePng(f, 2, 2, new Uint8Array(12), 3)).rejects.toThrow(new RegExp(`cannot write ${f.replace(/\./g, "\\.")}`));
  });

  it("--resume retries a video that failed for a transient reason, not one that is broken", () => {
    const o = path.join(sandbox(), "o");
    const cfg = minePresets.mimic;
    const opts = {
      source: "src",
      config: cfg,
      configHash: configHash(cfg),
      seed: 0,
      jpegQuality: 90,
      resume: false,
      force: false,
      log: quiet,
    };
    const fail = (video: string, error: string): VideoResult => ({
      video,
      videoId: `${video}-0`,
      status: "failed",
      error,
      frames: 0,
      candidates: 0,
      kept: 0,
      rejected: {},
      seconds: 0,
    });
    const w = DatasetWriter.open(o, opts);
    w.finishVideo(fail("a.mp4", "EIO: i/o error, read"), []);
    w.finishVideo(fail("b.mp4", "moov atom not found"), []);
    w.close();
    const r = DatasetWriter.open(o, { ...opts, resume: true });
    r.close();
    expect([...r.finished.keys()]).toEqual(["b.mp4"]);
  });

  it("a refused --resume (another --source or config) exits 2 and leaves the marker; no run claims a folder it did not write", () => {
    const t = sandbox();
    const o = path.join(t, "o");
    const cfg = minePresets.mimic;
    const opts = {
      source: "videos",
      config: cfg,
      configHash: configHash(cfg),
      seed: 0,
      jpegQuality: 90,
      resume: false,
      force: false,
      log: quiet,
    };
    DatasetWriter.open(o, opts).close();
    fs.mkdirSync(path.join(o, "photos"));
    fs.writeFileSync(path.join(o, "photos", "p.txt"), "the user's\n");
    const before = treeHash(t);
    // --resume with another source or config: a usage error, and the marker does not gain 'photos'
    expect(() => DatasetWriter.open(o, { ...opts, resume: true, source: "photos" })).toThrow(UsageError);
    expect(() => DatasetWriter.open(o, { ...opts, resume: true, source: "other" })).toThrow(/cannot resume .*source 'other'/);
    expect(() => DatasetWriter.open(o, { ...opts, resume: true, configHash: "0123" })).toThrow(UsageError);
    expect(treeDiff(before, treeHash(t))).toEqual([]);
    // --force (or --resume) into a source folder mimic-kit did not write is refused, nothing removed
    for (const mode of [{ force: true }, { resume: true }])
      expect(() => prepareOut(o, { command: "mine", owns: ["photos"], log: quiet, ...mode })).toThrow(/photos.*did not write/);
    expect(treeDiff(before, treeHash(t))).toEqual([]);
    // so a later --force still keeps the user's folder
    prepareOut(o, { command: "mine", force: true, owns: ["videos"], log: quiet }).lock.release();
    expect(fs.readFileSync(path.join(o, "photos", "p.txt"), "utf8")).toBe("the user's\n");
  });
});
