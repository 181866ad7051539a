// Transpose of a matrix view: dst (C, R) = src (R, C)^T, src at element offset src_off, dst at
// dst_off (views into flat parameter / scratch buffers). One invocation per element:
// gid.x = column, gid.y = row. Used by Linear forward to form W^T (in, out) from W (out, in).

struct Params { rows: u32, cols: u32, src_off: u32, dst_off: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= p.cols || gid.y >= p.rows) { return; }
  dst[p.dst_off + gid.x * p.rows + gid.y] = src[p.src_off + gid.y * p.cols + gid.x];
}
