// The leaderboard: a pure function of the collected per-dataset results (no training here), so its
// format, sorting and ties are testable on their own, and the same results give byte-identical files.
import { type BenchmarkScale, samplesSeen } from "./scales.js";

/** What one benchmark run of one dataset measured (runs/<name>/result.json holds it). */
export interface DatasetResult {
  /** The dataset folder's name. */
  dataset: string;
  /** Rows of its pairs.csv (header excluded). */
  pairs: number;
  /** configHash from its config.json, or "none". */
  configHash: string;
  /** Depth probe on the probe dataset's val split. */
  depth: { absRel: number | null; delta1: number | null };
  /** Segmentation probe on the probe dataset's val split. */
  seg: { mIoU: number | null; pixelAcc: number | null };
}

export interface LeaderboardRow extends DatasetResult {
  /** 1-based; rows tied on the primary score share a rank (1, 1, 3). */
  rank: number;
}

export interface Leaderboard {
  schema: "mimic-benchmark/1";
  /** Scale name (a custom recipe is named like "nano@steps=50" and is not comparable to "nano"). */
  scale: string;
  recipe: BenchmarkScale;
  samplesSeen: number;
  /** The probe dataset's folder name. */
  probe: string;
  /** How rows are ordered. */
  primary: string;
  rows: LeaderboardRow[];
}

export const PRIMARY_SCORE =
  "depth delta1 (higher is better), then seg mIoU (higher), on values rounded to 4 decimals; ties share a rank and are listed by dataset name";

/** Metrics are rounded to this many decimals before sorting and printing. */
const DECIMALS = 4;

const round = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 10 ** DECIMALS) / 10 ** DECIMALS;

/** Higher-is-better comparison with null (a failed metric) last. */
function desc(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return b - a;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Sort, round and rank results. Throws on duplicate dataset names. */
export function buildLeaderboard(scale: string, recipe: BenchmarkScale, probe: string, results: DatasetResult[]): Leaderboard {
  const seen = new Set<string>();
  for (const r of results) {
    if (seen.has(r.dataset)) throw new Error(`dataset name '${r.dataset}' appears twice; dataset folders must have distinct names`);
    seen.add(r.dataset);
  }
  const rows = results
    .map((r) => ({
      dataset: r.dataset,
      pairs: r.pairs,
      configHash: r.configHash,
      depth: { absRel: round(r.depth.absRel), delta1: round(r.depth.delta1) },
      seg: { mIoU: round(r.seg.mIoU), pixelAcc: round(r.seg.pixelAcc) },
    }))
    .sort((a, b) => desc(a.depth.delta1, b.depth.delta1) || desc(a.seg.mIoU, b.seg.mIoU) || byName(a.dataset, b.dataset));
  const ranked: LeaderboardRow[] = [];
  rows.forEach((r, i) => {
    const prev = ranked[i - 1];
    const tied = prev && prev.depth.delta1 === r.depth.delta1 && prev.seg.mIoU === r.seg.mIoU;
    ranked.push({ rank: tied ? prev.rank : i + 1, ...r });
  });
  return {
    schema: "mimic-benchmark/1",
    scale,
    recipe: { ...recipe },
    samplesSeen: samplesSeen(recipe),
    probe,
    primary: PRIMARY_SCORE,
    rows: ranked,
  };
}

/** Column headers of the markdown table, in order. */
export const MARKDOWN_COLUMNS = ["rank", "dataset", "pairs", "config", "depth δ1 ↑", "depth absRel ↓", "seg mIoU ↑", "seg pixAcc ↑"];

const fmt = (v: number | null) => (v === null ? "-" : v.toFixed(DECIMALS));

/** The leaderboard as markdown: a title line, the recipe, and one table row per dataset. */
export function leaderboardMarkdown(lb: Leaderboard): string {
  const r = lb.recipe;
  const lines = [
    `# mimic benchmark: scale ${lb.scale}, probe ${lb.probe}`,
    "",
    `CroCo, model ${r.model}, ${r.steps} steps x batch ${r.batch} = ${lb.samplesSeen} pairs seen, blr ${r.blr}, seed ${r.seed}; ${r.probeHead} probes, ${r.probeEpochs} epochs.`,
    `Sorted by ${lb.primary}.`,
    "",
    `| ${MARKDOWN_COLUMNS.join(" | ")} |`,
    `|${MARKDOWN_COLUMNS.map((_, i) => (i === 1 || i === 3 ? "---" : "---:")).join("|")}|`,
  ];
  for (const x of lb.rows)
    lines.push(
      `| ${[x.rank, x.dataset, x.pairs, x.configHash, fmt(x.depth.delta1), fmt(x.depth.absRel), fmt(x.seg.mIoU), fmt(x.seg.pixelAcc)].join(" | ")} |`,
    );
  return `${lines.join("\n")}\n`;
}

/** The leaderboard as JSON text (2-space indent, trailing newline). */
export function leaderboardJson(lb: Leaderboard): string {
  return `${JSON.stringify(lb, null, 2)}\n`;
}
