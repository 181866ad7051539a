// `mimic synth` and `mimic train` share the GPU plumbing of mining (batched submissions, readbacks
// in flight, decode/encode workers): the same seed must give the same bytes whatever the load and
// the batch boundaries. Synth: every output file. Train: the loss curve and the checkpoint
// tensors (weights and optimizer state).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listTree } from "../tree.js";
import { cpuHogs } from "./hogs.js";

const bin = path.resolve(__dirname, "../../bin/mimic.js");
// Each test runs the CLI two to four times, half of them beside busy loops: on a shared 2-core
// machine that can take minutes.
const SLOW = 400_000;
const root = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-determinism-st-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function mimic(...args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    c.stderr.on("data", (d) => (stderr += d));
    c.on("close", (status) => resolve({ status, stderr }));
  });
}

async function underLoad<T>(f: () => Promise<T>): Promise<T> {
  const stop = cpuHogs();
  try {
    return await f();
  } finally {
    stop();
  }
}

/** Files (relative path -> bytes) under dir. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const rel of listTree(dir).sort()) {
    const p = path.join(dir, rel);
    if (fs.statSync(p).isFile()) out.set(rel, fs.readFileSync(p));
  }
  return out;
}

describe("mimic synth: same seed, same bytes", { timeout: SLOW }, () => {
  it("a rerun beside two busy loops, with 3 frames per render submit instead of 8, writes the same files", async () => {
    const args = ["--scenes", "2", "--seconds", "2", "--fps", "4", "--size", "64x48", "--seed", "5", "--quiet"];
    const a = path.join(root, "synth-a");
    const b = path.join(root, "synth-b");
    const r = await mimic("synth", "--out", a, ...args);
    expect(r.status, r.stderr).toBe(0);
    const r2 = await underLoad(() => mimic("synth", "--out", b, ...args, "--batch", "3"));
    expect(r2.status, r2.stderr).toBe(0);
    const fa = files(a);
    const fb = files(b);
    expect([...fb.keys()]).toEqual([...fa.keys()]);
    expect(fa.size).toBeGreaterThan(10);
    for (const [rel, bytes] of fa) expect(Buffer.compare(bytes, fb.get(rel) as Buffer) === 0, `${rel} differs`).toBe(true);
  });
});

describe("mimic train: same seed, same loss curve and checkpoint bytes", { timeout: SLOW }, () => {
  const data = path.join(root, "mined");
  beforeAll(async () => {
    // A mined-like dataset: 6 pairs of 96x96 JPEGs (a pattern and the same pattern shifted).
    const lines = ["path1,path2,correspondence"];
    for (let i = 0; i < 6; i++) {
      const dir = path.join("src", "v", String(i).padStart(4, "0"));
      fs.mkdirSync(path.join(data, dir), { recursive: true });
      for (const k of [0, 1]) {
        const px = new Uint8Array(96 * 96 * 3);
        for (let y = 0; y < 96; y++)
          for (let x = 0; x < 96; x++) {
            const xs = x + 5 * k;
            px.set([(xs * 7 + i * 40) & 255, (y * 5 + xs * 3) & 255, ((xs ^ y) * 3 + i * 17) & 255], (y * 96 + x) * 3);
          }
        await sharp(px, { raw: { width: 96, height: 96, channels: 3 } })
          .jpeg({ quality: 90 })
          .toFile(path.join(data, dir, `000${k}.jpg`));
      }
      fs.writeFileSync(path.join(data, dir, "corresponding.json"), "{}\n");
      lines.push(`${dir}/0000.jpg,${dir}/0001.jpg,${dir}/corresponding.json`);
    }
    fs.writeFileSync(path.join(data, "pairs.csv"), `${lines.join("\n")}\n`);
  });

  it("a rerun beside two busy loops gives the same losses and checkpoint tensors", async () => {
    const args = ["--data", data, "--steps", "2", "--batch", "2", "--seed", "3", "--blr", "1e-2", "--quiet"];
    const a = path.join(root, "train-a");
    const b = path.join(root, "train-b");
    const r = await mimic("train", "--out", a, ...args);
    expect(r.status, r.stderr).toBe(0);
    const r2 = await underLoad(() => mimic("train", "--out", b, ...args));
    expect(r2.status, r2.stderr).toBe(0);
    const curve = (dir: string) =>
      fs
        .readFileSync(path.join(dir, "metrics.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => {
          const m = JSON.parse(l);
          return [m.step, m.loss, m.lr];
        });
    expect(curve(a)).toHaveLength(2);
    expect(curve(b)).toEqual(curve(a));
    const tensors = [...files(a).keys()].filter((f) => f.endsWith(".safetensors"));
    expect(tensors.length).toBeGreaterThanOrEqual(2); // weights and optimizer state
    for (const f of tensors)
      expect(Buffer.compare(fs.readFileSync(path.join(a, f)), fs.readFileSync(path.join(b, f))) === 0, `${f} differs`).toBe(true);
  });
});
