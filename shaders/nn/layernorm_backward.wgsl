// LayerNorm backward (forward: layernorm_forward.wgsl). With xhat = (x - mean) * rstd and
// g = dy * w:   dx (+)= rstd * (g - mean_c(g) - xhat * mean_c(g * xhat))
//               dw += sum_rows dy * xhat,   db += sum_rows dy
// x, dy: (N, C); w: (C) in `wb` at w_off; dx: (N, C); dw, db: (C) in `dwb` at dw_off / db_off.
// Entry `dx`: one invocation per row. Entry `dparams`: one invocation per column c (serial,
// deterministic sum over rows). flags bit 0: accumulate into dx (residual branches).
// Entries `dx4` / `dparams4`: the same on vec4s (dparams4: one invocation per four columns) when C
// and every offset are multiples of 4 (src/nn/layers.ts picks them; see layernorm_forward.wgsl).

struct Params { N: u32, C: u32, x_off: u32, dy_off: u32, w_off: u32, dx_off: u32, dw_off: u32, db_off: u32, flags: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> wb: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dwb: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

@compute @workgroup_size(64)
fn dx_main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.N) { return; }
  let xo = p.x_off + row * p.C;
  let go = p.dy_off + row * p.C;
  let mu = mean[row];
  let r = rstd[row];
  var sg = 0.0;
  var sgx = 0.0;
  for (var c = 0u; c < p.C; c++) {
    let g = dy[go + c] * wb[p.w_off + c];
    sg += g;
    sgx += g * (x[xo + c] - mu) * r;
  }
  let mg = sg / f32(p.C);
  let mgx = sgx / f32(p.C);
  let acc = (p.flags & 1u) != 0u;
  let dxo = p.dx_off + row * p.C;
  for (var c = 0u; c < p.C; c++) {
    let xhat = (x[xo + c] - mu) * r;
    var v = r * (dy[go + c] * wb[p.w_off + c] - mg - xhat * mgx);
    if (acc) { v += dx[dxo + c]; }
    dx[dxo + c] = v;
  }
}

@compute @workgroup_size(64)
fn dparams(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var sw = 0.0;
  var sb = 0.0;
  for (var row = 0u; row < p.N; row++) {
    let g = dy[p.dy_off + row * p.C + c];
    sw += g * (x[p.x_off + row * p.C + c] - mean[row]) * rstd[row];
    sb += g;
  }
  dwb[p.dw_off + c] += sw;
  dwb[p.db_off + c] += sb;
}

@group(0) @binding(0) var<storage, read> x4: array<vec4f>;
@group(0) @binding(1) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(2) var<storage, read> wb4: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> dx4: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> dwb4: array<vec4f>;

@compute @workgroup_size(64)
fn dx4_main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.N) { return; }
  let C4 = p.C / 4u;
  let xo = p.x_off / 4u + row * C4;
  let go = p.dy_off / 4u + row * C4;
  let wo = p.w_off / 4u;
  let mu = mean[row];
  let r = rstd[row];
  var sg = vec4f(0.0);
  var sgx = vec4f(0.0);
  for (var c = 0u; c < C4; c++) {
    let g = dy4[go + c] * wb4[wo + c];
    sg += g;
    sgx += g * (x4[xo + c] - mu) * r;
  }
  let mg = ((sg.x + sg.y) + (sg.z + sg.w)) / f32(p.C);
  let mgx = ((sgx.x + sgx.y) + (sgx.z + sgx.w)) / f32(p.C);
  let acc = (p.flags & 1u) != 0u;
  let dxo = p.dx_off / 4u + row * C4;
  for (var c = 0u; c < C4; c++) {
    let xhat = (x4[xo + c] - mu) * r;
    var v = r * (dy4[go + c] * wb4[wo + c] - mg - xhat * mgx);
    if (acc) { v += dx4[dxo + c]; }
    dx4[dxo + c] = v;
  }
}

@compute @workgroup_size(64)
fn dparams4(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let C4 = p.C / 4u;
  if (c >= C4) { return; }
  var sw = vec4f(0.0);
  var sb = vec4f(0.0);
  for (var row = 0u; row < p.N; row++) {
    let g = dy4[p.dy_off / 4u + row * C4 + c];
    sw += g * (x4[p.x_off / 4u + row * C4 + c] - mean[row]) * rstd[row];
    sb += g;
  }
  dwb4[p.dw_off / 4u + c] += sw;
  dwb4[p.db_off / 4u + c] += sb;
}
