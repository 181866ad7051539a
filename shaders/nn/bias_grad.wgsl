// Bias gradient: db[n] (+)= sum_m dy[m, n]. dy: (M, N) at element offset dy_off; db: (N) at db_off.
// One invocation per column n (a serial sum over rows: deterministic, coalesced across n).
// Entry `main4`: one invocation per four columns (vec4) when N and the offsets are multiples of 4
// (src/nn/matmul.ts picks it; lavapipe bounds-checks every storage access lane by lane, a vec4
// access about as cheaply as an f32 one). Same sums, same order, per column.

struct Params { M: u32, N: u32, dy_off: u32, db_off: u32, accumulate: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= p.N) { return; }
  var s = 0.0;
  for (var m = 0u; m < p.M; m++) { s += dy[p.dy_off + m * p.N + n]; }
  if (p.accumulate != 0u) { s += db[p.db_off + n]; }
  db[p.db_off + n] = s;
}

@group(0) @binding(0) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> db4: array<vec4f>;

@compute @workgroup_size(64)
fn main4(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  let N4 = p.N / 4u;
  if (n >= N4) { return; }
  var s = vec4f(0.0);
  for (var m = 0u; m < p.M; m++) { s += dy4[p.dy_off / 4u + m * N4 + n]; }
  if (p.accumulate != 0u) { s += db4[p.db_off / 4u + n]; }
  db4[p.db_off / 4u + n] = s;
}
