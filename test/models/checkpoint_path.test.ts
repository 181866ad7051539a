// What a checkpoint argument means: a sidecar, its tensors, a run's latest.json or the run folder.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkpointTensorsPath, resolveCheckpointPath } from "../../src/models/checkpoint.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-ckpt-path-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("resolveCheckpointPath / checkpointTensorsPath", () => {
  const run = path.join(tmp, "run");
  fs.mkdirSync(run);
  const sidecar = path.join(run, "checkpoint-000004.json");
  fs.writeFileSync(sidecar, JSON.stringify({ format: "mimic-kit.checkpoint", version: 1, model: "checkpoint-000004.safetensors" }));
  fs.writeFileSync(path.join(run, "latest.json"), JSON.stringify({ checkpoint: "checkpoint-000004.json", step: 4 }));

  it("follows latest.json and a run folder to the sidecar it names; keeps other paths", () => {
    expect(resolveCheckpointPath(path.join(run, "latest.json"))).toBe(sidecar);
    expect(resolveCheckpointPath(run)).toBe(sidecar);
    expect(resolveCheckpointPath(sidecar)).toBe(sidecar);
    const bare = path.join(run, "converted.safetensors");
    expect(resolveCheckpointPath(bare)).toBe(bare);
  });

  it("gives the model tensors of a sidecar or pointer", () => {
    const st = path.join(run, "checkpoint-000004.safetensors");
    expect(checkpointTensorsPath(path.join(run, "latest.json"))).toBe(st);
    expect(checkpointTensorsPath(sidecar)).toBe(st);
    expect(checkpointTensorsPath(st)).toBe(st);
  });

  it("a folder without latest.json is an error that names it and the fix", () => {
    expect(() => resolveCheckpointPath(tmp)).toThrow(/without latest.json.*Fix/);
  });
});
