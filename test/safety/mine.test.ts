// `mimic mine` never writes or deletes outside --out (issue 19, items 1, 3, 5 and the exit codes).
// Every run happens in a fresh /tmp/safety-* sandbox, and each test compares a fingerprint of the
// whole sandbox (everything but the output folder) before and after.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { mimic, sandbox, tinyVideo, treeDiff, treeHash } from "./helpers.js";

const FLAGS = ["--preset", "mimic", "--quiet"];
let video = "";

/** A sandbox with t/in/<name> (the video), t/work/thesis.txt (unrelated user data). */
function layout(name: string): { t: string; input: string; work: string } {
  const t = path.join(sandbox(), "t");
  fs.mkdirSync(path.join(t, "in"), { recursive: true });
  fs.mkdirSync(path.join(t, "work"), { recursive: true });
  fs.writeFileSync(path.join(t, "work", "thesis.txt"), "four years of work\n");
  const input = path.join(t, "in", name);
  fs.copyFileSync(video, input);
  return { t, input, work: path.join(t, "work") };
}

/** Everything in `t` except the output folder `o` (and what is under it). */
const outside = (t: string, o = "o") => treeHash(t, (rel) => rel === o || rel.startsWith(`${o}${path.sep}`));

beforeAll(() => {
  video = path.join(sandbox(), "v.mp4");
  tinyVideo(video);
});

describe("mine: names used as path segments", () => {
  it("a video named '...mp4' mines into <out>/videos, and --resume deletes nothing beside --out", async () => {
    const { t, input } = layout("...mp4");
    const before = outside(t);
    const out = path.join(t, "o");
    const r1 = await mimic(["mine", input, "--out", out, ...FLAGS]);
    expect(r1.status, r1.stderr).toBe(0);
    const r2 = await mimic(["mine", input, "--out", out, "--resume", ...FLAGS]);
    expect(r2.status, r2.stderr).toBe(0);
    expect(treeDiff(before, outside(t))).toEqual([]);
    expect(JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8")).source).toBe("videos");
  });

  it.each([".", "..", "../x", "a/b", ""])("--source %j is refused with exit 2 and nothing written", async (source) => {
    const { t, input } = layout("clip.mp4");
    const before = treeHash(t);
    const r = await mimic(["mine", input, "--out", path.join(t, "o"), "--source", source, ...FLAGS]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--source/);
    expect(treeDiff(before, treeHash(t))).toEqual([]);
  });

  it("--resume with --source . on a finished run is refused and keeps the manifests", async () => {
    const { t, input } = layout("clip.mp4");
    const out = path.join(t, "o");
    expect((await mimic(["mine", input, "--out", out, ...FLAGS])).status).toBe(0);
    const before = treeHash(t);
    const r = await mimic(["mine", input, "--out", out, "--resume", "--source", ".", ...FLAGS]);
    expect(r.status, r.stderr).toBe(2);
    expect(treeDiff(before, treeHash(t))).toEqual([]);
  });
});

describe("mine --force", () => {
  it("refuses an --out that is, or holds, the input folder (cwd = --out)", async () => {
    const { t } = layout("clip.mp4");
    const before = treeHash(t);
    for (const args of [
      ["mine", "in", "--out", ".", "--force"],
      ["mine", "in", "--out", "in", "--force"],
      ["mine", "in", "--out", "in/sub", "--force"],
      ["mine", "in/clip.mp4", "--out", "in", "--force"],
    ]) {
      const r = await mimic([...args, ...FLAGS], t);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/input/);
    }
    expect(treeDiff(before, treeHash(t))).toEqual([]);
  });

  it("refuses a folder mimic-kit did not write, even with --force", async () => {
    const { t, input, work } = layout("clip.mp4");
    const before = treeHash(t);
    const r = await mimic(["mine", input, "--out", work, "--force", ...FLAGS]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/not a mimic-kit output/);
    expect(treeDiff(before, treeHash(t))).toEqual([]);
  });

  it("removes only what mine wrote, says so, and keeps the user's files", async () => {
    const { t, input } = layout("clip.mp4");
    const out = path.join(t, "o");
    expect((await mimic(["mine", input, "--out", out, "--source", "first", ...FLAGS])).status).toBe(0);
    fs.writeFileSync(path.join(out, "notes.txt"), "mine, not mimic-kit's\n");
    const r = await mimic(["mine", input, "--out", out, "--force", "--source", "second", ...FLAGS]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/removing .*pairs\.csv/);
    expect(r.stderr).toMatch(/kept 1 entry .*notes\.txt/);
    expect(fs.readFileSync(path.join(out, "notes.txt"), "utf8")).toBe("mine, not mimic-kit's\n");
    expect(fs.existsSync(path.join(out, "first"))).toBe(false); // the previous run's source folder went
  });

  it("--resume --force together is an argument error", async () => {
    const { t, input } = layout("clip.mp4");
    const r = await mimic(["mine", input, "--out", path.join(t, "o"), "--resume", "--force", ...FLAGS]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/exclude each other/);
  });
});

describe("mine: the lock", () => {
  it("--resume is refused while another live process holds the lock; a dead one's lock is taken over", async () => {
    const { t, input } = layout("clip.mp4");
    const out = path.join(t, "o");
    expect((await mimic(["mine", input, "--out", out, ...FLAGS])).status).toBe(0);
    const lock = path.join(out, ".mimic-kit.lock");
    expect(fs.existsSync(lock)).toBe(false); // released at the end of the run
    // A live holder: this test process.
    const live = { pid: process.pid, hostname: os.hostname(), started: new Date().toISOString(), command: "mine" };
    fs.writeFileSync(lock, JSON.stringify(live));
    const before = treeHash(t);
    const r = await mimic(["mine", input, "--out", out, "--resume", ...FLAGS]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`in use by 'mine' \\(pid ${process.pid}`));
    expect(treeDiff(before, treeHash(t))).toEqual([]);
    // A dead holder: a process that has exited.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
    fs.writeFileSync(lock, JSON.stringify({ ...live, pid: dead }));
    const r2 = await mimic(["mine", input, "--out", out, "--resume", ...FLAGS]);
    expect(r2.status, r2.stderr).toBe(0);
    expect(r2.stderr).toMatch(new RegExp(`stale lock .*pid ${dead}`));
    expect(fs.existsSync(lock)).toBe(false);
  });
});

describe("mine: exit codes", () => {
  it.each([
    [["--overlap-lower", "90", "--overlap-upper", "10"], /overlapLower/],
    [["--ransac-confidence", "2"], /ransacConfidence/],
    [["--ransac-confidence", "0"], /ransacConfidence/],
  ])("bad config %j: exit 2", async (flags, msg) => {
    const { t, input } = layout("clip.mp4");
    const r = await mimic(["mine", input, "--out", path.join(t, "o"), ...flags, ...FLAGS]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(fs.existsSync(path.join(t, "o"))).toBe(false);
  });

  it("a missing input or an empty --out: exit 2; a folder without videos: exit 1, says so", async () => {
    const { t, input, work } = layout("clip.mp4");
    const missing = await mimic(["mine", path.join(t, "nope"), "--out", path.join(t, "o"), ...FLAGS]);
    expect(missing.status, missing.stderr).toBe(2);
    const before = treeHash(t);
    const empty = await mimic(["mine", input, "--out", "", ...FLAGS], t);
    expect(empty.status, empty.stderr).toBe(2);
    expect(treeDiff(before, treeHash(t))).toEqual([]);
    const none = await mimic(["mine", work, "--out", path.join(t, "o"), ...FLAGS]);
    expect(none.status, none.stderr).toBe(1);
    expect(none.stderr).toMatch(/no videos/);
  });
});
