// Directory listing for tests that watch a folder another process is writing: entries renamed or
// removed between readdir and the next step (a pair's `.tmp-N` folder renamed into place) are
// skipped instead of throwing ENOENT.
import fs from "node:fs";
import path from "node:path";

/** Paths under `dir` (files and folders, relative, recursive); [] when `dir` does not exist. */
export function listTree(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw e;
  }
  const out: string[] = [];
  for (const d of entries) {
    out.push(d.name);
    if (d.isDirectory()) for (const sub of listTree(path.join(dir, d.name))) out.push(path.join(d.name, sub));
  }
  return out;
}

/** Lines of a text file another process appends to; 0 when it does not exist yet. */
export function countLines(file: string): number {
  try {
    return fs.readFileSync(file, "utf8").split("\n").filter(Boolean).length;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw e;
  }
}
