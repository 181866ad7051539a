// The dataset writer's crash safety and determinism, and shard merging, without the GPU stages:
// pairs are synthetic, the point is the on-disk protocol.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configHash, minePresets } from "../../src/mine/config.js";
import { mergeShards } from "../../src/mine/merge.js";
import { byteOrder, inShard, parseShard, videoId } from "../../src/mine/shard.js";
import { DatasetWriter, type MinedPair, type VideoResult } from "../../src/mine/writer.js";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "mimic-writer-"));
const cfg = minePresets.mimic;
const opts = (over = {}) => ({
  source: "src",
  config: cfg,
  configHash: configHash(cfg),
  seed: 0,
  jpegQuality: 90,
  resume: false,
  force: false,
  ...over,
});

const img = (v: number) => ({ width: 8, height: 8, rgb: new Uint8Array(8 * 8 * 3).fill(v) });
const pair = (k: number): MinedPair => ({
  t1: k,
  t2: k + 1,
  img1: img(k * 10),
  img2: img(k * 10 + 5),
  H: [1, 0, k, 0, 1, 0, 0, 0, 1],
  inliers: 20 + k,
  overlap: 0.6,
  correspondence: { 0: 1, 5: 7 },
});
const VIDEOS = ["b/clip 2.mp4", "a/clip1.mp4", "c.mov", "d.webm"].sort(byteOrder);

/** Mine the fake videos: video i yields i+1 pairs; stop after `crashAfter` pair writes if given. */
async function fakeMine(out: string, o: ReturnType<typeof opts>, videos = VIDEOS, crashAfter = Infinity): Promise<boolean> {
  const w = DatasetWriter.open(out, o);
  try {
    return await fakeMineInto(w, videos, crashAfter);
  } finally {
    w.close(); // the lock goes (a killed process leaves it, and the next run takes the stale lock over)
  }
}

async function fakeMineInto(w: DatasetWriter, videos: string[], crashAfter: number): Promise<boolean> {
  let writes = 0;
  for (const [i, v] of videos.entries()) {
    if (w.finished.has(v)) continue;
    const id = videoId(v);
    const recs = [];
    for (let k = 0; k <= i % 3; k++) {
      if (writes++ >= crashAfter) return false; // simulated kill -9: nothing else is written
      recs.push(await w.writePair(v, id, k, pair(k)));
    }
    const r: VideoResult = {
      video: v,
      videoId: id,
      status: "done",
      frames: 5,
      candidates: 4,
      kept: recs.length,
      rejected: { "overlap-low": 1 },
      seconds: 0,
    };
    w.finishVideo(r, recs);
  }
  return true;
}

const manifests = (d: string) => ["pairs.csv", "pairs.jsonl", "progress.jsonl"].map((f) => fs.readFileSync(path.join(d, f), "utf8"));

describe("mined dataset writer", () => {
  it("writes the MIMIC layout and csv columns", async () => {
    const out = tmp();
    await fakeMine(out, opts());
    const csv = fs.readFileSync(path.join(out, "pairs.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("path1,path2,correspondence");
    for (const line of csv.slice(1)) {
      const [p1, p2, c] = line.split(",");
      expect(fs.existsSync(path.join(out, p1)) && fs.existsSync(path.join(out, p2))).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(out, c), "utf8"))).toEqual({ 0: 1, 5: 7 });
      expect(p1).toMatch(/^src\/[A-Za-z0-9._-]+\/\d+\/0000\.jpg$/);
    }
  });

  it("refuses a non-empty output without --resume/--force, and a resume with another config", async () => {
    const out = tmp();
    await fakeMine(out, opts());
    expect(() => DatasetWriter.open(out, opts())).toThrow(/--resume/);
    expect(() => DatasetWriter.open(out, opts({ resume: true, configHash: "other" }))).toThrow(/cannot resume/);
  });

  it("resume after a crash at any point gives the uninterrupted manifests, no partial pairs", async () => {
    const ref = tmp();
    await fakeMine(ref, opts());
    for (const crashAfter of [0, 1, 2, 4, 5]) {
      const out = tmp();
      expect(await fakeMine(out, opts(), VIDEOS, crashAfter)).toBe(false);
      // A torn manifest line, as a kill in the middle of an append leaves it.
      fs.appendFileSync(path.join(out, "pairs.jsonl"), '{"id":"src/');
      fs.appendFileSync(path.join(out, "progress.jsonl"), '{"video":');
      expect(await fakeMine(out, opts({ resume: true }))).toBe(true);
      expect(manifests(out)).toEqual(manifests(ref));
      const leftovers = fs
        .readdirSync(path.join(out, "src"), { recursive: true })
        .map(String)
        .filter((f) => f.includes(".tmp"));
      expect(leftovers).toEqual([]);
    }
  });

  it("shards merged equal the unsharded run", async () => {
    const ref = tmp();
    await fakeMine(ref, opts());
    const shards = [0, 1, 2].map((i) => {
      const d = tmp();
      return { d, videos: VIDEOS.filter((v) => inShard(v, parseShard(`${i}/3`))) };
    });
    expect(shards.reduce((n, s) => n + s.videos.length, 0)).toBe(VIDEOS.length);
    for (const s of shards) {
      // Same pair numbering as the unsharded run: fakeMine keys pair counts by global index.
      const w = DatasetWriter.open(s.d, opts());
      for (const v of s.videos) {
        const i = VIDEOS.indexOf(v);
        const recs = [];
        for (let k = 0; k <= i % 3; k++) recs.push(await w.writePair(v, videoId(v), k, pair(k)));
        w.finishVideo(
          {
            video: v,
            videoId: videoId(v),
            status: "done",
            frames: 5,
            candidates: 4,
            kept: recs.length,
            rejected: { "overlap-low": 1 },
            seconds: 0,
          },
          recs,
        );
      }
    }
    const merged = path.join(tmp(), "merged");
    const r = mergeShards(
      shards.map((s) => s.d),
      merged,
    );
    expect(r.videos).toBe(VIDEOS.length);
    expect(manifests(merged)).toEqual(manifests(ref));
    const stats = JSON.parse(fs.readFileSync(path.join(merged, "stats.json"), "utf8"));
    expect(stats.kept).toBe(r.pairs);
  });

  it("parses shards and rejects bad ones", () => {
    expect(parseShard("2/5")).toEqual({ index: 2, count: 5 });
    expect(() => parseShard("5/5")).toThrow();
    expect(() => parseShard("x")).toThrow(/i\/N/);
  });
});
