// The leaderboard: a pure function of the collected per-entry, per-seed results (no training here),
// so its format, intervals and ties are testable on their own, and the same results give
// byte-identical files.
//
// Each entry (a dataset pretrained with an objective, or the random-init reference) is run with
// several seeds (pretraining init/order/masks and the probe head share the seed). Per metric the
// leaderboard gives the mean over seeds and a 95% t-interval, mean +- t(0.975, n-1) s / sqrt(n).
//
// Ranks (per task: depth by AbsRel, segmentation by mIoU): rank = 1 + the number of entries that
// are better beyond both intervals (their interval lies entirely on the better side of this
// entry's), as the LMSYS Chatbot Arena ranks models; entries that no other entry beats beyond
// the intervals share rank 1, and the leaderboard says in words which entries share a rank
// (DataComp and DCLM likewise report differences inside the noise as ties). With one seed there
// is no interval and entries are ranked by their value (equal values after rounding tie).
import { seedInterval } from "../probe/stats.js";
import { type BenchmarkScale, samplesSeen } from "./scales.js";

/** The scores of one seed of one entry (null: the metric failed). */
export interface SeedScores {
  seed: number;
  depth: { absRel: number | null; delta1: number | null };
  seg: { mIoU: number | null; pixelAcc: number | null };
}

/** What the benchmark measured for one entry over its seeds. */
export interface EntryResult {
  /** Row name: the dataset folder's name, "<dataset> (mae)" for MAE, "random init" for the reference. */
  name: string;
  /** The dataset folder's name ("-" for random init). */
  dataset: string;
  /** Pretraining objective ("none": random init, no pretraining). */
  objective: "croco" | "mae" | "none";
  /** Rows of its pairs.csv (0 for random init). */
  pairs: number;
  /** configHash from its config.json, "none", or "-" for random init. */
  configHash: string;
  seeds: SeedScores[];
}

/** Mean over seeds, 95% t-interval (null with fewer than 2 seeds), and the per-seed values. */
export interface SeedStat {
  mean: number | null;
  lo: number | null;
  hi: number | null;
  values: Array<number | null>;
}

export interface LeaderboardRow {
  name: string;
  dataset: string;
  objective: EntryResult["objective"];
  pairs: number;
  configHash: string;
  /** depth rank by AbsRel, segmentation rank by mIoU (see the file header) */
  rank: { depth: number; seg: number };
  depth: { absRel: SeedStat; delta1: SeedStat };
  seg: { mIoU: SeedStat; pixelAcc: SeedStat };
}

/** A paired difference of two entries over seeds: b - a per seed, its mean and 95% t-interval. */
export interface EntryComparison {
  a: string;
  b: string;
  metric: "depth.absRel" | "seg.mIoU";
  diff: SeedStat;
  /** "b better" | "a better" | "no significant difference" (the interval of b - a contains 0) */
  verdict: string;
}

export interface Leaderboard {
  schema: "mimic-benchmark/2";
  /** Scale name (a custom recipe is named like "nano@steps=50" and is not comparable to "nano"). */
  scale: string;
  recipe: BenchmarkScale;
  samplesSeen: number;
  /** The probe dataset's folder name. */
  probe: string;
  /** How intervals and ranks are made, in words. */
  method: string;
  rows: LeaderboardRow[];
  /** Every pair of entries, paired by seed index. */
  comparisons: EntryComparison[];
  /** Which entries share a rank, in words (one line per group). */
  ties: string[];
}

export const METHOD =
  "mean over seeds with a 95% t-interval (mean +- t(0.975, n-1) s/sqrt(n)); per task, rank = 1 + the number of entries better beyond both intervals (depth by AbsRel, lower is better; segmentation by mIoU, higher is better), so entries whose intervals overlap are not told apart; rows are ordered by depth rank, seg rank, mean AbsRel, then name";

/** Metrics are rounded to this many decimals in the leaderboard. */
const DECIMALS = 4;

const round = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 10 ** DECIMALS) / 10 ** DECIMALS;

/** Mean and interval of per-seed values, rounded. */
export function seedStat(values: Array<number | null>): SeedStat {
  const r = seedInterval(values);
  return { mean: round(r.mean), lo: round(r.lo), hi: round(r.hi), values: values.map(round) };
}

/** [lo, hi] of a stat: its interval, or its mean twice with one seed; null when the metric failed. */
function span(s: SeedStat): [number, number] | null {
  if (s.mean === null) return null;
  return s.lo !== null && s.hi !== null ? [s.lo, s.hi] : [s.mean, s.mean];
}

/**
 * Ranks by "better beyond both intervals": rank_i = 1 + #{j : span_j entirely better than span_i}.
 * A failed metric (null) ranks after every entry with a value.
 */
export function rankByIntervals(stats: SeedStat[], higherIsBetter: boolean): number[] {
  const spans = stats.map(span);
  return spans.map((si, i) => {
    let better = 0;
    spans.forEach((sj, j) => {
      if (j === i || sj === null) return;
      if (si === null) better++;
      else if (higherIsBetter ? sj[0] > si[1] : sj[1] < si[0]) better++;
    });
    return 1 + better;
  });
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const nullLast = (a: number | null, b: number | null) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a - b);

/** Sort, rank and compare results. Throws on duplicate entry names. */
export function buildLeaderboard(scale: string, recipe: BenchmarkScale, probe: string, results: EntryResult[]): Leaderboard {
  const seen = new Set<string>();
  for (const r of results) {
    if (seen.has(r.name)) throw new Error(`entry name '${r.name}' appears twice; dataset folders must have distinct names`);
    seen.add(r.name);
  }
  const rows = results.map((r) => ({
    name: r.name,
    dataset: r.dataset,
    objective: r.objective,
    pairs: r.pairs,
    configHash: r.configHash,
    rank: { depth: 0, seg: 0 },
    depth: { absRel: seedStat(r.seeds.map((s) => s.depth.absRel)), delta1: seedStat(r.seeds.map((s) => s.depth.delta1)) },
    seg: { mIoU: seedStat(r.seeds.map((s) => s.seg.mIoU)), pixelAcc: seedStat(r.seeds.map((s) => s.seg.pixelAcc)) },
  }));
  const dr = rankByIntervals(
    rows.map((r) => r.depth.absRel),
    false,
  );
  const sr = rankByIntervals(
    rows.map((r) => r.seg.mIoU),
    true,
  );
  rows.forEach((r, i) => {
    r.rank = { depth: dr[i], seg: sr[i] };
  });
  rows.sort(
    (a, b) =>
      a.rank.depth - b.rank.depth ||
      a.rank.seg - b.rank.seg ||
      nullLast(a.depth.absRel.mean, b.depth.absRel.mean) ||
      byName(a.name, b.name),
  );

  const comparisons: EntryComparison[] = [];
  const bySeed = new Map(results.map((r) => [r.name, new Map(r.seeds.map((s) => [s.seed, s]))]));
  for (let i = 0; i < rows.length; i++)
    for (let j = i + 1; j < rows.length; j++) {
      const a = rows[i].name;
      const b = rows[j].name;
      const sa = bySeed.get(a)!;
      const sb = bySeed.get(b)!;
      const seeds = [...sa.keys()].filter((k) => sb.has(k)).sort((x, y) => x - y);
      for (const metric of ["depth.absRel", "seg.mIoU"] as const) {
        const get = (s: SeedScores) => (metric === "depth.absRel" ? s.depth.absRel : s.seg.mIoU);
        const d = seeds.map((k) => {
          const x = get(sa.get(k)!);
          const y = get(sb.get(k)!);
          return x === null || y === null ? null : y - x;
        });
        const diff = seedStat(d);
        const higher = metric === "seg.mIoU";
        let verdict = "no significant difference";
        if (diff.lo === null || diff.hi === null) verdict = "no interval (fewer than 2 seeds)";
        else if (diff.lo > 0) verdict = higher ? `${b} better` : `${a} better`;
        else if (diff.hi < 0) verdict = higher ? `${a} better` : `${b} better`;
        comparisons.push({ a, b, metric, diff, verdict });
      }
    }

  const ties: string[] = [];
  for (const [task, key] of [
    ["depth", "AbsRel"],
    ["seg", "mIoU"],
  ] as const) {
    const groups = new Map<number, string[]>();
    for (const r of rows) groups.set(r.rank[task], [...(groups.get(r.rank[task]) ?? []), r.name]);
    for (const [rank, names] of [...groups].sort((a, b) => a[0] - b[0]))
      if (names.length > 1)
        ties.push(
          `${task} (${key}): ${names.slice(0, -1).join(", ")} and ${names.at(-1)} share rank ${rank}: no one of them is better than another beyond the 95% intervals`,
        );
  }

  return {
    schema: "mimic-benchmark/2",
    scale,
    recipe: { ...recipe },
    samplesSeen: samplesSeen(recipe),
    probe,
    method: METHOD,
    rows,
    comparisons,
    ties,
  };
}

/** Column headers of the markdown table, in order. */
export const MARKDOWN_COLUMNS = [
  "depth rank",
  "seg rank",
  "entry",
  "pairs",
  "config",
  "depth AbsRel ↓",
  "depth δ1 ↑",
  "seg mIoU ↑",
  "seg pixAcc ↑",
];

/** "0.3012 [0.2811, 0.3213]", "0.3012" with one seed, "-" for a failed metric. */
export function formatStat(s: SeedStat): string {
  if (s.mean === null) return "-";
  const f = (v: number) => v.toFixed(DECIMALS);
  return s.lo === null || s.hi === null ? f(s.mean) : `${f(s.mean)} [${f(s.lo)}, ${f(s.hi)}]`;
}

/** The leaderboard as markdown: a title line, the recipe, the table, ties and comparisons in words. */
export function leaderboardMarkdown(lb: Leaderboard): string {
  const r = lb.recipe;
  const nSeeds = Math.max(0, ...lb.rows.map((x) => x.depth.absRel.values.length));
  const lines = [
    `# mimic benchmark: scale ${lb.scale}, probe ${lb.probe}`,
    "",
    `Pretraining: model ${r.model}, ${r.steps} steps x batch ${r.batch} = ${lb.samplesSeen} samples seen, blr ${r.blr}; ${r.probeHead} probes, ${r.probeEpochs} epochs; seeds ${r.seed}..${r.seed + r.seeds - 1} (${nSeeds} per entry).`,
    `Each cell: ${lb.method}.`,
    "",
    `| ${MARKDOWN_COLUMNS.join(" | ")} |`,
    `|${MARKDOWN_COLUMNS.map((_, i) => (i === 2 || i === 4 ? "---" : "---:")).join("|")}|`,
  ];
  for (const x of lb.rows)
    lines.push(
      `| ${[
        x.rank.depth,
        x.rank.seg,
        x.name,
        x.pairs,
        x.configHash,
        formatStat(x.depth.absRel),
        formatStat(x.depth.delta1),
        formatStat(x.seg.mIoU),
        formatStat(x.seg.pixelAcc),
      ].join(" | ")} |`,
    );
  lines.push("");
  const oneSeed = lb.rows.length > 0 && lb.rows.every((r) => r.depth.absRel.values.length < 2);
  if (oneSeed && lb.rows.length > 1)
    lines.push(
      "One seed per entry: there are no intervals, so the ranks only order the values and no difference here is significant; run more seeds (--seeds 3) to tell entries apart.",
      "",
    );
  else if (lb.ties.length) lines.push("Ties:", "", ...lb.ties.map((t) => `- ${t}`), "");
  else if (lb.rows.length > 1) lines.push("No ties: every entry is told apart from the others beyond the 95% intervals.", "");
  if (lb.comparisons.length) {
    lines.push("Paired differences (b - a, same seeds; 95% t-interval over seeds):", "");
    for (const c of lb.comparisons) lines.push(`- ${c.metric}: ${c.b} - ${c.a} = ${formatStat(c.diff)}: ${c.verdict}`);
    lines.push("");
  }
  return `${lines.join("\n")}`;
}

/** The leaderboard as JSON text (2-space indent, trailing newline). */
export function leaderboardJson(lb: Leaderboard): string {
  return `${JSON.stringify(lb, null, 2)}\n`;
}
