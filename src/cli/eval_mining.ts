// `mimic eval-mining <mined-dir> --gt <synth-dir>`: precision/recall of mined patch correspondences,
// overlap error and keep/reject accuracy against a synthetic dataset's ground truth.
import fs from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { entriesOf, notALink, outsideInputs } from "../io/outdir.js";
import { evalMining } from "../synth/eval.js";
import { EXIT, outFlag, printJson, UsageError } from "./common.js";

export function evalMiningCommand(): Command {
  return new Command("eval-mining")
    .description("score a mined dataset against the ground truth of the 'mimic synth' dataset it was mined from")
    .argument("<mined-dir>", "output folder of 'mimic mine' run on <synth-dir>/videos")
    .requiredOption("--gt <synth-dir>", "the 'mimic synth' output folder")
    .option("-o, --out <file>", "write the result JSON here (default <mined-dir>/eval-mining.json)")
    .option("--json", "print the result as JSON on stdout")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .action(async (mined: string, opts: { gt: string; out?: string; json?: boolean; quiet?: boolean }) => {
      for (const [what, d] of [
        ["mined dataset", mined],
        ["--gt", opts.gt],
      ])
        if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw new UsageError(`${what} ${d} is not a folder`);
      const out = opts.out !== undefined ? outFlag(opts.out) : path.join(mined, "eval-mining.json");
      // The result goes beside the dataset (an earlier eval-mining.json is replaced), never over
      // what is in it, nor into the ground truth.
      outsideInputs(out, [opts.gt, ...entriesOf(mined, "eval-mining.json")]);
      notALink(out);
      const r = await evalMining(path.resolve(mined), path.resolve(opts.gt));
      fs.writeFileSync(out, `${JSON.stringify(r, null, 2)}\n`);
      if (opts.json) printJson(r);
      else if (!opts.quiet) {
        const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
        console.error(`${r.pairs} mined pairs evaluated (${r.skippedPairs} skipped: video not in --gt)`);
        if (r.failedVideos.length)
          console.error(`the miner failed on ${r.failedVideos.length} video(s) (see progress.jsonl): ${r.failedVideos.join(", ")}`);
        console.error(`correspondence precision ${pct(r.precision)} (within one patch ${pct(r.precisionNeighbour)})`);
        console.error(`recall ${pct(r.recall)} (to the true partner ${pct(r.recallCorrect)})`);
        console.error(
          `mean |mined - true overlap| ${r.meanAbsOverlapError.toFixed(1)} points; kept pairs truly in band ${pct(r.keptInBand)}`,
        );
        const c = r.confusion;
        console.error(
          `keep/reject accuracy ${pct(r.keepRejectAccuracy)} over ${r.candidates} candidates (${r.candidateSource}) ` +
            `(kept: ${c.keptInBand} in band, ${c.keptOutOfBand} out; rejected: ${c.rejectedInBand} in band, ${c.rejectedOutOfBand} out)`,
        );
        if (r.candidateOverlapError !== null)
          console.error(`mean |mined - true overlap| over all ${r.candidates} candidates ${r.candidateOverlapError.toFixed(1)} points`);
        console.error(`wrote ${out}`);
      }
      process.exitCode = EXIT.ok;
    });
}
