// `mimic report`: the report built from a synthetic demo folder (test/report/fixture.ts). Checks
// the content against what the fixture wrote, escaping, self-containedness, missing parts, and
// the CLI (exit codes, --json, default output path).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { DepthAccumulator, depthEvalPresets } from "../../src/probe/metrics.js";
import { describeBootstrap, metricIntervals } from "../../src/probe/stats.js";
import { buildReport, type Report } from "../../src/report/report.js";
import { type Fixture, makeFixture, NASTY } from "./fixture.js";

let tmp: string;
let fx: Fixture;
let rep: Report;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-report-"));
  fx = await makeFixture(path.join(tmp, "demo"));
  rep = await buildReport(fx.dir);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The HTML of one <section id=...>. */
const sectionHtml = (html: string, id: string) => {
  const m = new RegExp(`<section id="${id}"[^>]*>([\\s\\S]*?)</section>`).exec(html);
  if (!m) throw new Error(`no section ${id}`);
  return m[1];
};

describe("mimic report: content", () => {
  it("has every section, all present", () => {
    expect(rep.sections.map((s) => s.id)).toEqual([
      "pairs",
      "overlap",
      "mining",
      "training",
      "reconstructions",
      "probe",
      "eval-mining",
      "environment",
    ]);
    for (const s of rep.sections) expect(s.status, `${s.id}: ${s.notes.join("; ")}`).toBe("ok");
  });

  it("the gallery shows every pair with its correspondences as patch rects, images embedded", () => {
    const g = sectionHtml(rep.html, "pairs");
    const figs = g.split('<figure class="pair"').slice(1);
    expect(figs.length).toBe(fx.pairs.length);
    figs.forEach((f, i) => {
      const corr = fx.pairs[i].correspondence;
      const v1 = [...f.matchAll(/<rect class="patch v1"[^>]*data-k="a(\d+)" data-partners="b(\d+)"/g)].map((m) => [m[1], Number(m[2])]);
      expect(Object.fromEntries(v1)).toEqual(corr);
      const v2 = [...f.matchAll(/<rect class="patch v2"/g)].length;
      expect(v2).toBe(new Set(Object.values(corr)).size);
      expect([...f.matchAll(/<img [^>]*src="data:image\/jpeg;base64,/g)].length).toBe(2);
    });
    // The torn last line of pairs.jsonl is noted, not fatal.
    expect(rep.sections[0].notes.join(" ")).toMatch(/pairs\.jsonl: 1 unreadable line/);
  });

  it("the overlap histogram counts every candidate with an overlap, split kept/rejected, band shaded", () => {
    const h = sectionHtml(rep.html, "overlap");
    const count = (series: string) =>
      [...h.matchAll(new RegExp(`data-series="${series}" data-bin="\\d+" data-count="(\\d+)"`, "g"))].reduce((a, m) => a + Number(m[1]), 0);
    const withOverlap = fx.candidates.filter((c) => c.overlap !== null);
    expect(count("0")).toBe(withOverlap.filter((c) => c.kept).length);
    expect(count("1")).toBe(withOverlap.filter((c) => !c.kept).length);
    expect(h).toMatch(new RegExp(`<rect class="band"[^>]*data-lo="${fx.band[0]}" data-hi="${fx.band[1]}"`));
    expect(h).toContain(`${fx.candidates.filter((c) => c.overlap === null).length} without a homography`);
  });

  it("rejection reasons and throughput come from stats.json", () => {
    const m = sectionHtml(rep.html, "mining");
    const reasons = new Map<string, number>();
    for (const c of fx.candidates) if (!c.kept) reasons.set(c.reason!, (reasons.get(c.reason!) ?? 0) + 1);
    const bars = [...m.matchAll(/<rect class="bar"[^>]*data-value="(\d+)"/g)].map((x) => Number(x[1]));
    expect(bars).toEqual([...reasons.values()].sort((a, b) => b - a));
    expect(m).toContain("candidate pairs / s");
    expect(m).toContain("Failed videos");
  });

  it("loss curves: one line per run with every logged step; recons embedded", () => {
    const t = sectionHtml(rep.html, "training");
    const lines = [...t.matchAll(/<path class="line"[^>]*data-points="(\d+)"/g)].map((m) => Number(m[1]));
    const logged = ["croco", "mae"].map(
      (r) =>
        fs
          .readFileSync(path.join(fx.dir, "train", r, "metrics.jsonl"), "utf8")
          .trim()
          .split("\n").length,
    );
    expect(lines).toEqual(logged);
    const r = sectionHtml(rep.html, "reconstructions");
    expect([...r.matchAll(/<img src="data:image\/png;base64,/g)].length).toBe(6);
  });

  it("probe table: best per column bold, in the right direction", () => {
    const p = sectionHtml(rep.html, "probe");
    for (const [task, byEnc] of Object.entries(fx.probe)) {
      const tbl = p.split(`<h3>${task}</h3>`)[1].split("</table>")[0];
      const head = [...tbl.split("</thead>")[0].matchAll(/<th>([^<]*)<\/th>/g)].map((m) => m[1]);
      const rows = tbl
        .split("<tbody>")[1]
        .split("</tr>")
        .filter((r) => r.includes("<td>"))
        .map((r) => [...r.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]));
      expect(rows.map((r) => r[0])).toEqual(["croco", "mae", "random"]);
      const metrics = Object.keys(byEnc.croco);
      metrics.forEach((k, j) => {
        const higher = head[j + 1].endsWith("↑");
        expect(head[j + 1].endsWith("↑") || head[j + 1].endsWith("↓"), head[j + 1]).toBe(true);
        const vals = rows.map((r, i) => byEnc[r[0]][k] ?? i);
        const best = higher ? Math.max(...vals) : Math.min(...vals);
        rows.forEach((r, i) => {
          expect(r[j + 1].includes('class="best"'), `${task} ${k} ${r[0]}`).toBe(vals[i] === best);
        });
      });
    }
    // Per-class IoU from the probe result's iou array and classNames (null = class absent).
    const perClass = p.split("per-class IoU")[1].split("</details>")[0];
    expect(perClass).toMatch(/<td>sky<\/td><td>—<\/td>/);
    expect(perClass).toContain("&lt;script&gt;alert");
    expect(p).toContain("predictions");
  });

  it("probe intervals and paired differences: which differences are significant", async () => {
    // three encoders' depth probes on the same 40 val images, as mimic probe writes them
    // (metrics, intervals, imageStats): croco beats random on every image by a wide margin;
    // mae equals croco up to per-image noise of either sign
    const d = path.join(tmp, "paired");
    const acc = (bias: number, jitter: number) => {
      const a = new DepthAccumulator({ ...depthEvalPresets.synth });
      for (let i = 0; i < 40; i++) {
        const gt = Array.from({ length: 9 }, (_, k) => 1 + ((i * 9 + k) % 7) * 0.5);
        a.add(
          gt.map((g, k) => g * (1 + bias + jitter * Math.cos(7 * i) + 0.2 * Math.sin(i + k))),
          gt,
          3,
          3,
          `img${i}`,
        );
      }
      return a;
    };
    for (const [enc, bias, jitter] of [
      ["croco", 0, 0],
      ["mae", 0, 0.01],
      ["random", 0.3, 0],
    ] as const) {
      const a = acc(bias, jitter);
      const st = a.imageStats();
      const iv = metricIntervals(st, { resamples: 300, seed: 0 });
      fs.mkdirSync(path.join(d, "probe", `${enc}-depth`), { recursive: true });
      fs.writeFileSync(
        path.join(d, "probe", `${enc}-depth`, "metrics.json"),
        JSON.stringify({
          task: "depth",
          encoder: enc,
          metrics: a.result(),
          intervals: {
            description: describeBootstrap(iv.info),
            info: iv.info,
            ci: Object.fromEntries(Object.entries(iv.ci).map(([k, v]) => [k, [v.lo, v.hi]])),
          },
          imageStats: st,
        }),
      );
    }
    const r = await buildReport(d);
    const p = sectionHtml(r.html, "probe");
    expect(p).toMatch(/<span class="ci">\[0\.\d+, 0\.\d+\]<\/span>/);
    expect(p).toContain("percentile bootstrap over 40 val images, 300 resamples, seed 0");
    const row = (pair: string, metric: string) => p.split(`<td>${pair}</td><td>${metric}</td>`)[1]?.split("</tr>")[0] ?? "";
    expect(row("croco − random", "AbsRel")).toContain("croco better (significant)");
    expect(row("croco − mae", "AbsRel")).toContain("no significant difference");
    const sum = sectionHtml(r.html, "summary");
    expect(sum).toMatch(/depth AbsRel: croco vs random: <b>croco better<\/b>/);
    expect(sum).toMatch(/depth AbsRel: croco vs mae: no significant difference/);
  });

  it("eval-mining shows each preset's precision and recall", () => {
    const e = sectionHtml(rep.html, "eval-mining");
    expect(e).toMatch(/<td>default<\/td><td>0\.93<\/td><td>0\.81<\/td>/);
    expect(e).toMatch(/<td>mimic<\/td><td>0\.78<\/td><td>0\.85<\/td>/);
  });

  it("the summary at the top states the headline numbers from the files", () => {
    const sum = sectionHtml(rep.html, "summary");
    expect(sum).toContain(`mined <b>${fx.pairs.length}</b> pairs from ${fx.candidates.length} candidate pairs`);
    // depth: AbsRel, lowest first; seg: mIoU, highest first.
    const order = (task: string, k: string, higher: boolean) =>
      Object.entries(fx.probe[task])
        .sort((a, b) => (higher ? b[1][k] - a[1][k] : a[1][k] - b[1][k]))
        .map((e) => e[0]);
    const ranked = (re: RegExp) => [...(re.exec(sum)?.[1] ?? "").matchAll(/(?:<b>)?(\w+) [\d.]+/g)].map((m) => m[1]);
    expect(ranked(/depth AbsRel ↓: (.*?)<\/li>/)).toEqual(order("depth", "absRel", false));
    expect(ranked(/seg mIoU ↑: (.*?)<\/li>/)).toEqual(order("seg", "mIoU", true));
    expect(sum).toMatch(/default precision 0\.93 \/ recall 0\.81/);
  });

  it("eval-mining.json is also found where mimic eval-mining writes it (mined/)", async () => {
    const d = path.join(tmp, "evalmined");
    fs.mkdirSync(path.join(d, "mined"), { recursive: true });
    fs.writeFileSync(path.join(d, "mined", "eval-mining.json"), JSON.stringify({ mined: "x", precision: 0.5, recall: 0.25, perPair: [] }));
    const r = await buildReport(d);
    expect(r.sections.find((x) => x.id === "eval-mining")!.status).toBe("ok");
    expect(sectionHtml(r.html, "eval-mining")).toMatch(/<td>result<\/td><td>0\.5<\/td><td>0\.25<\/td>/);
  });

  it("environment lists env.json, flattened", () => {
    const e = sectionHtml(rep.html, "environment");
    expect(e).toContain("configHashes.mine");
    expect(e).toContain("abc123def456");
  });
});

describe("mimic report: safety", () => {
  it("escapes file names and strings: the only <script> is the report's own", () => {
    expect([...rep.html.matchAll(/<script/gi)].length).toBe(1);
    expect(rep.html).not.toContain(NASTY);
    expect(rep.html).toContain("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &#39;q&#39;");
    expect(rep.html).toContain("v&quot;&amp;&lt;b&gt;&#39;1"); // a pair folder name with specials
  });

  it("is self-contained: no external URLs, fonts, stylesheets or scripts", () => {
    expect(rep.html).not.toMatch(/(src|href)="(?!data:|#)/);
    expect(rep.html).not.toMatch(/<link|@import|@font-face|url\(/i);
    expect(rep.html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it("a folder with nothing in it gives a report of 'not run' sections", async () => {
    const empty = path.join(tmp, "empty");
    fs.mkdirSync(empty);
    const r = await buildReport(empty);
    for (const s of r.sections) expect(s.status, s.id).toBe("not run");
    expect(r.html).toContain("not run: no mined/ folder");
  });

  it("bad inputs are noted, not fatal", async () => {
    const bad = path.join(tmp, "bad");
    fs.mkdirSync(path.join(bad, "mined"), { recursive: true });
    fs.mkdirSync(path.join(bad, "probe", "croco-depth"), { recursive: true });
    fs.writeFileSync(path.join(bad, "mined", "stats.json"), "{not json");
    fs.writeFileSync(
      path.join(bad, "mined", "pairs.jsonl"),
      `${JSON.stringify({ id: "x", path1: "nope/0000.jpg", path2: "nope/0001.jpg", overlap: 0.6, correspondence: { 0: 1 } })}\n`,
    );
    fs.writeFileSync(path.join(bad, "probe", "croco-depth", "metrics.json"), "[1,2]");
    // An image outside mined/ is not embedded, even if it exists.
    fs.copyFileSync(path.join(fx.dir, "mined", fx.pairs[0].id, "0000.jpg"), path.join(bad, "outside.jpg"));
    fs.appendFileSync(
      path.join(bad, "mined", "pairs.jsonl"),
      `${JSON.stringify({ id: "y", path1: "../outside.jpg", path2: "../outside.jpg", overlap: 0.6, correspondence: {} })}\n`,
    );
    const r = await buildReport(bad);
    const notes = r.sections.flatMap((s) => s.notes).join("\n");
    expect(notes).toMatch(/stats\.json: .*JSON/);
    expect(notes).toMatch(/cannot read image 'nope\/0000\.jpg'/);
    expect(notes).toMatch(/metrics\.json: expected a JSON object/);
    expect(r.html).toContain("missing image nope/0000.jpg");
    expect(r.html).toContain("missing image ../outside.jpg");
    expect(r.html).not.toContain("data:image/jpeg");
  });
});

describe("mimic report: scale and variants", () => {
  it("long training logs are thinned to at most 2000 points per curve; percent overlaps are read as percent", async () => {
    const d = path.join(tmp, "long");
    fs.mkdirSync(path.join(d, "train", "croco"), { recursive: true });
    fs.mkdirSync(path.join(d, "mined"), { recursive: true });
    const n = 150_000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(JSON.stringify({ step: i, loss: 1 / (1 + i / 100), lr: 1e-4, imgPerSec: 10 }));
    fs.writeFileSync(path.join(d, "train", "croco", "metrics.jsonl"), `${lines.join("\n")}\n`);
    const cands = [55, 60, 80, 10].map((o, i) => JSON.stringify({ video: "v", t1: i, t2: i + 1, overlap: o, kept: o > 50 && o < 75 }));
    fs.writeFileSync(path.join(d, "mined", "candidates.jsonl"), `${cands.join("\n")}\n`);
    const r = await buildReport(d);
    const pts = Number(/<path class="line"[^>]*data-points="(\d+)"/.exec(sectionHtml(r.html, "training"))![1]);
    expect(pts).toBeLessThanOrEqual(2001);
    expect(pts).toBeGreaterThan(1000);
    expect(sectionHtml(r.html, "training")).toContain('data-log-y="true"'); // 1 .. 0.00066: log scale
    const h = sectionHtml(r.html, "overlap");
    const kept = [...h.matchAll(/data-series="0" data-bin="(\d+)" data-count="(\d+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(kept).toEqual([
      [13, 1], // 0.55 of 25 bins
      [15, 1], // 0.60
    ]);
    expect(r.sections.find((x) => x.id === "overlap")!.notes.join(" ")).toMatch(/read as percent/);
  });
});

describe("mimic report: CLI", () => {
  async function run(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const so = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    const se = vi.spyOn(console, "error").mockImplementation((s) => void err.push(String(s)));
    const sw = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    const sl = vi.spyOn(console, "log").mockImplementation((s) => void out.push(`${String(s)}\n`));
    const prev = process.exitCode;
    process.exitCode = 0;
    try {
      await main(["node", "mimic", "report", ...args]);
      return { code: process.exitCode ?? 0, out: out.join(""), err: err.join("\n") };
    } finally {
      process.exitCode = prev;
      so.mockRestore();
      se.mockRestore();
      sw.mockRestore();
      sl.mockRestore();
    }
  }

  it("writes <dir>/report.html by default and prints the sections with --json", async () => {
    const r = await run(fx.dir, "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.out).toBe(path.join(fx.dir, "report.html"));
    expect(j.sections.map((s: { status: string }) => s.status)).toEqual(rep.sections.map(() => "ok"));
    expect(fs.readFileSync(j.out, "utf8")).toBe(rep.html);
  });

  it("--out writes elsewhere; the summary goes to stderr, nothing to stdout", async () => {
    const out = path.join(tmp, "sub", "r.html");
    const r = await run(fx.dir, "-o", out);
    expect(r.code, r.err).toBe(0);
    expect(fs.readFileSync(out, "utf8")).toBe(rep.html);
    expect(r.err).toContain(`wrote ${out}`);
    expect(r.out).toBe("");
  });

  it("--mined, --run and --probe read parts from anywhere (the tour's layout is the default)", async () => {
    const out = path.join(tmp, "parts.html");
    const runs = ["croco", "mae"].flatMap((n) => ["--run", path.join(fx.dir, "train", n)]);
    const probes = fs.readdirSync(path.join(fx.dir, "probe")).flatMap((n) => ["--probe", path.join(fx.dir, "probe", n)]);
    const r = await run("--mined", path.join(fx.dir, "mined"), ...runs, ...probes, "--out", out, "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    const status = Object.fromEntries(j.sections.map((s: { id: string; status: string }) => [s.id, s.status]));
    // eval-mining.json and env.json sit at the top of the demo folder, which was not given
    expect(status).toEqual({
      pairs: "ok",
      overlap: "ok",
      mining: "ok",
      training: "ok",
      reconstructions: "ok",
      probe: "ok",
      "eval-mining": "not run",
      environment: "not run",
    });
    expect(sectionHtml(fs.readFileSync(out, "utf8"), "probe")).toBe(sectionHtml(rep.html, "probe"));
    // one run only: the other is not shown
    const one = await run("--run", path.join(fx.dir, "train", "mae"), "--out", path.join(tmp, "one.html"), "--json");
    expect(one.code, one.err).toBe(0);
    const training = sectionHtml(fs.readFileSync(path.join(tmp, "one.html"), "utf8"), "training");
    expect(training).toContain("mae");
    expect(training).not.toContain("croco");
  });

  it("a folder with nothing to report exits 1, writes nothing and says where it looked", async () => {
    const empty = path.join(tmp, "empty2");
    fs.mkdirSync(empty);
    const r = await run(empty);
    expect(r.code).toBe(1);
    expect(fs.existsSync(path.join(empty, "report.html"))).toBe(false);
    expect(r.err).toContain("found nothing to report");
    for (const w of ["mined/pairs.jsonl", "train/*/metrics.jsonl", "probe/*/metrics.json", "eval-mining.json"])
      expect(r.err).toContain(path.join(empty, w));
  });

  it("without a folder, --out and a part are required (exit 2)", async () => {
    expect((await run("--out", path.join(tmp, "x.html"))).code).toBe(2);
    expect((await run("--mined", path.join(fx.dir, "mined"))).code).toBe(2);
  });

  it("a missing folder exits 2 with the fix", async () => {
    const r = await run(path.join(tmp, "no-such-dir"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/does not exist\. Fix:/);
  });
});
