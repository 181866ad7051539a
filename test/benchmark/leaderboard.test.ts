// The leaderboard builder (src/benchmark/leaderboard.ts): a pure function of collected results.
import { describe, expect, it } from "vitest";
import {
  buildLeaderboard,
  type DatasetResult,
  leaderboardJson,
  leaderboardMarkdown,
  MARKDOWN_COLUMNS,
  PRIMARY_SCORE,
} from "../../src/benchmark/leaderboard.js";
import { benchmarkScales } from "../../src/benchmark/scales.js";

const res = (dataset: string, delta1: number | null, mIoU: number | null, extra: Partial<DatasetResult> = {}): DatasetResult => ({
  dataset,
  pairs: 10,
  configHash: "abc123",
  depth: { absRel: 0.3, delta1 },
  seg: { mIoU, pixelAcc: 0.5 },
  ...extra,
});

const nano = benchmarkScales.nano;

describe("benchmark leaderboard", () => {
  it("sorts by depth delta1, then seg mIoU, then name; failed metrics (null) last", () => {
    const lb = buildLeaderboard("nano", nano, "synth", [
      res("c", 0.5, 0.2),
      res("a", 0.6, 0.1),
      res("b", 0.5, 0.3),
      res("z", null, 0.9),
      res("d", 0.5, null),
    ]);
    expect(lb.rows.map((r) => r.dataset)).toEqual(["a", "b", "c", "d", "z"]);
    expect(lb.rows.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5]);
  });

  it("ties (equal after rounding to 4 decimals) share a rank, are listed by name, and the next rank skips", () => {
    const lb = buildLeaderboard("nano", nano, "synth", [
      res("zeta", 0.70001, 0.2),
      res("alpha", 0.70004, 0.2),
      res("mid", 0.7, 0.19),
      res("top", 0.8, 0.0),
    ]);
    expect(lb.rows.map((r) => [r.rank, r.dataset])).toEqual([
      [1, "top"],
      [2, "alpha"],
      [2, "zeta"],
      [4, "mid"],
    ]);
    expect(lb.rows[1].depth.delta1).toBe(0.7);
  });

  it("JSON has the documented schema", () => {
    const lb = buildLeaderboard("nano", nano, "synth", [res("a", 0.6123456, 0.1, { pairs: 42, configHash: "none" })]);
    const j = JSON.parse(leaderboardJson(lb));
    expect(Object.keys(j)).toEqual(["schema", "scale", "recipe", "samplesSeen", "probe", "primary", "rows"]);
    expect(j.schema).toBe("mimic-benchmark/1");
    expect(j.samplesSeen).toBe(nano.steps * nano.batch);
    expect(j.recipe).toEqual(nano);
    expect(j.primary).toBe(PRIMARY_SCORE);
    expect(j.rows[0]).toEqual({
      rank: 1,
      dataset: "a",
      pairs: 42,
      configHash: "none",
      depth: { absRel: 0.3, delta1: 0.6123 },
      seg: { mIoU: 0.1, pixelAcc: 0.5 },
    });
  });

  it("markdown: the documented columns, one row per dataset, 4 decimals, '-' for a failed metric", () => {
    const lb = buildLeaderboard("nano", nano, "synth", [res("a", 0.6, null), res("b", 0.5, 0.25)]);
    const md = leaderboardMarkdown(lb);
    const table = md.split("\n").filter((l) => l.startsWith("|"));
    expect(table[0]).toBe(`| ${MARKDOWN_COLUMNS.join(" | ")} |`);
    expect(MARKDOWN_COLUMNS).toEqual(["rank", "dataset", "pairs", "config", "depth δ1 ↑", "depth absRel ↓", "seg mIoU ↑", "seg pixAcc ↑"]);
    expect(table[1].split("|").length).toBe(MARKDOWN_COLUMNS.length + 2);
    expect(table.slice(2)).toEqual([
      "| 1 | a | 10 | abc123 | 0.6000 | 0.3000 | - | 0.5000 |",
      "| 2 | b | 10 | abc123 | 0.5000 | 0.3000 | 0.2500 | 0.5000 |",
    ]);
    expect(md).toContain("scale nano, probe synth");
    expect(md).toContain(`${nano.steps} steps x batch ${nano.batch} = ${nano.steps * nano.batch} pairs seen`);
  });

  it("is deterministic: the same results in any order give byte-identical files", () => {
    const rs = [res("a", 0.6, 0.1), res("b", 0.6, 0.1), res("c", 0.4, 0.3), res("d", 0.123456789, 0.987654321)];
    const one = buildLeaderboard("nano", nano, "synth", rs);
    const two = buildLeaderboard("nano", nano, "synth", [...rs].reverse());
    expect(leaderboardJson(two)).toBe(leaderboardJson(one));
    expect(leaderboardMarkdown(two)).toBe(leaderboardMarkdown(one));
  });

  it("rejects two datasets with the same name", () => {
    expect(() => buildLeaderboard("nano", nano, "synth", [res("a", 0.1, 0.1), res("a", 0.2, 0.2)])).toThrow(/'a' appears twice/);
  });
});
