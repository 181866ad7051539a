// Hostile manifests (issue 19, "done when"): pairs.csv, pairs.jsonl, progress.jsonl and config.json
// rows with '..', absolute paths and symlinks are fed to train, report, merge and mine --resume.
// Each case runs in a fresh /tmp/safety-* sandbox beside a `secret/` folder, and the whole sandbox
// but the output folder is fingerprinted before and after: nothing outside --out may change, no
// secret may be embedded, and the refusal names the row and the path.
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { configHash, minePresets } from "../../src/mine/config.js";
import { videoId } from "../../src/mine/shard.js";
import { csvLine } from "../../src/mine/writer.js";
import { mimic, sandbox, tinyVideo, treeDiff, treeHash } from "./helpers.js";

/** A 32x32 JPEG of a seeded pattern. */
async function jpeg(file: string, seed: number): Promise<void> {
  const rgb = Buffer.alloc(32 * 32 * 3);
  for (let p = 0; p < rgb.length; p++) rgb[p] = (p * (7 + seed)) % 251;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(rgb, { raw: { width: 32, height: 32, channels: 3 } })
    .jpeg()
    .toFile(file);
}

/** Ways a manifest path can point outside its dataset `ds` at t/secret/secret.jpg. */
const HOSTILE: Array<[string, (t: string, ds: string) => string]> = [
  ["'..'", () => "../secret/secret.jpg"],
  ["'..' after a folder", () => "src/v/../../../secret/secret.jpg"],
  ["an absolute path", (t) => path.join(t, "secret", "secret.jpg")],
  [
    "a symlinked file",
    (t, ds) => {
      fs.symlinkSync(path.join(t, "secret", "secret.jpg"), path.join(ds, "src", "link.jpg"));
      return "src/link.jpg";
    },
  ],
  [
    "a symlinked folder",
    (t, ds) => {
      fs.symlinkSync(path.join(t, "secret"), path.join(ds, "src", "linkdir"));
      return "src/linkdir/secret.jpg";
    },
  ],
];

const SOURCE = "src";
const VID = "v-00000000";

/**
 * t/secret/{secret.jpg,secret.txt} and a mined dataset t/ds with 2 good pairs and a third whose
 * path1 is `hostile` (in pairs.csv and pairs.jsonl), as a finished shard.
 */
async function world(make: (t: string, ds: string) => string): Promise<{ t: string; ds: string; bad: string; secretB64: string }> {
  const t = sandbox();
  const ds = path.join(t, "ds");
  await jpeg(path.join(t, "secret", "secret.jpg"), 99);
  fs.writeFileSync(path.join(t, "secret", "secret.txt"), "secret\n");
  const recs = [];
  for (let k = 0; k < 3; k++) {
    const id = `${SOURCE}/${VID}/${k}`;
    await jpeg(path.join(ds, id, "0000.jpg"), 2 * k);
    await jpeg(path.join(ds, id, "0001.jpg"), 2 * k + 1);
    fs.writeFileSync(path.join(ds, id, "corresponding.json"), "{}\n");
    recs.push({
      id,
      source: SOURCE,
      video: "v.mp4",
      t1: k,
      t2: k + 1,
      path1: `${id}/0000.jpg`,
      path2: `${id}/0001.jpg`,
      H: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      inliers: 9,
      overlap: 0.6,
      correspondence: { 0: 0 },
    });
  }
  const bad = make(t, ds);
  recs[2].path1 = bad;
  fs.writeFileSync(path.join(ds, "pairs.jsonl"), recs.map((r) => `${JSON.stringify(r)}\n`).join(""));
  fs.writeFileSync(path.join(ds, "pairs.csv"), ["path1,path2,correspondence", ...recs.map(csvLine)].map((l) => `${l}\n`).join(""));
  fs.writeFileSync(path.join(ds, "config.json"), `${JSON.stringify({ configHash: "h", source: SOURCE, config: {} })}\n`);
  const r = { video: "v.mp4", videoId: VID, status: "done", frames: 4, candidates: 3, kept: 3, rejected: {}, seconds: 0 };
  fs.writeFileSync(path.join(ds, "progress.jsonl"), `${JSON.stringify(r)}\n`);
  return { t, ds, bad, secretB64: fs.readFileSync(path.join(t, "secret", "secret.jpg")).toString("base64") };
}

/** The sandbox minus the output folder `o`. */
const outside = (t: string) => treeHash(t, (rel) => rel === "o" || rel.startsWith(`o${path.sep}`));

describe.each(HOSTILE)("a manifest path through %s", (_what, make) => {
  it("train refuses it, naming the row and the path; nothing outside --out changes", async () => {
    const { t, ds, bad } = await world(make);
    const before = outside(t);
    const r = await mimic([
      "train",
      "--data",
      ds,
      "--out",
      path.join(t, "o"),
      "--steps",
      "1",
      "--model",
      "nano",
      "--batch",
      "1",
      "--workers",
      "0",
      "--quiet",
    ]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain("pairs.csv row 3");
    expect(r.stderr).toContain(JSON.stringify(bad));
    expect(treeDiff(before, outside(t))).toEqual([]);
  });

  it("report does not embed it; nothing outside --out changes", async () => {
    const { t, ds, secretB64 } = await world(make);
    const before = outside(t);
    const out = path.join(t, "o", "report.html");
    const r = await mimic(["report", "--mined", ds, "--out", out, "--quiet"]);
    expect([0, 1], r.stderr).toContain(r.status);
    if (fs.existsSync(out)) expect(fs.readFileSync(out, "utf8").includes(secretB64)).toBe(false);
    expect(treeDiff(before, outside(t))).toEqual([]);
  });

  it("merge refuses it; nothing outside --out changes", async () => {
    const { t, ds } = await world(make);
    const before = outside(t);
    const r = await mimic(["merge", ds, "--out", path.join(t, "o")]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain("pairs.jsonl line 3");
    expect(treeDiff(before, outside(t))).toEqual([]);
  });
});

describe("mine --resume on a planted output", () => {
  let video = "";
  beforeAll(() => {
    video = path.join(sandbox(), "clip.mp4");
    tinyVideo(video);
  });

  /** t/in/clip.mp4, t/secret/, and t/o: a finished mine output of it (made by hand) that `plant` edits. */
  function planted(plant: (o: string, t: string) => void): string {
    const t = sandbox();
    fs.mkdirSync(path.join(t, "in"));
    fs.copyFileSync(video, path.join(t, "in", "clip.mp4"));
    fs.mkdirSync(path.join(t, "secret"));
    fs.writeFileSync(path.join(t, "secret", "secret.txt"), "secret\n");
    fs.mkdirSync(path.join(t, "secret", "clip-00000000"));
    const o = path.join(t, "o");
    const cfg = minePresets.mimic;
    const vid = videoId("clip.mp4");
    fs.mkdirSync(path.join(o, "clip", vid, "0"), { recursive: true });
    fs.writeFileSync(path.join(o, ".mimic-kit.json"), JSON.stringify({ tool: "mimic-kit", command: "mine", version: "0", owns: ["clip"] }));
    fs.writeFileSync(path.join(o, "config.json"), JSON.stringify({ configHash: configHash(cfg), source: "clip", config: cfg }));
    const id = `clip/${vid}/0`;
    const rec = { id, source: "clip", video: "clip.mp4", path1: `${id}/0000.jpg`, path2: `${id}/0001.jpg` };
    fs.writeFileSync(path.join(o, "pairs.jsonl"), `${JSON.stringify(rec)}\n`);
    fs.writeFileSync(path.join(o, "pairs.csv"), `path1,path2,correspondence\n${csvLine(rec)}\n`);
    const r = { video: "clip.mp4", videoId: vid, status: "done", frames: 2, candidates: 1, kept: 1, rejected: {}, seconds: 0 };
    fs.writeFileSync(path.join(o, "progress.jsonl"), `${JSON.stringify(r)}\n`);
    plant(o, t);
    return t;
  }

  it.each<[string, (o: string, t: string) => void, RegExp]>([
    [
      "a record whose paths leave its pair folder",
      (o) =>
        fs.appendFileSync(
          path.join(o, "pairs.jsonl"),
          `${JSON.stringify({ id: "clip/../../secret/0", path1: "../secret/secret.txt", path2: "x" })}\n`,
        ),
      /pairs\.jsonl line 2/,
    ],
    [
      "a progress line naming '..' as its video id",
      (o) => {
        fs.appendFileSync(
          path.join(o, "progress.jsonl"),
          `${JSON.stringify({ video: "../secret", videoId: "..", status: "failed", frames: 0, candidates: 0, kept: 0, rejected: {}, seconds: 0 })}\n`,
        );
        fs.appendFileSync(
          path.join(o, "pairs.jsonl"),
          `${JSON.stringify({ id: "clip/../0", path1: "clip/../0/0000.jpg", path2: "clip/../0/0001.jpg" })}\n`,
        );
      },
      /pairs\.jsonl line 2/,
    ],
    [
      "stats.json as a symlink out of --out",
      (o, t) => fs.symlinkSync(path.join(t, "secret", "secret.txt"), path.join(o, "stats.json")),
      /symlink/,
    ],
    [
      "the source folder as a symlink out of --out",
      (o, t) => {
        fs.rmSync(path.join(o, "clip"), { recursive: true });
        fs.symlinkSync(path.join(t, "secret"), path.join(o, "clip"));
      },
      /symlink/,
    ],
    [
      "config.json with source '../secret'",
      (o) => fs.writeFileSync(path.join(o, "config.json"), JSON.stringify({ configHash: "x", source: "../secret" })),
      /cannot resume/,
    ],
  ])("%s: refused, nothing outside --out changes", async (_what, plant, msg) => {
    const t = planted(plant);
    const before = outside(t);
    const r = await mimic(["mine", path.join(t, "in", "clip.mp4"), "--out", path.join(t, "o"), "--resume", "--preset", "mimic", "--quiet"]);
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(msg);
    expect(treeDiff(before, outside(t))).toEqual([]);
  });
});
