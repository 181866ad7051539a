// The published package as a consumer gets it: `npm pack`, the tarball unpacked into a temp
// consumer project, its declared dependencies (and nothing else) made resolvable from this
// checkout's node_modules (offline, no registry), then a strict `tsc` of a small consumer file
// without skipLibCheck, and that file run: one API call on the GPU, which also proves the shipped
// shaders/ are found. dist/ must be built (npm test's pretest bootstrap does it).
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let tmp = "";
let files: string[] = [];
let pkg: { dependencies: Record<string, string>; files: string[]; scripts: Record<string, string>; license: string };

/** Link node_modules/<name> of `dir` to this checkout's copy (a scoped name keeps its scope folder). */
function linkDep(dir: string, name: string): void {
  const from = path.join(root, "node_modules", name);
  if (!fs.existsSync(from)) throw new Error(`${name} is not installed in ${root}/node_modules. Fix: npm ci`);
  const to = path.join(dir, "node_modules", name);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.symlinkSync(from, to, "dir");
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-pack-"));
  // --ignore-scripts: the prepack build already ran (pretest); the tarball is what `npm publish` ships.
  const out = execFileSync(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], { cwd: root, encoding: "utf8" });
  const info = JSON.parse(out)[0] as { filename: string; files: Array<{ path: string }> };
  files = info.files.map((f) => f.path);
  const consumer = path.join(tmp, "consumer");
  const installed = path.join(consumer, "node_modules", "mimic-kit");
  fs.mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["xzf", path.join(tmp, info.filename), "-C", installed, "--strip-components=1"]);
  pkg = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"));
  for (const dep of Object.keys(pkg.dependencies)) linkDep(consumer, dep);
  linkDep(consumer, "@types/node"); // the consumer's own: a Node project
}, 60_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("npm pack", () => {
  it("ships the build, shaders, README's image and a LICENSE; no source maps of unshipped sources", () => {
    for (const f of [
      "bin/mimic.js",
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "shaders/image/rgb_to_gray.wgsl",
      "docs/report.png",
      "LICENSE",
      "README.md",
    ])
      expect(files, f).toContain(f);
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(files.filter((f) => f.startsWith("src/") || (f.endsWith(".ts") && !f.endsWith(".d.ts")))).toEqual([]);
    expect(fs.readFileSync(path.join(root, "LICENSE"), "utf8")).toMatch(new RegExp(`^${pkg.license} License`));
    expect(pkg.scripts.prepack, "a clean clone's npm pack must build dist/ first").toMatch(/build/);
    // Every relative link of README.md and docs/*.md points at a shipped file.
    const docs = [
      "README.md",
      ...fs
        .readdirSync(path.join(root, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
    ];
    for (const doc of docs) {
      const text = fs.readFileSync(path.join(root, doc), "utf8");
      for (const m of text.matchAll(/\]\(((?!https?:|#)[^)#]+)(#[^)]*)?\)/g)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(doc), m[1]));
        expect(files, `${doc} links ${m[1]}`).toContain(target);
      }
    }
  });

  it("type-checks in a strict consumer project without skipLibCheck and runs one API call", () => {
    const consumer = path.join(tmp, "consumer");
    fs.writeFileSync(path.join(consumer, "package.json"), `${JSON.stringify({ name: "consumer", private: true, type: "module" })}\n`);
    fs.writeFileSync(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          types: ["node"],
          outDir: "out",
        },
        files: ["main.ts"],
      }),
    );
    // GPUBuffer and friends must come with mimic-kit's types: the consumer names no WebGPU types package.
    fs.writeFileSync(
      path.join(consumer, "main.ts"),
      [
        'import { type Gpu, getGpu, rgbToGray } from "mimic-kit";',
        "const gpu: Gpu = await getGpu();",
        "const rgb = new Uint8Array([0, 0, 0, 255, 255, 255, 128, 128, 128, 255, 0, 0]);",
        "const gray: Float32Array = await rgbToGray(gpu, rgb, 4);",
        "const probe: GPUBuffer = gpu.device.createBuffer({ size: 4, usage: GPUBufferUsage.STORAGE });",
        "probe.destroy();",
        "console.log(JSON.stringify(Array.from(gray)));",
        "process.exit(0);",
        "",
      ].join("\n"),
    );
    const tsc = spawnSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", consumer], { encoding: "utf8" });
    expect(tsc.status, `consumer type-check failed:\n${tsc.stdout}${tsc.stderr}`).toBe(0);
    const run = spawnSync(process.execPath, [path.join(consumer, "out/main.js")], { cwd: consumer, encoding: "utf8", timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const gray = JSON.parse(run.stdout.trim().split("\n").pop() ?? "[]") as number[];
    const want = [0, 1, 128 / 255, 0.299];
    expect(gray.length).toBe(4);
    for (let i = 0; i < 4; i++) expect(Math.abs(gray[i] - want[i]), `gray[${i}] = ${gray[i]}, want ${want[i]}`).toBeLessThan(1e-5);
    const version = spawnSync(process.execPath, [path.join(consumer, "node_modules/mimic-kit/bin/mimic.js"), "--version"], {
      encoding: "utf8",
    });
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version);
  });
});
