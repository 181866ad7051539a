// Procedural scenes and trajectories (src/synth/scene.ts, camera.ts): deterministic per seed, labels
// from the documented set, and camera paths that never enter furniture.
import { describe, expect, it } from "vitest";
import { clipFromCamera, intrinsicsFromFov, makeTrajectory, mul4, TRAJECTORY_KINDS } from "../../src/synth/camera.js";
import { SYNTH_CLASSES } from "../../src/synth/classes.js";
import { loadSynthPresets } from "../../src/synth/presets.js";
import { buildMesh, clearance, DEFAULT_SCENE, generateScene, TEXTURE, VERTEX_WORDS } from "../../src/synth/scene.js";

describe("synth scenes", () => {
  it("same seed, same scene and mesh; another seed, another scene", () => {
    const a = generateScene(5);
    const b = generateScene(5);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(Buffer.compare(Buffer.from(buildMesh(a.primitives).data), Buffer.from(buildMesh(b.primitives).data))).toBe(0);
    expect(JSON.stringify(generateScene(6))).not.toBe(JSON.stringify(a));
  });

  it("uses only the documented classes, and most of them over a few seeds", () => {
    const ids = new Set(SYNTH_CLASSES.map((c) => c.id));
    expect([...ids]).toEqual(SYNTH_CLASSES.map((_, i) => i + 1));
    const seen = new Set<number>();
    for (let s = 0; s < 8; s++) {
      const mesh = buildMesh(generateScene(s).primitives);
      const u = new Uint32Array(mesh.data);
      for (let v = 0; v < mesh.vertexCount; v++) seen.add(u[v * VERTEX_WORDS + 15]);
    }
    for (const c of seen) expect(ids.has(c), `class id ${c}`).toBe(true);
    expect(seen.size).toBeGreaterThanOrEqual(12);
  });

  // distance from an eye to the nearest object, written out apart from scene.ts clearance(): a box in
  // its own frame, a cylinder by its wider radius; `exact` adds the vertical gap to cylinders and the
  // spheres (clearance()'s definition), else a cylinder counts unless the eye is above it
  const nearest = (scene: ReturnType<typeof generateScene>, e: number[], exact = false): number => {
    let closest = Number.POSITIVE_INFINITY;
    for (const b of scene.primitives) {
      if (b.type === "box") {
        const dx = e[0] - b.center[0];
        const dz = e[2] - b.center[2];
        const c = Math.cos(b.yaw);
        const sn = Math.sin(b.yaw);
        const lx = c * dx - sn * dz;
        const lz = sn * dx + c * dz;
        const ox = Math.max(0, Math.abs(lx) - b.size[0] / 2);
        const oy = Math.max(0, Math.abs(e[1] - b.center[1]) - b.size[1] / 2);
        const oz = Math.max(0, Math.abs(lz) - b.size[2] / 2);
        closest = Math.min(closest, Math.hypot(ox, oy, oz));
      } else if (b.type === "cylinder") {
        const dr = Math.max(0, Math.hypot(e[0] - b.base[0], e[2] - b.base[2]) - Math.max(b.radius, b.radiusTop));
        const above = e[1] - (b.base[1] + b.height);
        const below = b.base[1] - e[1];
        if (!exact && above <= 0) closest = Math.min(closest, dr); // the trajectory check: level with it or below
        if (exact) closest = Math.min(closest, Math.hypot(dr, Math.max(0, above, below)));
      } else if (b.type === "sphere" && exact) {
        closest = Math.min(closest, Math.max(0, Math.hypot(e[0] - b.center[0], e[1] - b.center[1], e[2] - b.center[2]) - b.radius));
      }
    }
    return closest;
  };

  it("trajectories stay inside the room and at least 0.25 m from every piece of furniture, level or tilted (low eyes)", () => {
    const presets = loadSynthPresets();
    for (const [name, scenes] of [
      ["default", 6],
      ["tilted", 30],
    ] as const) {
      for (let s = 0; s < scenes; s++) {
        const scene = generateScene(100 + s, presets[name].scene);
        for (const kind of TRAJECTORY_KINDS) {
          const traj = makeTrajectory(scene, kind, s, presets[name].trajectory);
          let closest = Number.POSITIVE_INFINITY;
          let where = "";
          for (let t = 0; t <= 60; t += 0.5) {
            const T = traj.pose(t);
            const e = [T[3], T[7], T[11]];
            if (!(e[0] > 0.3 && e[0] < scene.size[0] - 0.3 && e[2] > 0.3 && e[2] < scene.size[2] - 0.3))
              expect.fail(`${name} ${kind} t=${t}: eye ${e} outside`);
            const d = nearest(scene, e);
            if (d < closest) [closest, where] = [d, `t=${t}: eye ${e.map((x) => x.toFixed(2))}`];
          }
          expect(closest, `${name} ${kind} seed ${s} ${where}`).toBeGreaterThan(0.25);
        }
      }
    }
  });

  it("clearance() agrees with the distance written out here, and a pan in a low-eyed preset keeps it", () => {
    const presets = loadSynthPresets();
    let checked = 0;
    for (let s = 0; s < 20; s++) {
      const scene = generateScene(300 + s, presets.tilted.scene);
      for (let i = 0; i < 50; i++) {
        const e: [number, number, number] = [
          scene.size[0] * ((i * 0.137 + s * 0.31) % 1),
          0.2 + (i % 11) * 0.2,
          scene.size[2] * ((i * 0.611) % 1),
        ];
        expect(clearance(scene, e)).toBeCloseTo(nearest(scene, e, true), 12);
        checked++;
      }
    }
    expect(checked).toBe(1000);
    // without the rule, some tilted pans stand inside the centrepiece
    const noRule = { ...presets.tilted.trajectory, minClearance: 0 };
    let inside = 0;
    for (let s = 0; s < 60; s++) {
      const scene = generateScene(500 + s, presets.tilted.scene);
      const T = makeTrajectory(scene, "pan", s, noRule).pose(0);
      if (nearest(scene, [T[3], T[7], T[11]]) < 0.25) inside++;
      const U = makeTrajectory(scene, "pan", s, presets.tilted.trajectory).pose(0);
      expect(nearest(scene, [U[3], U[7], U[11]])).toBeGreaterThan(0.45);
    }
    expect(inside).toBeGreaterThan(0);
  });

  it("the projection maps camera points to the pixel convention u = fx x/z + cx", () => {
    const K = intrinsicsFromFov(64, 48, 65);
    const P = clipFromCamera(K);
    for (const [x, y, z] of [
      [0.3, -0.2, 2],
      [-1, 0.5, 4],
    ]) {
      const c = mul4(P, [x, 0, 0, 0, y, 0, 0, 0, z, 0, 0, 0, 1, 0, 0, 0]).filter((_, i) => i % 4 === 0);
      const u = ((c[0] / c[3] + 1) / 2) * K.width;
      const v = ((1 - c[1] / c[3]) / 2) * K.height;
      expect(u).toBeCloseTo((K.fx * x) / z + K.cx, 9);
      expect(v).toBeCloseTo((K.fy * y) / z + K.cy, 9);
      expect(c[2] / c[3]).toBeGreaterThan(0);
      expect(c[2] / c[3]).toBeLessThan(1);
    }
  });

  it("the tilted preset tilts and rolls the camera (the horizon moves around the frame); the default stays level", () => {
    const presets = loadSynthPresets();
    const spread = (name: string) => {
      const rolls: number[] = [];
      const pitches: number[] = [];
      for (let s = 0; s < 6; s++) {
        const traj = makeTrajectory(generateScene(200 + s), TRAJECTORY_KINDS[s % 3], s, presets[name].trajectory);
        for (let t = 0; t <= 20; t += 0.5) {
          const T = traj.pose(t); // world-from-camera, row-major; camera x right, y down, z forward; world y up
          rolls.push((Math.asin(T[4]) * 180) / Math.PI); // camera x axis's world-up component
          pitches.push((Math.asin(-T[6]) * 180) / Math.PI); // > 0 looks down
        }
      }
      const sd = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length - (v.reduce((a, x) => a + x, 0) / v.length) ** 2);
      return { roll: sd(rolls), pitchRange: Math.max(...pitches) - Math.min(...pitches) };
    };
    const level = spread("default");
    const tilted = spread("tilted");
    expect(level.roll).toBeLessThan(2);
    expect(tilted.roll).toBeGreaterThan(5);
    expect(tilted.pitchRange).toBeGreaterThan(level.pitchRange + 20);
  });

  it("presets load and name only known trajectories", () => {
    const p = loadSynthPresets();
    expect(Object.keys(p)).toContain("default");
    for (const v of Object.values(p)) {
      expect(v.trajectories.length).toBeGreaterThan(0);
      expect(v.scene.roomSize[0]).toBeGreaterThanOrEqual(6);
    }
  });
  it("user images only change scenes when enabled, and then some walls or pictures use them", () => {
    expect(JSON.stringify(generateScene(12, DEFAULT_SCENE, { images: false }))).toBe(JSON.stringify(generateScene(12)));
    let used = 0;
    for (let s = 0; s < 4; s++)
      used += generateScene(s, DEFAULT_SCENE, { images: true }).primitives.filter((p) => p.material.kind === TEXTURE.image).length;
    expect(used).toBeGreaterThan(0);
  });

  it("materials are random per scene by default: a class appears with several texture families and colours across scenes", () => {
    const byClass = (materials: "random" | "class") => {
      const m = new Map<number, { kinds: Set<number>; colours: Set<string> }>();
      for (let s = 0; s < 8; s++)
        for (const p of generateScene(100 + s, { ...DEFAULT_SCENE, materials }).primitives) {
          const e = m.get(p.classId) ?? { kinds: new Set(), colours: new Set() };
          e.kinds.add(p.material.kind);
          e.colours.add(p.material.color1.map((c) => c.toFixed(1)).join(","));
          m.set(p.classId, e);
        }
      return m;
    };
    const random = byClass("random");
    const fixed = byClass("class");
    const name = (id: number) => SYNTH_CLASSES[id - 1].name;
    for (const [id, e] of random) {
      expect(e.kinds.size, `${name(id)}: texture families over 8 scenes`).toBeGreaterThanOrEqual(4);
      expect(e.colours.size, `${name(id)}: colours over 8 scenes`).toBeGreaterThanOrEqual(4);
      expect(e.kinds.has(TEXTURE.glow)).toBe(false);
    }
    // the old behaviour: one family per class for sofas (fabric), ceilings (noise), lamps (noise + glow)
    expect([...fixed.get(SYNTH_CLASSES.find((c) => c.name === "sofa")!.id)!.kinds]).toEqual([TEXTURE.fabric]);
    expect([...fixed.get(SYNTH_CLASSES.find((c) => c.name === "ceiling")!.id)!.kinds]).toEqual([TEXTURE.noise]);
    // geometry and classes do not depend on the materials; same seed, same materials
    const a = generateScene(7);
    const b = generateScene(7, { ...DEFAULT_SCENE, materials: "class" });
    const geom = (sc: typeof a) => JSON.stringify(sc.primitives.map((p) => ({ ...p, material: null })));
    expect(geom(a)).toBe(geom(b));
    expect(JSON.stringify(generateScene(7))).toBe(JSON.stringify(a));
    expect(loadSynthPresets()["class-materials"].scene.materials).toBe("class");
    expect(loadSynthPresets().default.scene.materials).toBe("random");
  });
});
