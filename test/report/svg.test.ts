// The report's inline SVG charts (src/report/svg.ts): shape of the output, read back by parsing
// the attributes the charts write.
import { describe, expect, it } from "vitest";
import { barChart, binCounts, histogram, lineChart, logTicks, niceTicks } from "../../src/report/svg.js";

/** All tags <tag ...> in an SVG string, as attribute maps. */
function tags(svg: string, tag: string, cls?: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (const m of svg.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, "g"))) {
    const a: Record<string, string> = {};
    for (const kv of m[1].matchAll(/([\w:-]+)="([^"]*)"/g)) a[kv[1]] = kv[2];
    if (!cls || (a.class ?? "").split(" ").includes(cls)) out.push(a);
  }
  return out;
}

describe("report svg: ticks", () => {
  it("niceTicks covers the range with 1/2/5 steps", () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 37, 4)).toEqual([0, 10, 20, 30]);
    const t = niceTicks(-3.3, 7.9, 6);
    for (let i = 1; i < t.length; i++) expect(t[i] - t[i - 1]).toBeCloseTo(2, 9);
    expect(t[0]).toBeGreaterThanOrEqual(-3.3);
    expect(t[t.length - 1]).toBeLessThanOrEqual(7.9);
  });
  it("logTicks gives powers of ten (and 2x, 5x over a short range)", () => {
    expect(logTicks(0.001, 10)).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(logTicks(0.05, 1.5)).toEqual([0.05, 0.1, 0.2, 0.5, 1]);
    expect(logTicks(0, 1)).toEqual([]);
  });
});

describe("report svg: histogram", () => {
  const a = [0.05, 0.12, 0.55, 0.56, 0.6, 0.74, 0.99, 1.0, 1.5, -0.1, Number.NaN];
  const b = [0.3, 0.31, 0.55];
  it("binCounts puts hi in the last bin and drops values outside [lo, hi]", () => {
    const c = binCounts(a, 10, 0, 1);
    expect(c.length).toBe(10);
    expect(c.reduce((x, y) => x + y, 0)).toBe(8);
    expect(c[9]).toBe(2); // 0.99 and 1.0
    expect(c[5]).toBe(2); // 0.55, 0.56
  });
  it("draws one bar per non-empty bin and series, stacked, with the band shaded", () => {
    const svg = histogram(
      [
        { label: "kept", values: a },
        { label: "rejected <x>", values: b },
      ],
      { bins: 10, band: [0.5, 0.75], bandLabel: "keep band" },
    );
    expect(svg.startsWith('<svg class="chart histogram"')).toBe(true);
    expect(svg.endsWith("</svg>")).toBe(true);
    const bars = tags(svg, "rect", "bar");
    const s0 = bars.filter((r) => r["data-series"] === "0");
    const s1 = bars.filter((r) => r["data-series"] === "1");
    expect(s0.reduce((x, r) => x + Number(r["data-count"]), 0)).toBe(8);
    expect(s1.reduce((x, r) => x + Number(r["data-count"]), 0)).toBe(3);
    expect(s0.length).toBe(binCounts(a, 10, 0, 1).filter((c) => c > 0).length);
    // Bin 5 holds 2 of series 0 and 1 of series 1: series 1 sits on top, heights proportional to counts.
    const b0 = s0.find((r) => r["data-bin"] === "5")!;
    const b1 = s1.find((r) => r["data-bin"] === "5")!;
    expect(Number(b1.y) + Number(b1.height)).toBeCloseTo(Number(b0.y), 0);
    expect(Number(b0.height) / Number(b1.height)).toBeCloseTo(2, 1);
    // The band spans [0.5, 0.75] of the x axis: its width is a quarter of the plot width, and it starts where bin 5 does.
    const band = tags(svg, "rect", "band")[0];
    const bin0 = s0.find((r) => r["data-bin"] === "0")!;
    const bin9 = s0.find((r) => r["data-bin"] === "9")!;
    const plotW = Number(bin9.x) + Number(bin9.width) - Number(bin0.x) + 1;
    expect(Number(band.width) / plotW).toBeCloseTo(0.25, 2);
    expect(Math.abs(Number(band.x) - (Number(b0.x) - 0.5))).toBeLessThan(1);
    // Labels are escaped.
    expect(svg).toContain("rejected &lt;x&gt;");
    expect(svg).not.toContain("<x>");
  });
});

describe("report svg: line chart", () => {
  it("one path per series with one M and L per point", () => {
    const svg = lineChart(
      [
        { label: "croco", points: [0, 1, 2, 3].map((x) => [x * 10, 2 / (x + 1)] as [number, number]) },
        {
          label: "mae",
          points: [
            [0, 1.5],
            [10, 1],
            [20, Number.NaN],
          ],
        },
      ],
      { xLabel: "step", yLabel: "loss" },
    );
    const paths = tags(svg, "path", "line");
    expect(paths.map((p) => p["data-points"])).toEqual(["4", "2"]);
    expect((paths[0].d.match(/[ML]/g) ?? []).length).toBe(4);
    // Decreasing loss -> increasing y in SVG coordinates.
    const ys = [...paths[0].d.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeGreaterThan(ys[i - 1]);
    expect(svg).toContain(">croco<");
  });
  it("log scale drops y <= 0 and spaces decades evenly", () => {
    const svg = lineChart(
      [
        {
          label: "l",
          points: [
            [0, 100],
            [1, 10],
            [2, 1],
            [3, 0],
            [4, -1],
          ],
        },
      ],
      { logY: true },
    );
    expect(svg).toContain('data-log-y="true"');
    const p = tags(svg, "path", "line")[0];
    expect(p["data-points"]).toBe("3");
    const ys = [...p.d.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys[1] - ys[0]).toBeCloseTo(ys[2] - ys[1], 0);
  });
  it("says 'no data' without points", () => {
    expect(lineChart([{ label: "x", points: [] }])).toContain("no data");
  });
});

describe("report svg: bar chart", () => {
  it("bar widths are proportional to values and labels escaped", () => {
    const svg = barChart([
      { label: "overlap-out-of-band", value: 40 },
      { label: "a&b <c>", value: 10 },
      { label: "none", value: 0 },
    ]);
    const bars = tags(svg, "rect", "bar");
    expect(bars.map((b) => Number(b["data-value"]))).toEqual([40, 10, 0]);
    expect(Number(bars[0].width) / Number(bars[1].width)).toBeCloseTo(4, 2);
    expect(Number(bars[2].width)).toBe(0);
    expect(svg).toContain("a&amp;b &lt;c&gt;");
  });
});
