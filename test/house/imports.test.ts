// The house plan (DESIGN.md "Layout"), checked over the import graph of src/**/*.ts:
// (a) src/ref/ is the oracle: only src/ref/ itself imports it, never production code;
// (b) nothing outside src/cli/ imports src/cli/ (library code reports progress through callbacks);
// (c) the graph has no cycle.
// Type-only imports count too: a type pulled from ref/ or cli/ is still an arrow pointing the wrong way.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SRC = join(ROOT, "src");

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

/** file (relative to the repository root) -> the files it imports (relative), from every import/export/import(). */
function importGraph(dir = SRC): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(dir)) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const deps: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith(".")) continue; // a package
      const target = resolve(dirname(file), fileName).replace(/\.js$/, ".ts");
      deps.push(relative(ROOT, target));
    }
    graph.set(relative(ROOT, file), [...new Set(deps)].sort());
  }
  return graph;
}

/** Every elementary cycle found by a depth-first search, each as its path of files (first = last). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 1);
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 1) found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

describe("house plan: imports point down", () => {
  const graph = importGraph();

  it("reads the graph (sanity: it sees src/ and resolves imports to files that exist)", () => {
    expect(graph.size).toBeGreaterThan(50);
    const missing = [...graph].flatMap(([f, ds]) => ds.filter((d) => !graph.has(d)).map((d) => `${f} -> ${d}`));
    expect(missing, "imports that resolve to no src/**/*.ts file").toEqual([]);
    expect(graph.get("src/ref/features/sift.ts")?.length ?? 0).toBeGreaterThan(0);
  });

  it("no production file imports src/ref/ (the oracle is for tests)", () => {
    const bad = [...graph].flatMap(([f, ds]) =>
      f.startsWith("src/ref/") ? [] : ds.filter((d) => d.startsWith("src/ref/")).map((d) => `${f} -> ${d}`),
    );
    expect(bad, "move the shared definition to the area that owns it; src/ref/ may import it from there").toEqual([]);
  });

  it("no file outside src/cli/ imports src/cli/ (library code takes callbacks)", () => {
    const bad = [...graph].flatMap(([f, ds]) =>
      f.startsWith("src/cli/") ? [] : ds.filter((d) => d.startsWith("src/cli/")).map((d) => `${f} -> ${d}`),
    );
    expect(bad, "move the library part below cli/, or pass it in as a callback").toEqual([]);
  });

  it("the import graph has no cycle", () => {
    expect(cycles(graph).map((c) => c.join(" -> "))).toEqual([]);
  });

  it("every relative import of test/, bench/ and examples/ resolves to a file (a moved module leaves none behind)", () => {
    const missing: string[] = [];
    for (const dir of ["test", "bench", "examples"])
      for (const [f, ds] of importGraph(join(ROOT, dir)))
        for (const d of ds)
          if (d.endsWith(".ts") && !existsSync(join(ROOT, d)) && !existsSync(join(ROOT, d.replace(/\.ts$/, ".js"))))
            missing.push(`${f} -> ${d}`);
    expect(missing).toEqual([]);
  });

  it("the cycle finder finds a cycle when there is one (so the test above can fail)", () => {
    const g = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
    ]);
    expect(cycles(g)).toEqual([["a", "b", "c", "a"]]);
  });
});
