// eval-mining (src/synth/eval.ts): a mined dataset built from the truth scores perfectly; a shifted
// one loses precision but not neighbour precision; a wrongly kept pair lowers keep/reject accuracy.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { evalMiningCommand } from "../../src/cli/eval_mining.js";
import { DEFAULT_TRUTH, openSynthScene, synthesize } from "../../src/synth/dataset.js";
import { evalMining } from "../../src/synth/eval.js";
import { synthPreset } from "../../src/synth/presets.js";
import { trueCorrespondence } from "../../src/synth/truth.js";
import { testGpu } from "../helpers.js";

describe("eval-mining against synth ground truth", () => {
  it("scores truth-built, shifted and wrongly kept pairs as expected", async () => {
    const gpu = await testGpu();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-eval-"));
    const gt = path.join(tmp, "gt");
    await synthesize(gpu, {
      out: gt,
      scenes: 2,
      seconds: 4,
      fps: 2,
      width: 64,
      height: 48,
      seed: 3,
      preset: synthPreset("default"),
      video: false,
      batch: 8,
      truth: DEFAULT_TRUTH,
    });
    // candidates of a MIMIC miner: samples at 0,1,2,3 s, consecutive pairs
    const recs: { video: string; t1: number; t2: number; overlap: number; correspondence: Record<number, number> }[] = [];
    const cands: { video: string; t1: number; t2: number; overlap: number; kept: boolean }[] = [];
    let inBand = 0;
    let total = 0;
    for (const id of ["scene-0000", "scene-0001"]) {
      const s = openSynthScene(gt, id);
      for (let k = 0; k < 3; k++) {
        const t = trueCorrespondence(await s.view(2 * k), await s.view(2 * k + 2));
        total++;
        cands.push({ video: `${id}.mp4`, t1: k, t2: k + 1, overlap: t.overlap - 0.1, kept: t.overlap > 0.5 && t.overlap < 0.75 });
        // keep exactly the pairs inside the band, with the true mapping
        if (t.overlap > 0.5 && t.overlap < 0.75) {
          inBand++;
          recs.push({ video: `${id}.mp4`, t1: k, t2: k + 1, overlap: t.overlap, correspondence: t.correspondence });
        }
      }
    }
    const mined = path.join(tmp, "mined");
    const write = (rs: typeof recs) => {
      fs.mkdirSync(mined, { recursive: true });
      fs.writeFileSync(
        path.join(mined, "config.json"),
        JSON.stringify({ config: { everySec: 1, size: 224, patch: 16, candidates: "consecutive" } }),
      );
      fs.writeFileSync(path.join(mined, "pairs.jsonl"), rs.map((r) => JSON.stringify(r)).join("\n") + (rs.length ? "\n" : ""));
    };
    write(recs);
    const r = await evalMining(mined, gt);
    expect(r.candidates).toBe(total);
    expect(r.pairs).toBe(inBand);
    expect(r.keepRejectAccuracy).toBe(1);
    expect(inBand).toBeGreaterThan(0);
    expect(r.precision).toBe(1);
    expect(r.recall).toBe(1);
    expect(r.recallCorrect).toBe(1);
    expect(r.meanAbsOverlapError).toBeLessThan(1e-9);
    expect(r.candidateSource).toBe("replayed");
    // the miner's own candidate list, when present, defines the candidates
    fs.writeFileSync(path.join(mined, "candidates.jsonl"), cands.map((c) => `${JSON.stringify(c)}\n`).join(""));
    const rc = await evalMining(mined, gt);
    expect(rc.candidateSource).toBe("candidates.jsonl");
    expect(rc.confusion).toEqual(r.confusion);
    expect(rc.candidateOverlapError).toBeCloseTo(10, 6);
    fs.rmSync(path.join(mined, "candidates.jsonl"));

    // a wrong pair kept: the first candidate out of band, with an empty mapping and 60% claimed
    const s0 = openSynthScene(gt, "scene-0000");
    let wrong: (typeof recs)[number] | null = null;
    for (let k = 0; k < 3 && !wrong; k++) {
      const t = trueCorrespondence(await s0.view(2 * k), await s0.view(2 * k + 2));
      if (!(t.overlap > 0.5 && t.overlap < 0.75))
        wrong = { video: "scene-0000.mp4", t1: k, t2: k + 1, overlap: 0.6, correspondence: { 0: 5 } };
    }
    // shifted mapping: every partner moved one patch right (when not in the last column)
    const shifted = recs.map((x) => ({
      ...x,
      correspondence: Object.fromEntries(Object.entries(x.correspondence).map(([p, q]) => [p, q % 14 === 13 ? q - 1 : q + 1])),
    }));
    expect(wrong, "seed 3 should have an out-of-band candidate").not.toBeNull();
    write([...shifted, ...(wrong ? [wrong] : []), { video: "elsewhere.mp4", t1: 0, t2: 1, overlap: 0.6, correspondence: {} }]);
    const out = path.join(tmp, "eval.json");
    await evalMiningCommand().parseAsync([mined, "--gt", gt, "--out", out], { from: "user" });
    const r2 = JSON.parse(fs.readFileSync(out, "utf8"));
    expect(r2.skippedPairs).toBe(1);
    expect(r2.precision).toBeLessThan(0.2);
    expect(r2.precisionNeighbour).toBeGreaterThan(0.8);
    expect(r2.confusion.keptOutOfBand).toBe(1);
    expect(r2.keepRejectAccuracy).toBeCloseTo((total - 1) / total, 12);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
