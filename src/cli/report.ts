// `mimic report [dir]`: write a self-contained report.html of a demo or tour folder (mined/,
// train/<run>/, probe/<encoder>-<task>/, eval-mining.json, env.json; every part optional), or of
// the parts named by --mined, --run and --probe. A report that finds nothing exits 1 and says
// where it looked.
import fs from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { notALink, outsideInputs } from "../io/outdir.js";
import { buildReport, CONTENT_SECTIONS, describeInputs, type ReportOptions, reportInputPaths } from "../report/report.js";
import { EXIT, intFlag, outFlag, printJson, UsageError } from "./common.js";

/** A repeatable option's values, in the order given. */
const collect = (v: string, prev: string[] = []) => [...prev, v];

interface ReportFlags {
  out?: string;
  maxPairs: string;
  mined?: string;
  run?: string[];
  probe?: string[];
  json?: boolean;
  quiet?: boolean;
}

export function reportCommand(): Command {
  return new Command("report")
    .description(
      "write a self-contained report.html (pairs gallery, overlap histogram, loss curves, probe table) from a demo or tour folder",
    )
    .argument(
      "[dir]",
      "the folder mimic demo or README's tour wrote (mined/, train/<run>/, probe/<encoder>-<task>/, eval-mining.json, env.json)",
    )
    .option("-o, --out <file>", "where to write the report (default <dir>/report.html; required without <dir>)")
    .option("--mined <dir>", "the mined dataset folder (default <dir>/mined)")
    .option("--run <dir>", "a training run folder; repeatable (default every folder in <dir>/train)", collect)
    .option("--probe <dir>", "a probe output folder named <encoder>-<task>; repeatable (default every folder in <dir>/probe)", collect)
    .option("--max-pairs <n>", "mined pairs shown in the gallery", "24")
    .option("--json", "print {out, sections} as JSON on stdout")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .action(async (dir: string | undefined, o: ReportFlags) => {
      if (o.out !== undefined) outFlag(o.out); // an empty --out is a usage error, not the current folder
      if (dir !== undefined && (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()))
        throw new UsageError(`report: folder '${dir}' does not exist. Fix: pass the folder that mimic demo (or the tour) wrote`);
      if (dir === undefined && !o.mined && !o.run && !o.probe)
        throw new UsageError("report: nothing to read. Fix: pass a folder, or --mined/--run/--probe");
      if (dir === undefined && !o.out) throw new UsageError("report: without <dir>, say where to write the report with --out <file>");
      const opts: ReportOptions = { maxPairs: intFlag("max-pairs", o.maxPairs), mined: o.mined, runs: o.run, probes: o.probe };
      const found = await writeReportIfAny(dir, o.out, opts);
      if (!found) {
        process.stderr.write(
          `mimic report: found nothing to report; no report written. Looked for:\n${describeInputs(dir, opts)
            .map((w) => `  ${w}\n`)
            .join("")}Fix: pass the folder the tour or mimic demo wrote, or name the parts with --mined, --run, --probe\n`,
        );
        process.exitCode = EXIT.failed;
        if (o.json) printJson({ out: null, sections: [] });
        return;
      }
      if (o.json) printJson({ out: found.out, sections: found.sections });
      if (!o.quiet && !o.json) {
        for (const s of found.sections)
          process.stderr.write(`${s.status.padEnd(8)} ${s.title}${s.notes.length ? ` (${s.notes.length} note(s))` : ""}\n`);
        process.stderr.write(`wrote ${found.out}\n`);
      }
    });
}

/** Write the report unless every content section is "not run" (then write nothing, return null). */
async function writeReportIfAny(dir: string | undefined, out: string | undefined, opts: ReportOptions) {
  const file = out ?? path.join(dir as string, "report.html");
  outsideInputs(file, reportInputPaths(dir, opts)); // --out mined/pairs.jsonl would replace the manifest
  notALink(file);
  const r = await buildReport(dir, opts);
  if (r.sections.every((s) => !CONTENT_SECTIONS.includes(s.id) || s.status === "not run")) return null;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, r.html);
  return { out: file, sections: r.sections };
}
