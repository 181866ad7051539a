// MAE's pixel loss with optional per-patch target normalisation (norm_pix_loss):
//   t = norm ? (target - mean) / sqrt(var_unbiased + 1e-6) : target        per patch (row of F)
//   lp[r] = mean_f (pred[r, f] - t[r, f])^2,   loss = sum_r lp[r] * mask[r] / sum_r mask[r]
// pred, target: (R, F) with R = B * L patches, F = P * P * 3; mask: (R) (1 = masked = scored).
// Entry `rows`: one invocation per patch, writes lp (R) and the normalised target into tn (R, F).
// Entry `total`: one workgroup of 64 sums lp * mask and mask (fixed order: deterministic), writes
// loss_out[0] = loss, loss_out[1] = sum(mask).
// Bindings: pred, target, mask, tn, lp, loss_out, dpred, params (each entry binds what it uses:
// rows 0,1,3,4; total 2,4,5; backward 0,2,3,5,6).
// Entry `backward`: dpred[r, f] = 2 (pred - t) / F * mask[r] / sum(mask) * dloss (dloss from params).

struct Params { R: u32, F: u32, norm: u32, dloss: f32 }

@group(0) @binding(0) var<storage, read> pred: array<f32>;
@group(0) @binding(1) var<storage, read> target_: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> tn: array<f32>;
@group(0) @binding(4) var<storage, read_write> lp: array<f32>;
@group(0) @binding(5) var<storage, read_write> loss_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> dpred: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

@compute @workgroup_size(64)
fn rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= p.R) { return; }
  let o = r * p.F;
  var mu = 0.0;
  var rs = 1.0;
  if (p.norm != 0u) {
    var s = 0.0;
    for (var f = 0u; f < p.F; f++) { s += target_[o + f]; }
    mu = s / f32(p.F);
    var v = 0.0;
    for (var f = 0u; f < p.F; f++) { let d = target_[o + f] - mu; v += d * d; }
    rs = 1.0 / sqrt(v / f32(max(p.F, 2u) - 1u) + 1e-6);
  }
  var acc = 0.0;
  for (var f = 0u; f < p.F; f++) {
    let t = (target_[o + f] - mu) * rs;
    tn[o + f] = t;
    let d = pred[o + f] - t;
    acc += d * d;
  }
  lp[r] = acc / f32(p.F);
}

var<workgroup> part: array<vec2f, 64>;

@compute @workgroup_size(64)
fn total(@builtin(local_invocation_id) lid: vec3u) {
  var s = vec2f(0.0);
  for (var r = lid.x; r < p.R; r += 64u) { s += vec2f(lp[r] * mask[r], mask[r]); }
  part[lid.x] = s;
  workgroupBarrier();
  if (lid.x == 0u) {
    var t = vec2f(0.0);
    for (var i = 0u; i < 64u; i++) { t += part[i]; }
    loss_out[0] = t.x / max(t.y, 1e-12);
    loss_out[1] = t.y;
  }
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.R * p.F) { return; }
  let r = i / p.F;
  let w = mask[r] / max(loss_out[1], 1e-12) * p.dloss * 2.0 / f32(p.F);
  dpred[i] = w * (pred[i] - tn[i]);
}
