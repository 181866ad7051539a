// Render pipeline for the synthetic scenes (src/synth/render.ts): one vertex shader, two fragment
// entry points used by two passes over the same triangles.
//
//   fs_color: RGB, procedural albedo (fbm noise, bricks, wood, tiles, posters, fabric, wallpaper,
//             glow) or a user image (kind 8) times Lambert shading with up to 3 point lights. Target rgba8unorm, MSAA 4x,
//             resolved by the render pass.
//   fs_truth: ground truth without MSAA: location 0 = metric depth (camera-space z in metres,
//             r32float), location 1 = class id (r8uint, 0 = nothing drawn).
//
// Shapes: vertex buffer (V, 18 words) non-indexed triangles: pos f32x3, normal f32x3, uv f32x2
// (metres x material scale), color1 f32x3, color2 f32x3, mat u32x4 (texture kind, class id, seed,
// 0). Uniform `frame` (one 256-byte slot per frame, dynamic offset): clip_from_world and
// cam_from_world as column-major 4x4 (camera = OpenCV convention, x right, y down, z forward),
// camera position, three lights (xyz position, w intensity), ambient. Invocations: one vertex per
// vertex, one fragment per pixel (per sample coverage only for MSAA).

struct FrameU {
  clip_from_world: mat4x4f,
  cam_from_world: mat4x4f,
  cam_pos: vec4f,
  lights: array<vec4f, 3>,
  ambient: vec4f, // x: ambient term, y: exposure
};
@group(0) @binding(0) var<uniform> frame: FrameU;
// Texture kind 8 samples layer (seed % layers) of this array, repeating every 1/scale metres
// (user images, `mimic synth --textures DIR`; a 1x1 white layer when there are none).
@group(0) @binding(1) var images: texture_2d_array<f32>;
@group(0) @binding(2) var image_sampler: sampler;

struct VsIn {
  @location(0) pos: vec3f,
  @location(1) normal: vec3f,
  @location(2) uv: vec2f,
  @location(3) color1: vec3f,
  @location(4) color2: vec3f,
  @location(5) mat: vec4u,
};

struct VsOut {
  @builtin(position) clip: vec4f,
  @location(0) world: vec3f,
  @location(1) normal: vec3f,
  @location(2) uv: vec2f,
  @location(3) color1: vec3f,
  @location(4) color2: vec3f,
  @location(5) @interpolate(flat) mat: vec4u,
  @location(6) zcam: f32,
};

@vertex
fn vs_main(v: VsIn) -> VsOut {
  var o: VsOut;
  let p = vec4f(v.pos, 1.0);
  o.clip = frame.clip_from_world * p;
  o.world = v.pos;
  o.normal = v.normal;
  o.uv = v.uv;
  o.color1 = v.color1;
  o.color2 = v.color2;
  o.mat = v.mat;
  o.zcam = (frame.cam_from_world * p).z;
  return o;
}

// ---- hashing and noise (integer hashes: identical on every adapter) ---------------------------

fn hash_u32(x: u32) -> u32 {
  var h = x * 747796405u + 2891336453u;
  h = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u;
  return (h >> 22u) ^ h;
}

fn hash_cell(c: vec2i, seed: u32) -> u32 {
  return hash_u32(bitcast<u32>(c.x) ^ hash_u32(bitcast<u32>(c.y) ^ hash_u32(seed)));
}

fn hash01(c: vec2i, seed: u32) -> f32 {
  return f32(hash_cell(c, seed) >> 8u) * (1.0 / 16777216.0);
}

fn value_noise(p: vec2f, seed: u32) -> f32 {
  let i = vec2i(floor(p));
  let f = fract(p);
  let u = f * f * (3.0 - 2.0 * f);
  let a = hash01(i, seed);
  let b = hash01(i + vec2i(1, 0), seed);
  let c = hash01(i + vec2i(0, 1), seed);
  let d = hash01(i + vec2i(1, 1), seed);
  return mix(mix(a, b, u.x), mix(c, d, u.x), u.y);
}

fn fbm(p: vec2f, seed: u32) -> f32 {
  var s = 0.0;
  var amp = 0.5;
  var q = p;
  for (var o = 0u; o < 5u; o++) {
    s += amp * value_noise(q, seed + o * 1013u);
    q = q * 2.03 + vec2f(17.1, 9.7);
    amp *= 0.5;
  }
  return s / 0.96875;
}

fn hue(h: f32) -> vec3f {
  return clamp(abs(fract(vec3f(h) + vec3f(0.0, 2.0 / 3.0, 1.0 / 3.0)) * 6.0 - 3.0) - 1.0, vec3f(0.0), vec3f(1.0));
}

// ---- materials --------------------------------------------------------------------------------

fn albedo(kind: u32, uv: vec2f, c1: vec3f, c2: vec3f, seed: u32) -> vec3f {
  switch kind {
    case 1u: { // bricks 0.24 x 0.08 m, running bond, 1 cm mortar
      let bs = vec2f(0.24, 0.08);
      let row = floor(uv.y / bs.y);
      let x = uv.x / bs.x + 0.5 * (row % 2.0);
      let cell = vec2i(i32(floor(x)), i32(row));
      let f = vec2f(fract(x) * bs.x, fract(uv.y / bs.y) * bs.y);
      let mortar = f.x < 0.01 || f.y < 0.01;
      let t = hash01(cell, seed);
      let n = fbm(uv * 30.0, seed + 7u);
      if (mortar) { return c2 * (0.8 + 0.3 * n); }
      return mix(c1, c1 * 0.6 + vec3f(0.1), t * 0.7) * (0.75 + 0.45 * n);
    }
    case 2u: { // wood planks 0.14 m wide with warped grain
      let plank = floor(uv.y / 0.14);
      let pc = vec2i(i32(plank), 0);
      let shift = hash01(pc, seed) * 7.0;
      let along = uv.x + shift;
      let seg = floor(along / 1.2);
      let across = fract(uv.y / 0.14);
      let warp = fbm(vec2f(along * 1.5, across * 3.0 + plank * 5.0), seed + 3u);
      let rings = fract((across * 2.0 + warp * 4.0 + hash01(vec2i(i32(plank), i32(seg)), seed) * 3.0) * 3.0);
      let grain = smoothstep(0.0, 0.6, rings) * (1.0 - smoothstep(0.6, 1.0, rings));
      let fine = value_noise(vec2f(along * 40.0, across * 2.0), seed + 11u);
      var col = mix(c2, c1, 0.35 + 0.5 * grain + 0.15 * fine);
      col *= 0.85 + 0.3 * hash01(vec2i(i32(plank), i32(seg) + 101), seed);
      let gap = across < 0.03 || fract(along / 1.2) < 0.006;
      if (gap) { col *= 0.45; }
      return col;
    }
    case 3u: { // tiles 0.3 m with 6 mm grout
      let ts = 0.3;
      let cell = vec2i(floor(uv / ts));
      let f = fract(uv / ts) * ts;
      let grout = f.x < 0.006 || f.y < 0.006;
      let t = hash01(cell, seed);
      let n = fbm(uv * 12.0, seed + 5u);
      if (grout) { return c2 * 0.7; }
      return mix(c1, c2, 0.25 * t + 0.35 * n) * (0.9 + 0.2 * value_noise(uv * 80.0, seed));
    }
    case 4u: { // poster: random discs and rectangles on 0.12 m cells over a noisy background
      var col = mix(c1, c1 * 0.7, fbm(uv * 8.0, seed));
      let cs = 0.12;
      let base = vec2i(floor(uv / cs));
      for (var dy = -1; dy <= 1; dy++) {
        for (var dx = -1; dx <= 1; dx++) {
          let cell = base + vec2i(dx, dy);
          let h = hash_cell(cell, seed);
          if ((h & 3u) == 0u) { continue; }
          let centre = (vec2f(cell) + vec2f(hash01(cell, seed + 1u), hash01(cell, seed + 2u))) * cs;
          let size = (0.3 + 0.9 * hash01(cell, seed + 3u)) * cs * 0.6;
          let d = uv - centre;
          var inside = false;
          if ((h & 4u) != 0u) {
            inside = length(d) < size;
          } else {
            inside = abs(d.x) < size && abs(d.y) < size * (0.4 + hash01(cell, seed + 4u));
          }
          if (inside) {
            let k = hash01(cell, seed + 5u);
            col = select(hue(k) * (0.5 + 0.5 * hash01(cell, seed + 6u)), c2, k < 0.25);
          }
        }
      }
      return col;
    }
    case 5u: { // fabric: weave plus fbm
      let w = sin(uv.x * 300.0) * sin(uv.y * 300.0);
      let n = fbm(uv * 6.0, seed);
      return mix(c1, c2, 0.6 * n) * (0.88 + 0.12 * w) * (0.85 + 0.3 * value_noise(uv * 50.0, seed + 9u));
    }
    case 6u: { // wallpaper: stripes, dots and fbm
      let stripe = step(0.5, fract(uv.x / 0.2));
      let dot_c = vec2f(fract(uv.x / 0.1), fract(uv.y / 0.1)) - vec2f(0.5);
      let dot_v = 1.0 - smoothstep(0.12, 0.18, length(dot_c));
      let n = fbm(uv * 4.0, seed);
      var col = mix(c1, c2, 0.5 * stripe + 0.3 * n);
      col = mix(col, c2 * 0.6, dot_v * (1.0 - stripe));
      return col * (0.9 + 0.2 * value_noise(uv * 60.0, seed + 1u));
    }
    case 7u: { // glow (lamp shade)
      return mix(c1, c2, 0.3 * fbm(uv, seed));
    }
    default: { // fbm noise
      let n = fbm(uv, seed);
      let detail = value_noise(uv * 13.0, seed + 17u);
      return mix(c1, c2, clamp(n * 1.2 - 0.1, 0.0, 1.0)) * (0.85 + 0.3 * detail);
    }
  }
}

@fragment
fn fs_color(i: VsOut) -> @location(0) vec4f {
  let kind = i.mat.x;
  var base: vec3f;
  if (kind == 8u) {
    let layer = i.mat.z % textureNumLayers(images);
    // flip v so images stand upright on walls (uv.y grows upwards)
    base = textureSampleLevel(images, image_sampler, vec2f(i.uv.x, -i.uv.y), layer, 0.0).rgb;
  } else {
    base = albedo(kind, i.uv, i.color1, i.color2, i.mat.z);
  }
  if (kind == 7u) {
    return vec4f(clamp(base * frame.ambient.y, vec3f(0.0), vec3f(1.0)), 1.0);
  }
  var n = normalize(i.normal);
  let to_cam = frame.cam_pos.xyz - i.world;
  if (dot(n, to_cam) < 0.0) { n = -n; } // two-sided surfaces
  var shade = frame.ambient.x;
  for (var l = 0u; l < 3u; l++) {
    let light = frame.lights[l];
    let d = light.xyz - i.world;
    let dist2 = dot(d, d);
    shade += light.w * max(dot(n, d * inverseSqrt(dist2)), 0.0) * 2.0 / (1.0 + 0.3 * dist2);
  }
  return vec4f(clamp(base * shade * frame.ambient.y, vec3f(0.0), vec3f(1.0)), 1.0);
}

struct TruthOut {
  @location(0) depth: f32,
  @location(1) label: u32,
};

@fragment
fn fs_truth(i: VsOut) -> TruthOut {
  var o: TruthOut;
  o.depth = i.zcam;
  o.label = i.mat.y;
  return o;
}
