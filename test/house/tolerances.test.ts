// Item 7 of the house plan: every expectClose tolerance comes from the one table (test/tolerances.ts),
// so how strict a comparison is can be read and changed in one place. A literal bound fails here,
// naming the file and line; add (or reuse) a named entry in test/tolerances.ts instead.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

/** `expectClose(...)` / `expectCloseArr(...)` calls whose tolerance argument (third) is a number literal. */
function literalTolerances(source: string): { line: number; text: string }[] {
  const found: { line: number; text: string }[] = [];
  const re = /expectClose(?:Arr)?\(/g;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    // split the call's arguments at top-level commas
    let depth = 1;
    let i = m.index + m[0].length;
    const args: string[] = [""];
    for (; i < source.length && depth > 0; i++) {
      const ch = source[i];
      if ("([{".includes(ch)) depth++;
      else if (")]}".includes(ch)) depth--;
      if (depth === 0) break;
      if (ch === "," && depth === 1) args.push("");
      else args[args.length - 1] += ch;
    }
    const tol = (args[2] ?? "").trim();
    if (/^-?[0-9][0-9.eE+-]*$/.test(tol))
      found.push({ line: source.slice(0, m.index).split("\n").length, text: source.slice(m.index, i + 1).replace(/\s+/g, " ") });
  }
  return found;
}

describe("house plan: one tolerance table", () => {
  it("finds a literal tolerance when there is one (so the check below can fail)", () => {
    expect(literalTolerances('expectClose(a, f(b, 2), 1e-6, "x");\nexpectClose(a, b, TOL.exact, "y");')).toEqual([
      { line: 1, text: 'expectClose(a, f(b, 2), 1e-6, "x")' },
    ]);
  });

  it("no expectClose in test/ takes a number literal as its tolerance", () => {
    const bad: string[] = [];
    for (const f of testFiles(join(ROOT, "test")).filter((p) => !p.endsWith("house/tolerances.test.ts")))
      for (const hit of literalTolerances(readFileSync(f, "utf8"))) bad.push(`${relative(ROOT, f)}:${hit.line}: ${hit.text}`);
    expect(bad, "use a named entry of test/tolerances.ts").toEqual([]);
  });
});
