// `mimic demo`'s command sequence with a fake `mimic` runner (no work done): a second run into the
// same folder must not stop at a step that refuses a non-empty --out, and the probes use the
// benchmark scale's head.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { benchmarkScales } from "../../src/benchmark/scales.js";
import { UsageError } from "../../src/cli/common.js";
import { runDemo } from "../../src/cli/demo.js";
import type { MimicRunner } from "../../src/run_mimic.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-demo-steps-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function fakeRunner(calls: string[][]): MimicRunner {
  return async (args) => {
    calls.push(args);
    if (args[0] === "train") {
      const out = args[args.indexOf("--out") + 1];
      fs.mkdirSync(out, { recursive: true });
      fs.writeFileSync(path.join(out, "latest.json"), JSON.stringify({ checkpoint: "checkpoint-000001.json", step: 1 }));
    }
    return 0;
  };
}

describe("mimic demo steps", () => {
  it("every synth, mine and train step replaces its earlier output (--force), so a rerun goes through; probes use the scale's head", async () => {
    const calls: string[][] = [];
    await runDemo(path.join(tmp, "out"), { quick: true, quiet: true, runner: fakeRunner(calls) });
    const writers = calls.filter((c) => ["synth", "mine", "train"].includes(c[0]));
    expect(writers.map((c) => c[0])).toEqual(["synth", "synth", "mine", "train", "train"]);
    for (const c of writers) expect(c, c.join(" ")).toContain("--force");
    const probes = calls.filter((c) => c[0] === "probe");
    expect(probes.length).toBe(8);
    for (const c of probes) expect(c[c.indexOf("--head") + 1]).toBe(benchmarkScales.nano.probeHead);
  });

  it("refuses an --out that holds files the demo did not write (it would replace a report.html or env.json there)", async () => {
    const out = path.join(tmp, "user");
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, "thesis.txt"), "four years\n");
    fs.writeFileSync(path.join(out, "report.html"), "my report\n");
    const calls: string[][] = [];
    await expect(runDemo(out, { quick: true, quiet: true, runner: fakeRunner(calls) })).rejects.toThrow(UsageError);
    await expect(runDemo(out, { quick: true, quiet: true, runner: fakeRunner(calls) })).rejects.toThrow(/thesis\.txt/);
    expect(calls).toEqual([]);
    expect(fs.readdirSync(out).sort()).toEqual(["report.html", "thesis.txt"]);
    expect(fs.readFileSync(path.join(out, "report.html"), "utf8")).toBe("my report\n");
  });
});
