#!/usr/bin/env node
// Write docs/cli.md from the commander definitions of the built CLI (run `npm run build` first):
//
//   node scripts/cli-reference.mjs           # (re)write docs/cli.md
//   node scripts/cli-reference.mjs --check   # exit 1 if docs/cli.md is out of date
//
// test/cli/reference.test.ts does the same check from the TypeScript sources.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { program } = await import(path.join(root, "dist/src/cli/main.js"));
const { cliReference } = await import(path.join(root, "dist/src/cli/reference.js"));
const file = path.join(root, "docs", "cli.md");
const text = cliReference(program());
if (process.argv.includes("--check")) {
  const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  if (old !== text) {
    console.error("docs/cli.md is out of date. Fix: npm run docs:cli");
    process.exit(1);
  }
} else {
  fs.writeFileSync(file, text);
  console.error(`wrote ${path.relative(process.cwd(), file)}`);
}
