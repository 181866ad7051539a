// transpose_view.wgsl in 4 x 4 blocks: dst (C, R) = src (R, C)^T for views whose rows, columns and
// offsets are multiples of 4 (every Linear weight of the presets; src/nn/matmul.ts picks it).
// One invocation reads four vec4 rows of a block and writes four vec4 columns: llvmpipe expands a
// storage access lane by lane once per vec4, so this takes 8 expansions per 16 elements where the
// scalar kernel takes 32. gid.x = column block, gid.y = row block.

struct Params { rows: u32, cols: u32, src_off: u32, dst_off: u32 }

@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(16, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c4 = gid.x;
  let r4 = gid.y;
  if (4u * c4 >= p.cols || 4u * r4 >= p.rows) { return; }
  let s = p.src_off / 4u + 4u * r4 * (p.cols / 4u) + c4;
  let sr = p.cols / 4u;
  let x0 = src[s];
  let x1 = src[s + sr];
  let x2 = src[s + 2u * sr];
  let x3 = src[s + 3u * sr];
  let d = p.dst_off / 4u + 4u * c4 * (p.rows / 4u) + r4;
  let dr = p.rows / 4u;
  dst[d] = vec4f(x0.x, x1.x, x2.x, x3.x);
  dst[d + dr] = vec4f(x0.y, x1.y, x2.y, x3.y);
  dst[d + 2u * dr] = vec4f(x0.z, x1.z, x2.z, x3.z);
  dst[d + 3u * dr] = vec4f(x0.w, x1.w, x2.w, x3.w);
}
