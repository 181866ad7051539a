// The leaderboard builder (src/benchmark/leaderboard.ts): a pure function of collected per-seed
// results: means, t-intervals over seeds, ranks that do not tell overlapping entries apart.
import { describe, expect, it } from "vitest";
import {
  buildLeaderboard,
  type EntryResult,
  formatStat,
  leaderboardJson,
  leaderboardMarkdown,
  MARKDOWN_COLUMNS,
  METHOD,
  rankByIntervals,
  seedStat,
} from "../../src/benchmark/leaderboard.js";
import { benchmarkScales } from "../../src/benchmark/scales.js";

/** An entry with per-seed AbsRel and mIoU values (delta1, pixAcc fixed). */
const entry = (name: string, absRel: Array<number | null>, mIoU: Array<number | null>, extra: Partial<EntryResult> = {}): EntryResult => ({
  name,
  dataset: name,
  objective: "croco",
  pairs: 10,
  configHash: "abc123",
  seeds: absRel.map((a, k) => ({ seed: k, depth: { absRel: a, delta1: 0.5 }, seg: { mIoU: mIoU[k], pixelAcc: 0.6 } })),
  ...extra,
});

const nano = benchmarkScales.nano;

describe("benchmark leaderboard", () => {
  it("mean and 95% t-interval over seeds, rounded to 4 decimals", () => {
    const s = seedStat([0.3, 0.31, 0.32]);
    // mean 0.31, sd 0.01, t(0.975, 2) = 4.303: +- 0.0248
    expect(s).toEqual({ mean: 0.31, lo: 0.2852, hi: 0.3348, values: [0.3, 0.31, 0.32] });
    expect(formatStat(s)).toBe("0.3100 [0.2852, 0.3348]");
    expect(formatStat(seedStat([0.3]))).toBe("0.3000");
    expect(formatStat(seedStat([null, null]))).toBe("-");
  });

  it("tie grouping: rank = 1 + entries better beyond both intervals; overlapping entries share a rank", () => {
    // intervals (higher is better): A [0.8, 0.9], B [0.75, 0.85] overlaps A, C [0.5, 0.6] below both,
    // D [0.55, 0.78] overlaps B and C but lies below A
    const st = (lo: number, hi: number) => ({ mean: (lo + hi) / 2, lo, hi, values: [] });
    expect(rankByIntervals([st(0.8, 0.9), st(0.75, 0.85), st(0.5, 0.6), st(0.55, 0.78)], true)).toEqual([1, 1, 3, 2]);
    // lower is better: the same intervals mirrored
    expect(rankByIntervals([st(0.1, 0.2), st(0.15, 0.25), st(0.4, 0.5), st(0.22, 0.45)], false)).toEqual([1, 1, 3, 2]);
    // one seed: no interval, points; equal points tie; a failed metric ranks last
    const pt = (v: number | null) => ({ mean: v, lo: null, hi: null, values: [v] });
    expect(rankByIntervals([pt(0.5), pt(0.7), pt(0.5), pt(null)], true)).toEqual([2, 1, 2, 4]);
  });

  it("rows, ties in words and paired comparisons over seeds", () => {
    const lb = buildLeaderboard("nano", nano, "synth", [
      entry("mined", [0.3, 0.31, 0.32], [0.5, 0.52, 0.51]),
      entry("random-pairs", [0.305, 0.315, 0.318], [0.5, 0.51, 0.505]),
      entry("random init", [0.4, 0.41, 0.42], [0.3, 0.31, 0.32], { objective: "none", dataset: "-", pairs: 0, configHash: "-" }),
    ]);
    expect(lb.rows.map((r) => [r.name, r.rank.depth, r.rank.seg])).toEqual([
      ["mined", 1, 1],
      ["random-pairs", 1, 1],
      ["random init", 3, 3],
    ]);
    expect(lb.ties).toEqual([
      "depth (AbsRel): mined and random-pairs share rank 1: no one of them is better than another beyond the 95% intervals",
      "seg (mIoU): mined and random-pairs share rank 1: no one of them is better than another beyond the 95% intervals",
    ]);
    const cmp = (a: string, b: string, m: string) => lb.comparisons.find((c) => c.a === a && c.b === b && c.metric === m)!;
    // paired per seed: random init - mined = +0.1 AbsRel on every seed (sd 0): mined better
    expect(cmp("mined", "random init", "depth.absRel").diff.mean).toBe(0.1);
    expect(cmp("mined", "random init", "depth.absRel").verdict).toBe("mined better");
    expect(cmp("mined", "random init", "seg.mIoU").verdict).toBe("mined better");
    // random-pairs - mined AbsRel = +0.005, +0.005, -0.002: the interval holds 0
    expect(cmp("mined", "random-pairs", "depth.absRel").verdict).toBe("no significant difference");
    const md = leaderboardMarkdown(lb);
    expect(md).toContain(`Each cell: ${METHOD}.`);
    expect(md).toContain("- depth (AbsRel): mined and random-pairs share rank 1");
    expect(md).toContain("- depth.absRel: random init - mined = 0.1000 [0.1000, 0.1000]: mined better");
    const table = md.split("\n").filter((l) => l.startsWith("|"));
    expect(table[0]).toBe(`| ${MARKDOWN_COLUMNS.join(" | ")} |`);
    expect(table[2]).toBe(
      "| 1 | 1 | mined | 10 | abc123 | 0.3100 [0.2852, 0.3348] | 0.5000 [0.5000, 0.5000] | 0.5100 [0.4852, 0.5348] | 0.6000 [0.6000, 0.6000] |",
    );
    expect(table[4]).toMatch(/^\| 3 \| 3 \| random init \| 0 \| - \| 0\.4100/);
  });

  it("JSON has the documented schema", () => {
    const lb = buildLeaderboard("nano", nano, "synth", [entry("a", [0.3, 0.4], [0.1, 0.2])]);
    const j = JSON.parse(leaderboardJson(lb));
    expect(Object.keys(j)).toEqual(["schema", "scale", "recipe", "samplesSeen", "probe", "method", "rows", "comparisons", "ties"]);
    expect(j.schema).toBe("mimic-benchmark/2");
    expect(j.samplesSeen).toBe(nano.steps * nano.batch);
    expect(j.recipe).toEqual(nano);
    expect(Object.keys(j.rows[0])).toEqual(["name", "dataset", "objective", "pairs", "configHash", "rank", "depth", "seg"]);
    expect(j.rows[0].depth.absRel.values).toEqual([0.3, 0.4]);
  });

  it("is deterministic: the same results in any order give byte-identical files", () => {
    const rs = [entry("a", [0.3, 0.31], [0.1, 0.1]), entry("b", [0.3, 0.31], [0.1, 0.1]), entry("c", [0.5, 0.52], [0.3, 0.2])];
    const one = buildLeaderboard("nano", nano, "synth", rs);
    const two = buildLeaderboard("nano", nano, "synth", [...rs].reverse());
    expect(leaderboardJson(two)).toBe(leaderboardJson(one));
    expect(leaderboardMarkdown(two)).toBe(leaderboardMarkdown(one));
  });

  it("rejects two entries with the same name", () => {
    expect(() => buildLeaderboard("nano", nano, "synth", [entry("a", [0.1], [0.1]), entry("a", [0.2], [0.2])])).toThrow(
      /'a' appears twice/,
    );
  });
});

describe("leaderboard with one seed", () => {
  it("says there are no intervals instead of claiming every entry is told apart", () => {
    const lb = buildLeaderboard("nano@seeds=1", { ...benchmarkScales.nano, seeds: 1 }, "p", [
      entry("a", [0.4], [0.1]),
      entry("b", [0.5], [0.2]),
    ]);
    const md = leaderboardMarkdown(lb);
    expect(md).toMatch(/One seed per entry: there are no intervals/);
    expect(md).not.toMatch(/No ties/);
  });
});
