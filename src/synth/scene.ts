// Procedural indoor scenes: a room (walls, floor, ceiling) with furniture built from boxes,
// cylinders and spheres, each primitive carrying a semantic class (classes.ts) and a procedural
// material (textured in shaders/render/scene.wgsl). Everything follows from one seed (PCG32).
//
// World frame: metres, y up; the room spans x in [0, size[0]], y in [0, size[1]], z in [0, size[2]].
// A free elliptical ring around the room centre (see Scene.walkable) holds no furniture, so the
// camera trajectories in camera.ts never pass through objects.
import { Pcg32 } from "../prng.js";
import { CLASS } from "./classes.js";

/** Texture kinds; the numbers are the `kind` switch in scene.wgsl's albedo(). */
export const TEXTURE = {
  noise: 0, // fbm value noise mixing color1 and color2
  brick: 1, // running-bond bricks with mortar
  wood: 2, // planks with warped grain rings
  tiles: 3, // square tiles with grout and per-tile tint
  poster: 4, // random circles / rectangles on a background (pictures, book spines)
  fabric: 5, // fine weave over fbm
  wallpaper: 6, // stripes and dots over fbm
  glow: 7, // emissive (lamp shades): not shaded by the lights
  image: 8, // a user image (layer seed % layers of the renderer's image array), repeating every 1/scale m
} as const;
export type TextureKind = (typeof TEXTURE)[keyof typeof TEXTURE];

export type Rgb = [number, number, number];
export type Vec3 = [number, number, number];

export interface Material {
  kind: TextureKind;
  /** Two base colours (linear 0..1) the texture mixes. */
  color1: Rgb;
  color2: Rgb;
  /** Per-material texture seed (u32). */
  seed: number;
  /** Texture coordinates are metres times this. */
  scale: number;
}

interface Base {
  classId: number;
  material: Material;
}
/** A planar rectangle: corners origin, origin+u, origin+u+v, origin+v; uv in metres along u, v. */
export interface Quad extends Base {
  type: "quad";
  origin: Vec3;
  u: Vec3;
  v: Vec3;
}
/** An oriented box: centre, full size (x, y, z) before rotation by `yaw` radians about +y. */
export interface Box extends Base {
  type: "box";
  center: Vec3;
  size: Vec3;
  yaw: number;
}
/** A (truncated) cone / cylinder standing on `base`, axis +y. */
export interface Cylinder extends Base {
  type: "cylinder";
  base: Vec3;
  radius: number;
  radiusTop: number;
  height: number;
  segments: number;
}
export interface Sphere extends Base {
  type: "sphere";
  center: Vec3;
  radius: number;
  segments: number;
}
export type Primitive = Quad | Box | Cylinder | Sphere;

export interface Light {
  position: Vec3;
  intensity: number;
}

export interface Scene {
  seed: number;
  /** Room size (x, y, z) in metres. */
  size: Vec3;
  primitives: Primitive[];
  lights: Light[];
  ambient: number;
  /**
   * The free ring for cameras: an ellipse centred at `center` (x, z) with semi-axes `radii`;
   * points within `margin` of it hold no furniture.
   */
  walkable: { center: [number, number]; radii: [number, number]; margin: number };
}

/** Scene generator settings (datasets/synth-presets.json holds named presets). */
export interface SceneConfig {
  /** Room width (x) and depth (z) range in metres; at least 6 so the camera ring fits. */
  roomSize: [number, number];
  /** Ceiling height range in metres. */
  roomHeight: [number, number];
  /** Fraction of wall length filled with furniture (0..1). */
  furnitureDensity: number;
  /** Probability of a table with clutter in the room centre. */
  centerpiece: number;
  /** Number of point lights (2..3). */
  lights: number;
  /** Tessellation of cylinders and spheres (segments around). */
  segments: number;
  /**
   * Share of pictures and walls textured with user images (TEXTURE.image) when the renderer has
   * some (`mimic synth --textures DIR`); ignored otherwise.
   */
  imageShare: number;
  /**
   * "random" (default): every surface's material (texture family, colours, scale) is drawn at
   * random, independently of its class, per scene; a class is recognised by shape, placement and
   * context, not colour, so a frozen random encoder has no colour shortcut in the probes.
   * "class": each class keeps its own colour and texture family (walls wallpaper/brick, floors
   * wood/tiles, sofas fabric, lamps glow...), as before; the "class-materials" preset.
   * User images (--textures) are kept in both.
   */
  materials: "random" | "class";
}

export const DEFAULT_SCENE: SceneConfig = {
  roomSize: [6, 9],
  roomHeight: [2.6, 3.1],
  furnitureDensity: 0.7,
  centerpiece: 0.7,
  lights: 3,
  segments: 20,
  imageShare: 0.5,
  materials: "random",
};

class Rand {
  private r: Pcg32;
  constructor(seed: number, stream: number) {
    this.r = new Pcg32(seed, stream);
  }
  f(): number {
    return this.r.nextFloat();
  }
  range(a: number, b: number): number {
    return a + (b - a) * this.r.nextFloat();
  }
  int(n: number): number {
    return this.r.nextBelow(n);
  }
  u32(): number {
    return this.r.nextU32();
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.r.nextBelow(xs.length)];
  }
  chance(p: number): boolean {
    return this.r.nextFloat() < p;
  }
  /** A colour near `c` (each channel +-j). */
  tint(c: Rgb, j = 0.08): Rgb {
    return c.map((x) => Math.min(1, Math.max(0, x + this.range(-j, j)))) as Rgb;
  }
}

const WOODS: Rgb[] = [
  [0.55, 0.35, 0.2],
  [0.7, 0.5, 0.3],
  [0.4, 0.25, 0.15],
  [0.8, 0.65, 0.45],
  [0.3, 0.2, 0.12],
];
const WALLS: Rgb[] = [
  [0.85, 0.82, 0.75],
  [0.7, 0.78, 0.85],
  [0.88, 0.75, 0.65],
  [0.75, 0.85, 0.72],
  [0.9, 0.9, 0.88],
  [0.65, 0.6, 0.7],
];
const BRICKS: Rgb[] = [
  [0.6, 0.28, 0.2],
  [0.7, 0.4, 0.3],
  [0.55, 0.5, 0.45],
];
const FABRICS: Rgb[] = [
  [0.3, 0.35, 0.6],
  [0.6, 0.2, 0.2],
  [0.35, 0.5, 0.3],
  [0.5, 0.45, 0.4],
  [0.2, 0.2, 0.22],
  [0.75, 0.6, 0.3],
];
const BRIGHT: Rgb[] = [
  [0.9, 0.2, 0.2],
  [0.2, 0.6, 0.9],
  [0.95, 0.8, 0.2],
  [0.3, 0.8, 0.4],
  [0.8, 0.4, 0.9],
  [0.95, 0.55, 0.2],
  [0.1, 0.1, 0.1],
  [0.95, 0.95, 0.95],
];

const darker = (c: Rgb, k: number): Rgb => [c[0] * k, c[1] * k, c[2] * k];

/** Generate the scene for `seed` (deterministic: same seed and config, same scene). */
export function generateScene(seed: number, config: Partial<SceneConfig> = {}, opts: { images?: boolean } = {}): Scene {
  // Fields not given take DEFAULT_SCENE's values, so a new field does not break older callers.
  const cfg: SceneConfig = { ...DEFAULT_SCENE, ...config };
  const r = new Rand(seed, 0x5c3e);
  // user images come from their own stream, so a scene without them is the same scene
  const ri = new Rand(seed, 0x1a6e);
  const useImage = (): boolean => (opts.images ?? false) && ri.chance(cfg.imageShare);
  const W = r.range(cfg.roomSize[0], cfg.roomSize[1]);
  const D = r.range(cfg.roomSize[0], cfg.roomSize[1]);
  const H = r.range(cfg.roomHeight[0], cfg.roomHeight[1]);
  const segs = cfg.segments;
  const prims: Primitive[] = [];
  const mat = (kind: TextureKind, c1: Rgb, c2: Rgb, scale = 1): Material => ({ kind, color1: c1, color2: c2, seed: r.u32(), scale });

  // --- the room shell -----------------------------------------------------------------------
  const floorMat = r.chance(0.5)
    ? mat(TEXTURE.wood, r.pick(WOODS), darker(r.pick(WOODS), 0.7), r.range(0.9, 1.3))
    : mat(TEXTURE.tiles, r.tint([0.8, 0.78, 0.72]), r.tint([0.45, 0.45, 0.5]), r.range(0.8, 1.4));
  prims.push({ type: "quad", origin: [0, 0, 0], u: [W, 0, 0], v: [0, 0, D], classId: CLASS.floor, material: floorMat });
  const ceilMat = mat(TEXTURE.noise, r.tint([0.92, 0.92, 0.9], 0.04), r.tint([0.7, 0.7, 0.68], 0.04), 3);
  prims.push({ type: "quad", origin: [0, H, 0], u: [W, 0, 0], v: [0, 0, D], classId: CLASS.ceiling, material: ceilMat });
  // walls: 0 z=0 (runs +x), 1 x=W (runs +z), 2 z=D (runs -x), 3 x=0 (runs -z)
  const walls: { origin: Vec3; dir: Vec3; inward: Vec3; length: number }[] = [
    { origin: [0, 0, 0], dir: [1, 0, 0], inward: [0, 0, 1], length: W },
    { origin: [W, 0, 0], dir: [0, 0, 1], inward: [-1, 0, 0], length: D },
    { origin: [W, 0, D], dir: [-1, 0, 0], inward: [0, 0, -1], length: W },
    { origin: [0, 0, D], dir: [0, 0, -1], inward: [1, 0, 0], length: D },
  ];
  const wallBase = r.pick(WALLS);
  for (const w of walls) {
    const kind = r.pick([TEXTURE.noise, TEXTURE.brick, TEXTURE.wallpaper, TEXTURE.noise, TEXTURE.wallpaper]);
    const m =
      kind === TEXTURE.brick
        ? mat(TEXTURE.brick, r.pick(BRICKS), r.tint([0.8, 0.78, 0.74]), r.range(0.9, 1.2))
        : kind === TEXTURE.wallpaper
          ? mat(TEXTURE.wallpaper, r.tint(wallBase), r.tint(darker(wallBase, 0.75)), r.range(0.8, 1.5))
          : mat(TEXTURE.noise, r.tint(wallBase), r.tint(darker(wallBase, 0.6)), r.range(2, 4));
    const wm = useImage() ? { kind: TEXTURE.image, color1: m.color1, color2: m.color2, seed: ri.u32(), scale: 1 / ri.range(0.8, 1.6) } : m;
    prims.push({ type: "quad", origin: w.origin, u: scale3(w.dir, w.length), v: [0, H, 0], classId: CLASS.wall, material: wm });
  }

  // --- furniture along the walls -------------------------------------------------------------
  const at = (w: (typeof walls)[number], s: number, depth: number, y: number): Vec3 => [
    w.origin[0] + w.dir[0] * s + w.inward[0] * depth,
    y,
    w.origin[2] + w.dir[2] * s + w.inward[2] * depth,
  ];
  const yawOf = (w: (typeof walls)[number]): number => Math.atan2(-w.dir[2], w.dir[0]);
  const WALL_GAP = 0.02; // furniture stands 2 cm off the wall
  for (const w of walls) {
    const wallYaw = yawOf(w);
    let s = r.range(0.1, 0.6);
    while (s < w.length - 0.5) {
      const kind = r.chance(cfg.furnitureDensity)
        ? r.pick(["shelf", "cabinet", "sofa", "table", "lamp", "plant", "door", "shelf", "cabinet"] as const)
        : "gap";
      const width =
        kind === "sofa"
          ? r.range(1.5, 2.1)
          : kind === "table"
            ? r.range(0.9, 1.4)
            : kind === "lamp" || kind === "plant"
              ? 0.5
              : kind === "door"
                ? 0.9
                : kind === "gap"
                  ? r.range(0.4, 1.0)
                  : r.range(0.6, 1.3);
      if (s + width > w.length - 0.1) break;
      const mid = s + width / 2;
      if (kind === "shelf")
        shelf(r, prims, at(w, mid, WALL_GAP + 0.18, 0), wallYaw, width, 0.36, r.range(1.5, Math.min(2.2, H - 0.3)), mat);
      else if (kind === "cabinet") cabinet(r, prims, at(w, mid, WALL_GAP + 0.25, 0), wallYaw, width, 0.5, r.range(0.75, 1.2), mat, segs);
      else if (kind === "sofa") sofa(r, prims, at(w, mid, WALL_GAP + 0.45, 0), wallYaw, width, 0.9, mat);
      else if (kind === "table") {
        const d = 0.7;
        table(r, prims, at(w, mid, WALL_GAP + d / 2, 0), wallYaw, width, d, 0.74, mat, segs);
        chair(r, prims, at(w, mid + r.range(-0.2, 0.2), WALL_GAP + d + 0.1, 0), wallYaw + Math.PI + r.range(-0.3, 0.3), mat);
      } else if (kind === "lamp") lamp(r, prims, at(w, mid, WALL_GAP + 0.25, 0), mat, segs);
      else if (kind === "plant") plant(r, prims, at(w, mid, WALL_GAP + 0.25, 0), mat, segs);
      else if (kind === "door") {
        const c = at(w, mid, 0.01, 1.0);
        prims.push({
          type: "box",
          center: c,
          size: [0.9, 2.0, 0.04],
          yaw: wallYaw,
          classId: CLASS.door,
          material: mat(TEXTURE.wood, r.pick(WOODS), darker(r.pick(WOODS), 0.6), 1.5),
        });
      }
      // pictures above low furniture and gaps
      if ((kind === "gap" || kind === "cabinet" || kind === "sofa" || kind === "table") && r.chance(0.8)) {
        const pw = Math.min(width * 0.8, r.range(0.4, 1.0));
        const ph = r.range(0.35, 0.8);
        const py = Math.min(H - ph / 2 - 0.15, r.range(1.45, 1.8));
        const poster = mat(TEXTURE.poster, r.tint(r.pick(WALLS), 0.2), r.pick(BRIGHT), 1);
        prims.push({
          type: "box",
          center: at(w, mid, 0.015, py),
          size: [pw, ph, 0.025],
          yaw: wallYaw,
          classId: CLASS.picture,
          material: useImage() ? { ...poster, kind: TEXTURE.image, seed: ri.u32(), scale: 1 / Math.max(pw, ph) } : poster,
        });
      }
      s += width + r.range(0.15, 0.5);
    }
  }

  // --- the centrepiece ---------------------------------------------------------------------------
  const cx = W / 2;
  const cz = D / 2;
  if (r.chance(cfg.centerpiece)) {
    const tw = r.range(0.8, 1.1);
    const td = r.range(0.6, 0.75);
    const yaw = r.range(0, Math.PI);
    table(r, prims, [cx, 0, cz], yaw, tw, td, r.range(0.45, 0.76), mat, segs, true);
  }

  // --- lights ----------------------------------------------------------------------------------
  const lights: Light[] = [];
  for (let i = 0; i < Math.max(1, Math.min(3, cfg.lights)); i++) {
    lights.push({ position: [r.range(0.2, 0.8) * W, H - 0.3, r.range(0.2, 0.8) * D], intensity: r.range(0.5, 0.8) });
  }
  // The free camera ring: between the centrepiece (radius <= ~0.7 m) and the furniture band
  // (<= ~1.0 m from the walls).
  const ring = {
    center: [cx, cz] as [number, number],
    radii: [Math.max(1.3, W / 2 - 1.8), Math.max(1.3, D / 2 - 1.8)] as [number, number],
    margin: 0.3,
  };
  if (cfg.materials === "random") randomizeMaterials(prims, seed);
  else if (cfg.materials !== "class") throw new Error(`scene config: materials must be "random" or "class", got '${cfg.materials}'`);
  return { seed, size: [W, H, D], primitives: prims, lights, ambient: 0.3, walkable: ring };
}

/**
 * Distance in metres from point `p` to the nearest object of `scene` (boxes, cylinders and spheres;
 * the room's quads are not objects), 0 inside one. Cones count with their wider radius, so the
 * distance never overstates the free space. Cameras use it to stay out of furniture (camera.ts).
 */
export function clearance(scene: Scene, p: Vec3): number {
  let best = Number.POSITIVE_INFINITY;
  for (const q of scene.primitives) {
    let d: number;
    if (q.type === "box") {
      // into the box frame: the inverse of local()'s rotation (x' = c x + s z, z' = -s x + c z)
      const c = Math.cos(q.yaw);
      const s = Math.sin(q.yaw);
      const wx = p[0] - q.center[0];
      const wz = p[2] - q.center[2];
      const lx = c * wx - s * wz;
      const lz = s * wx + c * wz;
      const ox = Math.max(0, Math.abs(lx) - q.size[0] / 2);
      const oy = Math.max(0, Math.abs(p[1] - q.center[1]) - q.size[1] / 2);
      const oz = Math.max(0, Math.abs(lz) - q.size[2] / 2);
      d = Math.hypot(ox, oy, oz);
    } else if (q.type === "cylinder") {
      const dr = Math.max(0, Math.hypot(p[0] - q.base[0], p[2] - q.base[2]) - Math.max(q.radius, q.radiusTop));
      const dy = Math.max(0, q.base[1] - p[1], p[1] - (q.base[1] + q.height));
      d = Math.hypot(dr, dy);
    } else if (q.type === "sphere") {
      d = Math.max(0, Math.hypot(p[0] - q.center[0], p[1] - q.center[1], p[2] - q.center[2]) - q.radius);
    } else continue;
    if (d < best) best = d;
  }
  return best;
}

/** Texture families a randomised material is drawn from (glow, which only lamps had, is left out). */
const RANDOM_KINDS: TextureKind[] = [
  TEXTURE.noise,
  TEXTURE.brick,
  TEXTURE.wood,
  TEXTURE.tiles,
  TEXTURE.poster,
  TEXTURE.fabric,
  TEXTURE.wallpaper,
];
const ALL_COLOURS: Rgb[] = [...WOODS, ...WALLS, ...BRICKS, ...FABRICS, ...BRIGHT];

/**
 * Replace every material of the scene (each distinct Material object: one per piece of furniture,
 * book, wall...) by one drawn independently of the class: a texture family, two colours from all
 * palettes, a log-uniform scale in [0.8, 10]. Its own PCG32 stream, so geometry and user-image
 * choices stay the scene's. User images (TEXTURE.image) are kept.
 */
function randomizeMaterials(prims: Primitive[], seed: number): void {
  const r = new Rand(seed, 0x3a7e);
  const swapped = new Map<Material, Material>();
  for (const p of prims) {
    if (p.material.kind === TEXTURE.image) continue;
    let m = swapped.get(p.material);
    if (!m) {
      m = {
        kind: r.pick(RANDOM_KINDS),
        color1: r.tint(r.pick(ALL_COLOURS), 0.1),
        color2: r.tint(r.pick(ALL_COLOURS), 0.1),
        seed: r.u32(),
        scale: 0.8 * Math.exp(r.f() * Math.log(10 / 0.8)),
      };
      swapped.set(p.material, m);
    }
    p.material = m;
  }
}

type MatFn = (kind: TextureKind, c1: Rgb, c2: Rgb, scale?: number) => Material;

const scale3 = (a: Vec3, k: number): Vec3 => [a[0] * k, a[1] * k, a[2] * k];

/** Offset (dx along the piece's width axis, dz along its depth axis) rotated by yaw, from p. */
function local(p: Vec3, yaw: number, dx: number, y: number, dz: number): Vec3 {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  // yaw rotates +x towards -z (right-handed about +y): x' = c x + s z, z' = -s x + c z
  return [p[0] + c * dx + s * dz, y, p[2] - s * dx + c * dz];
}

function shelf(r: Rand, out: Primitive[], p: Vec3, yaw: number, w: number, d: number, h: number, mat: MatFn): void {
  const m = mat(TEXTURE.wood, r.pick(WOODS), darker(r.pick(WOODS), 0.6), 1.5);
  const t = 0.03;
  const box = (dx: number, y: number, dz: number, sx: number, sy: number, sz: number, cls = CLASS.shelf, mm = m) =>
    out.push({ type: "box", center: local(p, yaw, dx, y, dz), size: [sx, sy, sz], yaw, classId: cls, material: mm });
  box(-w / 2 + t / 2, h / 2, 0, t, h, d);
  box(w / 2 - t / 2, h / 2, 0, t, h, d);
  box(0, h / 2, -d / 2 + 0.005, w, h, 0.01); // back panel
  const levels = Math.max(3, Math.round(h / 0.38));
  for (let i = 0; i <= levels; i++) {
    const y = (i / levels) * (h - t) + t / 2;
    box(0, y, 0, w - 2 * t, t, d);
    if (i === levels) break;
    // books / boxes on the board
    let x = -w / 2 + t + 0.02;
    const room = (h - t) / levels - t - 0.03;
    while (x < w / 2 - t - 0.06) {
      const bw = r.range(0.03, 0.09);
      if (x + bw > w / 2 - t) break;
      if (r.chance(0.85)) {
        const bh = r.range(0.5, 0.95) * room;
        const bd = r.range(0.6, 0.9) * d;
        box(
          x + bw / 2,
          y + t / 2 + bh / 2,
          -d / 2 + 0.01 + bd / 2,
          bw,
          bh,
          bd,
          CLASS.clutter,
          mat(TEXTURE.poster, r.pick(BRIGHT), r.pick(BRIGHT), 3),
        );
      }
      x += bw + (r.chance(0.2) ? r.range(0.05, 0.15) : 0.003);
    }
  }
}

function cabinet(r: Rand, out: Primitive[], p: Vec3, yaw: number, w: number, d: number, h: number, mat: MatFn, segs: number): void {
  const m = r.chance(0.5)
    ? mat(TEXTURE.wood, r.pick(WOODS), darker(r.pick(WOODS), 0.6), 1.2)
    : mat(TEXTURE.noise, r.tint(r.pick(WALLS), 0.15), r.pick(FABRICS), 6);
  out.push({ type: "box", center: local(p, yaw, 0, h / 2, 0), size: [w, h, d], yaw, classId: CLASS.cabinet, material: m });
  const doors = w > 0.9 ? 2 : 1;
  for (let i = 0; i < doors; i++) {
    const dx = doors === 1 ? 0 : (i - 0.5) * (w / 2);
    out.push({
      type: "box",
      center: local(p, yaw, dx, h / 2, d / 2 + 0.005),
      size: [w / doors - 0.04, h - 0.08, 0.01],
      yaw,
      classId: CLASS.cabinet,
      material: mat(TEXTURE.wood, r.pick(WOODS), darker(r.pick(WOODS), 0.5), 2),
    });
    out.push({
      type: "sphere",
      center: local(p, yaw, dx + (doors === 1 ? w / 3 : (i - 0.5) * -0.3 * (w / 2)), h * 0.7, d / 2 + 0.03),
      radius: 0.02,
      segments: Math.max(6, segs >> 1),
      classId: CLASS.cabinet,
      material: mat(TEXTURE.noise, [0.8, 0.75, 0.5], [0.4, 0.35, 0.2], 20),
    });
  }
  // things on top
  if (r.chance(0.7)) clutterOn(r, out, local(p, yaw, 0, h, 0), yaw, w, d, mat, segs);
}

function sofa(r: Rand, out: Primitive[], p: Vec3, yaw: number, w: number, d: number, mat: MatFn): void {
  const m = mat(TEXTURE.fabric, r.pick(FABRICS), r.pick(FABRICS), 1);
  const box = (dx: number, y: number, dz: number, sx: number, sy: number, sz: number) =>
    out.push({ type: "box", center: local(p, yaw, dx, y, dz), size: [sx, sy, sz], yaw, classId: CLASS.sofa, material: m });
  box(0, 0.22, 0.05, w - 0.3, 0.44, d - 0.2); // seat
  box(0, 0.45, -d / 2 + 0.1, w, 0.9, 0.2); // back
  box(-w / 2 + 0.075, 0.3, 0.05, 0.15, 0.6, d - 0.2); // arms
  box(w / 2 - 0.075, 0.3, 0.05, 0.15, 0.6, d - 0.2);
  // cushions
  const n = w > 1.8 ? 3 : 2;
  for (let i = 0; i < n; i++)
    out.push({
      type: "box",
      center: local(p, yaw, (i - (n - 1) / 2) * ((w - 0.3) / n), 0.5, 0.05),
      size: [(w - 0.3) / n - 0.03, 0.12, d - 0.3],
      yaw,
      classId: CLASS.sofa,
      material: mat(TEXTURE.fabric, r.pick(FABRICS), r.pick(FABRICS), 1.5),
    });
}

function table(
  r: Rand,
  out: Primitive[],
  p: Vec3,
  yaw: number,
  w: number,
  d: number,
  h: number,
  mat: MatFn,
  segs: number,
  round = false,
): void {
  const m = mat(TEXTURE.wood, r.pick(WOODS), darker(r.pick(WOODS), 0.6), 1.3);
  const t = 0.04;
  if (round && r.chance(0.5)) {
    const rad = Math.min(w, d) / 2 + 0.1;
    out.push({
      type: "cylinder",
      base: [p[0], h - t, p[2]],
      radius: rad,
      radiusTop: rad,
      height: t,
      segments: segs * 2,
      classId: CLASS.table,
      material: m,
    });
    out.push({
      type: "cylinder",
      base: [p[0], 0, p[2]],
      radius: 0.05,
      radiusTop: 0.04,
      height: h - t,
      segments: segs,
      classId: CLASS.table,
      material: m,
    });
    out.push({
      type: "cylinder",
      base: [p[0], 0, p[2]],
      radius: 0.25,
      radiusTop: 0.2,
      height: 0.03,
      segments: segs,
      classId: CLASS.table,
      material: m,
    });
    clutterOn(r, out, [p[0], h, p[2]], yaw, rad, rad, mat, segs);
    return;
  }
  out.push({ type: "box", center: local(p, yaw, 0, h - t / 2, 0), size: [w, t, d], yaw, classId: CLASS.table, material: m });
  const lx = w / 2 - 0.05;
  const lz = d / 2 - 0.05;
  for (const [sx, sz] of [
    [-1, -1],
    [1, -1],
    [-1, 1],
    [1, 1],
  ])
    out.push({
      type: "box",
      center: local(p, yaw, sx * lx, (h - t) / 2, sz * lz),
      size: [0.05, h - t, 0.05],
      yaw,
      classId: CLASS.table,
      material: m,
    });
  clutterOn(r, out, local(p, yaw, 0, h, 0), yaw, w, d, mat, segs);
}

function chair(r: Rand, out: Primitive[], p: Vec3, yaw: number, mat: MatFn): void {
  const m = mat(TEXTURE.wood, r.pick(WOODS), darker(r.pick(WOODS), 0.6), 2);
  const s = 0.42;
  const sh = 0.45;
  const box = (dx: number, y: number, dz: number, sx: number, sy: number, sz: number, mm = m) =>
    out.push({ type: "box", center: local(p, yaw, dx, y, dz), size: [sx, sy, sz], yaw, classId: CLASS.chair, material: mm });
  box(0, sh, 0, s, 0.04, s, mat(TEXTURE.fabric, r.pick(FABRICS), r.pick(FABRICS), 2));
  for (const [sx, sz] of [
    [-1, -1],
    [1, -1],
    [-1, 1],
    [1, 1],
  ])
    box((sx * (s - 0.04)) / 2, sh / 2, (sz * (s - 0.04)) / 2, 0.035, sh, 0.035);
  box(0, sh + 0.25, -s / 2 + 0.02, s, 0.45, 0.03);
}

function lamp(r: Rand, out: Primitive[], p: Vec3, mat: MatFn, segs: number): void {
  const h = r.range(1.3, 1.7);
  const m = mat(TEXTURE.noise, [0.2, 0.2, 0.2], [0.5, 0.5, 0.5], 10);
  out.push({ type: "cylinder", base: p, radius: 0.16, radiusTop: 0.14, height: 0.03, segments: segs, classId: CLASS.lamp, material: m });
  out.push({ type: "cylinder", base: p, radius: 0.015, radiusTop: 0.015, height: h, segments: 8, classId: CLASS.lamp, material: m });
  out.push({
    type: "cylinder",
    base: [p[0], h - 0.1, p[2]],
    radius: 0.22,
    radiusTop: 0.13,
    height: 0.3,
    segments: segs,
    classId: CLASS.lamp,
    material: mat(TEXTURE.glow, r.tint([0.98, 0.9, 0.7], 0.05), [0.8, 0.7, 0.5], 8),
  });
}

function plant(r: Rand, out: Primitive[], p: Vec3, mat: MatFn, segs: number): void {
  const ph = r.range(0.25, 0.45);
  out.push({
    type: "cylinder",
    base: p,
    radius: 0.14,
    radiusTop: 0.19,
    height: ph,
    segments: segs,
    classId: CLASS.plant,
    material: mat(TEXTURE.tiles, r.pick(BRIGHT), r.tint([0.5, 0.3, 0.2]), 6),
  });
  const leaves = 2 + r.int(3);
  for (let i = 0; i < leaves; i++)
    out.push({
      type: "sphere",
      center: [p[0] + r.range(-0.12, 0.12), ph + 0.2 + i * r.range(0.15, 0.3), p[2] + r.range(-0.12, 0.12)],
      radius: r.range(0.16, 0.3),
      segments: segs,
      classId: CLASS.plant,
      material: mat(TEXTURE.noise, r.tint([0.2, 0.5, 0.15]), r.tint([0.05, 0.25, 0.05]), 12),
    });
}

/** A few small objects standing on a surface of size (w, d) at top-centre p. */
function clutterOn(r: Rand, out: Primitive[], p: Vec3, yaw: number, w: number, d: number, mat: MatFn, segs: number): void {
  const n = r.int(4);
  for (let i = 0; i < n; i++) {
    const dx = r.range(-0.35, 0.35) * w;
    const dz = r.range(-0.3, 0.3) * d;
    const q = local(p, yaw, dx, p[1], dz);
    const kind = r.int(3);
    const m = mat(r.pick([TEXTURE.poster, TEXTURE.noise, TEXTURE.tiles]), r.pick(BRIGHT), r.pick(BRIGHT), r.range(4, 10));
    if (kind === 0) {
      const s: Vec3 = [r.range(0.08, 0.3), r.range(0.05, 0.3), r.range(0.08, 0.25)];
      out.push({
        type: "box",
        center: [q[0], p[1] + s[1] / 2, q[2]],
        size: s,
        yaw: yaw + r.range(-0.5, 0.5),
        classId: CLASS.clutter,
        material: m,
      });
    } else if (kind === 1) {
      const rad = r.range(0.04, 0.1);
      out.push({
        type: "cylinder",
        base: [q[0], p[1], q[2]],
        radius: rad,
        radiusTop: rad * r.range(0.7, 1.1),
        height: r.range(0.1, 0.3),
        segments: segs,
        classId: CLASS.clutter,
        material: m,
      });
    } else {
      const rad = r.range(0.05, 0.12);
      out.push({ type: "sphere", center: [q[0], p[1] + rad, q[2]], radius: rad, segments: segs, classId: CLASS.clutter, material: m });
    }
  }
}

// ---- triangle mesh ---------------------------------------------------------------------------

/** Words per vertex: pos(3) normal(3) uv(2) color1(3) color2(3) f32, then kind, class, seed, 0 u32. */
export const VERTEX_WORDS = 18;
export const VERTEX_BYTES = VERTEX_WORDS * 4;

export interface SceneMesh {
  /** Interleaved vertices (V, 18 words), 3 per triangle (non-indexed). */
  data: ArrayBuffer;
  vertexCount: number;
  triangleCount: number;
}

class MeshBuilder {
  private f: Float32Array;
  private u: Uint32Array;
  n = 0;
  constructor(capacity = 1 << 14) {
    const buf = new ArrayBuffer(capacity * VERTEX_BYTES);
    this.f = new Float32Array(buf);
    this.u = new Uint32Array(buf);
  }
  private grow(): void {
    const buf = new ArrayBuffer(this.f.byteLength * 2);
    new Uint8Array(buf).set(new Uint8Array(this.f.buffer));
    this.f = new Float32Array(buf);
    this.u = new Uint32Array(buf);
  }
  vertex(p: Vec3, nrm: Vec3, uv: [number, number], prim: Base): void {
    if ((this.n + 1) * VERTEX_WORDS > this.f.length) this.grow();
    const o = this.n * VERTEX_WORDS;
    const m = prim.material;
    const s = m.scale;
    this.f.set([p[0], p[1], p[2], nrm[0], nrm[1], nrm[2], uv[0] * s, uv[1] * s, ...m.color1, ...m.color2], o);
    this.u[o + 14] = m.kind;
    this.u[o + 15] = prim.classId;
    this.u[o + 16] = m.seed >>> 0;
    this.u[o + 17] = 0;
    this.n++;
  }
  tri(a: [Vec3, Vec3, [number, number]], b: [Vec3, Vec3, [number, number]], c: [Vec3, Vec3, [number, number]], prim: Base): void {
    this.vertex(a[0], a[1], a[2], prim);
    this.vertex(b[0], b[1], b[2], prim);
    this.vertex(c[0], c[1], c[2], prim);
  }
  finish(): SceneMesh {
    return { data: (this.f.buffer as ArrayBuffer).slice(0, this.n * VERTEX_BYTES), vertexCount: this.n, triangleCount: this.n / 3 };
  }
}

const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const len = (a: Vec3): number => Math.hypot(a[0], a[1], a[2]);
const norm = (a: Vec3): Vec3 => scale3(a, 1 / len(a));
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

function quadTris(mb: MeshBuilder, o: Vec3, u: Vec3, v: Vec3, prim: Base, uv0: [number, number] = [0, 0]): void {
  const n = norm(cross(u, v));
  const lu = len(u);
  const lv = len(v);
  const p00: [Vec3, Vec3, [number, number]] = [o, n, [uv0[0], uv0[1]]];
  const p10: [Vec3, Vec3, [number, number]] = [add(o, u), n, [uv0[0] + lu, uv0[1]]];
  const p11: [Vec3, Vec3, [number, number]] = [add(add(o, u), v), n, [uv0[0] + lu, uv0[1] + lv]];
  const p01: [Vec3, Vec3, [number, number]] = [add(o, v), n, [uv0[0], uv0[1] + lv]];
  mb.tri(p00, p10, p11, prim);
  mb.tri(p00, p11, p01, prim);
}

function addPrimitive(mb: MeshBuilder, p: Primitive): void {
  if (p.type === "quad") {
    quadTris(mb, p.origin, p.u, p.v, p);
  } else if (p.type === "box") {
    const c = Math.cos(p.yaw);
    const s = Math.sin(p.yaw);
    const ax: Vec3 = [c * p.size[0], 0, -s * p.size[0]];
    const ay: Vec3 = [0, p.size[1], 0];
    const az: Vec3 = [s * p.size[2], 0, c * p.size[2]];
    const o = add(add(add(p.center, scale3(ax, -0.5)), scale3(ay, -0.5)), scale3(az, -0.5)); // min corner
    // per-face uv offsets from the box centre so adjacent boxes with one material do not repeat
    const off: [number, number] = [p.center[0] + p.center[2], p.center[1]];
    quadTris(mb, o, az, ay, p, off); // -x
    quadTris(mb, add(o, ax), ay, az, p, off); // +x
    quadTris(mb, o, ax, az, p, off); // -y
    quadTris(mb, add(o, ay), az, ax, p, off); // +y
    quadTris(mb, o, ay, ax, p, off); // -z
    quadTris(mb, add(o, az), ax, ay, p, off); // +z
  } else if (p.type === "cylinder") {
    const n = p.segments;
    const slope = (p.radius - p.radiusTop) / p.height;
    const ring = (i: number, y: number, rad: number): Vec3 => {
      const a = (2 * Math.PI * i) / n;
      return [p.base[0] + rad * Math.cos(a), p.base[1] + y, p.base[2] + rad * Math.sin(a)];
    };
    const side = (i: number): Vec3 => {
      const a = (2 * Math.PI * i) / n;
      return norm([Math.cos(a), slope, Math.sin(a)]);
    };
    const circ = 2 * Math.PI * p.radius;
    for (let i = 0; i < n; i++) {
      const u0 = (circ * i) / n;
      const u1 = (circ * (i + 1)) / n;
      const a0: [Vec3, Vec3, [number, number]] = [ring(i, 0, p.radius), side(i), [u0, 0]];
      const a1: [Vec3, Vec3, [number, number]] = [ring(i + 1, 0, p.radius), side(i + 1), [u1, 0]];
      const b0: [Vec3, Vec3, [number, number]] = [ring(i, p.height, p.radiusTop), side(i), [u0, p.height]];
      const b1: [Vec3, Vec3, [number, number]] = [ring(i + 1, p.height, p.radiusTop), side(i + 1), [u1, p.height]];
      mb.tri(a0, a1, b1, p);
      mb.tri(a0, b1, b0, p);
      // caps
      const top: Vec3 = [p.base[0], p.base[1] + p.height, p.base[2]];
      const up: Vec3 = [0, 1, 0];
      const uvOf = (q: Vec3): [number, number] => [q[0] - p.base[0], q[2] - p.base[2]];
      mb.tri([top, up, [0, 0]], [b0[0], up, uvOf(b0[0])], [b1[0], up, uvOf(b1[0])], p);
      const down: Vec3 = [0, -1, 0];
      mb.tri([p.base, down, [0, 0]], [a1[0], down, uvOf(a1[0])], [a0[0], down, uvOf(a0[0])], p);
    }
  } else {
    const nl = p.segments;
    const nh = Math.max(4, p.segments >> 1);
    const pt = (i: number, j: number): [Vec3, Vec3, [number, number]] => {
      const lon = (2 * Math.PI * i) / nl;
      const lat = Math.PI * (j / nh - 0.5);
      const d: Vec3 = [Math.cos(lat) * Math.cos(lon), Math.sin(lat), Math.cos(lat) * Math.sin(lon)];
      return [add(p.center, scale3(d, p.radius)), d, [lon * p.radius, (lat + Math.PI / 2) * p.radius]];
    };
    for (let j = 0; j < nh; j++)
      for (let i = 0; i < nl; i++) {
        const a = pt(i, j);
        const b = pt(i + 1, j);
        const c = pt(i + 1, j + 1);
        const d = pt(i, j + 1);
        if (j > 0) mb.tri(a, b, c, p);
        if (j < nh - 1) mb.tri(a, c, d, p);
      }
  }
}

/** Triangulate a scene (or any list of primitives) into the renderer's vertex format. */
export function buildMesh(prims: readonly Primitive[]): SceneMesh {
  const mb = new MeshBuilder();
  for (const p of prims) addPrimitive(mb, p);
  return mb.finish();
}
