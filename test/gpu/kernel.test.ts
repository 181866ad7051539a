import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compileErrors, packageRoot, shaderSource } from "../../src/gpu/kernel.js";
import { testGpu } from "../helpers.js";

function allShaders(dir = path.join(packageRoot(), "shaders"), rel = ""): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? allShaders(path.join(dir, e.name), `${rel}${e.name}/`) : e.name.endsWith(".wgsl") ? [`${rel}${e.name}`] : [],
    );
}

describe("shader loading", () => {
  it("expands //!include once", () => {
    const src = shaderSource("common/pcg32_stream.wgsl");
    expect(src).toContain("fn pcg_new");
    expect(src.match(/fn pcg_new/g)?.length).toBe(1);
  });

  it("names the missing file", () => {
    expect(() => shaderSource("nope/missing.wgsl")).toThrow(/shaders\/nope\/missing\.wgsl/);
  });

  it("every shader in shaders/ compiles on the adapter", async () => {
    const gpu = await testGpu();
    // Files that other shaders //!include (common/pcg32.wgsl, nn/matmul_core.wgsl) are compiled through their includers.
    const all = allShaders();
    const root = path.join(packageRoot(), "shaders");
    const included = new Set(
      all.flatMap((f) => [...fs.readFileSync(path.join(root, f), "utf8").matchAll(/^\/\/!include\s+(\S+)/gm)].map((m) => m[1])),
    );
    const files = all.filter((f) => !included.has(f));
    expect(included.has("common/pcg32.wgsl")).toBe(true);
    expect(files.length).toBeGreaterThan(0);
    const errors = (await Promise.all(files.map((f) => compileErrors(gpu, f)))).flat();
    expect(errors, errors.join("\n")).toEqual([]);
  });
});
