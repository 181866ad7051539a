import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { probeCommand } from "../../src/cli/probe.js";
import { writePng } from "../../src/image/io.js";
import { saveCheckpoint } from "../../src/models/checkpoint.js";
import { modelConfig, type VitArch } from "../../src/models/config.js";
import { initParams } from "../../src/models/params.js";
import { toyVit } from "../helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-probe-cli-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<string> {
  const log = vi.spyOn(console, "error").mockImplementation(() => {});
  try {
    const cmd = probeCommand().exitOverride();
    await cmd.parseAsync(args, { from: "user" });
    return log.mock.calls.map((c) => c.join(" ")).join("\n");
  } finally {
    log.mockRestore();
  }
}

describe("mimic probe", () => {
  it("depth on an NYU-layout folder with a checkpoint: metrics.json, predictions.png, summary lines", async () => {
    const data = path.join(tmp, "nyu");
    for (const d of ["rgb", "depth"]) fs.mkdirSync(path.join(data, d), { recursive: true });
    for (let k = 0; k < 5; k++) {
      await writePng(path.join(data, "rgb", `f${k}.png`), 24, 18, new Uint8Array(24 * 18 * 3).fill(30 * k), 3);
      await writePng(path.join(data, "depth", `f${k}.png`), 24, 18, new Uint16Array(24 * 18).fill(1000 + 500 * k), 1);
    }
    // toy architecture (the CPU reference encoder runs in milliseconds)
    const arch: VitArch = toyVit();
    const ck = await saveCheckpoint(path.join(tmp, "toy"), { params: initParams(modelConfig(arch, "croco"), 3), step: 7 });
    const out = path.join(tmp, "out");
    const text = await run([
      "--ckpt",
      ck,
      "--task",
      "depth",
      "--data",
      data,
      "--out",
      out,
      "--preset",
      "quick",
      "--epochs",
      "2",
      "--feature-norm",
      "none",
    ]);
    expect(text).toMatch(/depth probe, .*toy\.json:step7@[0-9a-f]+, linear head, 4 train \/ 1 val images/);
    expect(text).toMatch(/every 5th sample .* held out/);
    expect(text).toMatch(/AbsRel \d\.\d{4}/);
    const json = JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8"));
    expect(json.train.epochs).toBe(2);
    expect(json.train.featureNorm).toBe("none");
    expect(json.head.gridH).toBe(4);
    expect(fs.existsSync(path.join(out, "predictions.png"))).toBe(true);
  });

  it("bad flags are usage errors naming the fix", async () => {
    const base = ["--ckpt", "random", "--data", tmp, "--out", path.join(tmp, "x")];
    await expect(run([...base, "--task", "normals"])).rejects.toThrow(/--task must be depth or seg/);
    await expect(run([...base, "--task", "seg", "--preset", "big"])).rejects.toThrow(/unknown --preset 'big'/);
    await expect(run([...base, "--task", "seg", "--feature-norm", "bn"])).rejects.toThrow(/--feature-norm must be standardize or none/);
    await expect(run([...base, "--task", "seg", "--class-weights", "inverse"])).rejects.toThrow(/--class-weights must be none or balanced/);
    await expect(run([...base, "--task", "depth", "--class-weights", "balanced"])).rejects.toThrow(/--class-weights is for --task seg/);
    await expect(run([...base, "--task", "seg", "--model", "huge"])).rejects.toThrow(/unknown --model 'huge'/);
    // --arch: the old spelling of --model, still read for one release
    await expect(run([...base, "--task", "seg", "--arch", "huge"])).rejects.toThrow(/unknown --model 'huge'/);
    await expect(run(["--ckpt", "random", "--task", "seg", "--data", path.join(tmp, "nothing"), "--out", tmp])).rejects.toThrow(
      /does not exist/,
    );
  });
});
