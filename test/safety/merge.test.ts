// `mimic merge` writes only into --out (issue 19, item 2): a shard's config.json `source` and its
// pairs.jsonl records are input, not trusted paths; --out may not be one of the shards.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { csvLine } from "../../src/mine/writer.js";
import { mimic, sandbox, treeDiff, treeHash } from "./helpers.js";

/** A hand-made shard as `mimic mine --shard` writes it: one finished video with one pair. */
function shard(dir: string, source: string, video: string, vid: string): void {
  const id = `${source}/${vid}/0`;
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(path.join(dir, id), { recursive: true });
  for (const f of ["0000.jpg", "0001.jpg"]) fs.writeFileSync(path.join(dir, id, f), `${vid} ${f}`);
  fs.writeFileSync(path.join(dir, id, "corresponding.json"), "{}\n");
  fs.writeFileSync(path.join(dir, "config.json"), `${JSON.stringify({ configHash: "h", source, config: {} })}\n`);
  const rec = { id, source, video, t1: 0, t2: 1, path1: `${id}/0000.jpg`, path2: `${id}/0001.jpg`, H: [], inliers: 9, overlap: 0.6 };
  fs.writeFileSync(path.join(dir, "pairs.jsonl"), `${JSON.stringify(rec)}\n`);
  fs.writeFileSync(path.join(dir, "pairs.csv"), `path1,path2,correspondence\n${csvLine(rec)}\n`);
  const r = { video, videoId: vid, status: "done", frames: 2, candidates: 1, kept: 1, rejected: {}, seconds: 0 };
  fs.writeFileSync(path.join(dir, "progress.jsonl"), `${JSON.stringify(r)}\n`);
}

describe("merge", () => {
  it("refuses a shard whose config.json names a source outside --out, writing nothing", async () => {
    const t = sandbox();
    // The shards' source '../evil' makes <shard>/../evil the pair folder, and <out>/../evil the target.
    for (const [i, v] of ["a", "b"].entries()) shard(path.join(t, "w", `s${i}`), "../evil", `${v}.mp4`, `${v}-0000000${i}`);
    // <out>/../evil = t/x/evil: user data there that a merge on main overwrote.
    fs.mkdirSync(path.join(t, "x", "evil", "a-00000000", "0"), { recursive: true });
    fs.writeFileSync(path.join(t, "x", "evil", "a-00000000", "0", "0000.jpg"), "user data\n");
    const before = treeHash(t);
    const r = await mimic(["merge", path.join(t, "w", "s0"), path.join(t, "w", "s1"), "--out", path.join(t, "x", "m")]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/source "\.\.\/evil"/);
    expect(treeDiff(before, treeHash(t))).toEqual([]);
  });

  it("refuses a record whose paths leave its pair folder", async () => {
    const t = sandbox();
    shard(path.join(t, "s0"), "src", "a.mp4", "a-00000000");
    const f = path.join(t, "s0", "pairs.jsonl");
    const rec = JSON.parse(fs.readFileSync(f, "utf8"));
    fs.writeFileSync(f, `${JSON.stringify({ ...rec, path1: "../../etc/passwd" })}\n`);
    const r = await mimic(["merge", path.join(t, "s0"), "--out", path.join(t, "m")]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/pairs\.jsonl line 1/);
    expect(fs.existsSync(path.join(t, "m"))).toBe(false);
  });

  it("refuses an --out that is one of its shards, even with --force, and leaves the shards alone", async () => {
    const t = sandbox();
    shard(path.join(t, "s0"), "src", "a.mp4", "a-00000000");
    shard(path.join(t, "s1"), "src", "b.mp4", "b-00000001");
    const before = treeHash(t);
    for (const out of ["s0", "s1", "."]) {
      const r = await mimic(["merge", "s0", "s1", "--out", out, "--force"], t);
      expect(r.status, `${out}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/input/);
    }
    expect(treeDiff(before, treeHash(t))).toEqual([]);
    const ok = await mimic(["merge", "s0", "s1", "--out", "m"], t);
    expect(ok.status, ok.stderr).toBe(0);
    const csv = fs
      .readFileSync(path.join(t, "m", "pairs.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1);
    expect(csv.length).toBe(2);
    for (const line of csv) for (const p of line.split(",").slice(0, 2)) expect(fs.existsSync(path.join(t, "m", p)), p).toBe(true);
  });

  it("copies the pair folders of finished videos only: an interrupted shard's unfinished video stays out", async () => {
    const t = sandbox();
    shard(path.join(t, "s0"), "src", "a.mp4", "a-00000000");
    // s1 was killed inside video b: its pair folder and a temp folder are there, its progress line is not
    shard(path.join(t, "s1"), "src", "c.mp4", "c-00000002");
    fs.mkdirSync(path.join(t, "s1", "src", "b-00000001", "0"), { recursive: true });
    fs.writeFileSync(path.join(t, "s1", "src", "b-00000001", "0", "0000.jpg"), "half a video\n");
    fs.mkdirSync(path.join(t, "s1", "src", "b-00000001", ".tmp-1"), { recursive: true });
    const r = await mimic(["merge", "s0", "s1", "--out", "m"], t);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readdirSync(path.join(t, "m", "src")).sort()).toEqual(["a-00000000", "c-00000002"]);
  });

  it.each([
    ["progress.jsonl", /progress\.jsonl line 2/],
    ["pairs.jsonl", /pairs\.jsonl line 2/],
    ["candidates.jsonl", /candidates\.jsonl line 1/],
    ["config.json", /config\.json/],
    ["stats.json", /stats\.json/],
  ])("a shard with a broken %s: exit 2 naming the file and line, nothing written", async (file, msg) => {
    const t = sandbox();
    shard(path.join(t, "s0"), "src", "a.mp4", "a-00000000");
    const f = path.join(t, "s0", file);
    if (file.endsWith(".jsonl")) fs.appendFileSync(f, "{torn in the middle\n");
    else fs.writeFileSync(f, "{not json");
    const r = await mimic(["merge", "s0", "--out", "m"], t);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(fs.existsSync(path.join(t, "m"))).toBe(false);
  });

  it("a missing shard, or one shard given twice: exit 2", async () => {
    const t = sandbox();
    shard(path.join(t, "s0"), "src", "a.mp4", "a-00000000");
    fs.writeFileSync(path.join(t, "s0", "progress.jsonl"), ""); // a shard that mined no video yet
    for (const args of [
      ["s0", "nothing"],
      ["s0", "s0"],
      ["s0", path.join(t, "s0")],
    ]) {
      const r = await mimic(["merge", ...args, "--out", "m"], t);
      expect(r.status, `${args}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/no config\.json|given twice/);
    }
    expect(fs.existsSync(path.join(t, "m"))).toBe(false);
  });
});
