#!/usr/bin/env node
// Entry point of the `mimic` command: runs the compiled CLI in dist/.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "dist", "src", "cli", "main.js");
if (!existsSync(entry)) {
  console.error(`mimic: the CLI is not built yet. Fix: run 'npm run bootstrap' (or 'npm run build') in ${root}`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
await main(process.argv);
