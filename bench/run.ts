// `npm run bench -- [name ...] [--json] [--quick] [--profile]`: runs bench/<name>.ts (all when none named).
// Prints a markdown table per benchmark, or with --json one JSON object {name: result}. Running
// all of them also writes bench/results.json and bench/results.md.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BenchResult, formatTable } from "./lib.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const profile = args.includes("--profile");
const available = fs
  .readdirSync(here)
  .filter((f) => f.endsWith(".js") && !["lib.js", "run.js"].includes(f))
  .map((f) => f.replace(/\.js$/, ""))
  .sort();
const named = args.filter((a) => !a.startsWith("--"));
for (const n of named)
  if (!available.includes(n)) {
    console.error(`unknown benchmark '${n}'; available: ${available.join(", ")}`);
    process.exit(2);
  }
const names = named.length ? named : available;

const results: Record<string, BenchResult> = {};
for (const name of names) {
  const mod = (await import(pathToFileURL(path.join(here, `${name}.js`)).href)) as {
    bench: (o: { quick?: boolean; profile?: boolean }) => Promise<BenchResult>;
  };
  if (!json) console.error(`running bench/${name}.ts ...`);
  results[name] = await mod.bench({ quick, profile });
  if (!json) console.log(`${formatTable(results[name])}\n`);
}
if (json) console.log(JSON.stringify(names.length === 1 ? results[names[0]] : results, null, 2));
if (!named.length) {
  // Written to the source tree's bench/ (dist/bench/../../bench).
  const out = path.join(here, "..", "..", "bench");
  fs.writeFileSync(path.join(out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(out, "results.md"), `${Object.values(results).map(formatTable).join("\n\n")}\n`);
}
