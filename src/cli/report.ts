// `mimic report <dir>`: write a self-contained report.html of a demo folder (mined/, train/, probe/,
// eval-mining.json, env.json; every part optional).
import fs from "node:fs";
import { Command } from "commander";
import { writeReport } from "../report/report.js";
import { intFlag, printJson, UsageError } from "./common.js";

export function reportCommand(): Command {
  return new Command("report")
    .description("write a self-contained report.html (pairs gallery, overlap histogram, loss curves, probe table) from a demo folder")
    .argument("<dir>", "the folder mimic demo wrote (mined/, train/<run>/, probe/<encoder>-<task>/, eval-mining.json, env.json)")
    .option("--out <file>", "where to write the report (default <dir>/report.html)")
    .option("--max-pairs <n>", "mined pairs shown in the gallery", "24")
    .option("--json", "print {out, sections} as JSON")
    .action(async (dir: string, opts: { out?: string; maxPairs: string; json?: boolean }) => {
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
        throw new UsageError(`report: folder '${dir}' does not exist. Fix: pass the folder that mimic demo (or mine/train/probe) wrote`);
      const r = await writeReport(dir, opts.out, { maxPairs: intFlag("max-pairs", opts.maxPairs) });
      if (opts.json) printJson({ out: r.out, sections: r.sections });
      else {
        for (const s of r.sections) console.log(`${s.status.padEnd(8)} ${s.title}${s.notes.length ? ` (${s.notes.length} note(s))` : ""}`);
        console.log(`wrote ${r.out}`);
      }
    });
}
