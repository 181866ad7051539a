// Named synth presets (datasets/synth-presets.json), validated into typed configs.
import fs from "node:fs";
import path from "node:path";
import { packageRoot } from "../gpu/kernel.js";
import { DEFAULT_TRAJECTORY, TRAJECTORY_KINDS, type TrajectoryConfig, type TrajectoryKind } from "./camera.js";
import { DEFAULT_SCENE, type SceneConfig } from "./scene.js";

export interface SynthPreset {
  name: string;
  description: string;
  /** Scene generator settings. */
  scene: SceneConfig;
  /** Camera speeds, jitter, field of view. */
  trajectory: TrajectoryConfig;
  /** Camera motions, cycled over the scenes (scene i gets trajectories[i % length]). */
  trajectories: TrajectoryKind[];
  /** Seconds between frames copied into the probe dataset. */
  probeEvery: number;
  /** Share of scenes (the last ones) in the val split. */
  valFraction: number;
}

export function presetsFile(): string {
  return path.join(packageRoot(), "datasets", "synth-presets.json");
}

function merge<T extends object>(base: T, over: unknown, what: string, file: string): T {
  if (over === undefined) return { ...base };
  if (typeof over !== "object" || over === null || Array.isArray(over)) throw new Error(`${file}: ${what} must be an object`);
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(over)) {
    if (!(k in base)) throw new Error(`${file}: unknown field ${what}.${k}; known: ${Object.keys(base).join(", ")}`);
    const b = (base as Record<string, unknown>)[k];
    if (Array.isArray(b) ? !Array.isArray(v) || v.length !== b.length || v.some((x) => typeof x !== "number") : typeof v !== typeof b)
      throw new Error(`${file}: ${what}.${k} must be ${Array.isArray(b) ? `an array of ${b.length} numbers` : `a ${typeof b}`}`);
    out[k] = v;
  }
  return out as T;
}

/** All presets in datasets/synth-presets.json. */
export function loadSynthPresets(file = presetsFile()): Record<string, SynthPreset> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read synth presets ${file}: ${(e as Error).message}`);
  }
  const out: Record<string, SynthPreset> = {};
  for (const [name, v] of Object.entries(raw)) {
    if (name.startsWith("$")) continue;
    const p = v as Record<string, unknown>;
    const kinds = (p.trajectories ?? ["walk", "orbit", "pan"]) as string[];
    for (const k of kinds)
      if (!TRAJECTORY_KINDS.includes(k as TrajectoryKind))
        throw new Error(`${file}: preset '${name}' has unknown trajectory '${k}'; known: ${TRAJECTORY_KINDS.join(", ")}`);
    const probeEvery = Number(p.probeEvery ?? 0.5);
    const valFraction = Number(p.valFraction ?? 0.2);
    if (!(probeEvery > 0) || !(valFraction >= 0 && valFraction < 1))
      throw new Error(`${file}: preset '${name}': probeEvery must be > 0 and valFraction in [0, 1)`);
    const scene = merge(DEFAULT_SCENE, p.scene, `${name}.scene`, file);
    if (scene.materials !== "random" && scene.materials !== "class")
      throw new Error(`${file}: preset '${name}': scene.materials must be "random" or "class", got '${scene.materials}'`);
    out[name] = {
      name,
      description: String(p.description ?? ""),
      scene,
      trajectory: merge(DEFAULT_TRAJECTORY, p.trajectory, `${name}.trajectory`, file),
      trajectories: kinds as TrajectoryKind[],
      probeEvery,
      valFraction,
    };
  }
  return out;
}

/** One preset by name; the error lists the known names. */
export function synthPreset(name: string): SynthPreset {
  const all = loadSynthPresets();
  const p = all[name];
  if (!p) throw new Error(`unknown synth preset '${name}'; known: ${Object.keys(all).join(", ")} (in ${presetsFile()})`);
  return p;
}
