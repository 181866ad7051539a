// mimic-kit's own version, read from package.json.
import fs from "node:fs";
import path from "node:path";
import { packageRoot } from "./gpu/kernel.js";

export function packageVersion(): string {
  return JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")).version as string;
}
