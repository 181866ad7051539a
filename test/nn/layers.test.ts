// GPU kernels vs their CPU twins (src/ref/nn/layers.ts) on odd shapes, and float64 finite-
// difference gradient checks of every twin: layernorm_forward / layernorm_backward, gelu,
// elementwise, softmax, head_transpose + attention, patchify, gather_rows, masked_mse, reduce.
import { describe, expect, it } from "vitest";
import { upload } from "../../src/gpu/buffers.js";
import { attentionBackward, attentionForward, attnBuffers, attnLd, qkvViews, tokens } from "../../src/nn/attention.js";
import { view } from "../../src/nn/core.js";
import * as L from "../../src/nn/layers.js";
import * as ref from "../../src/ref/nn/layers.js";
import { expectClose, testGpu } from "../helpers.js";
import { dotLoss, f32, gpuTensor, gradCheck, rand64, run, TOL } from "./util.js";

describe("layernorm (layernorm_forward.wgsl, layernorm_backward.wgsl)", () => {
  it("twin gradient check", () => {
    const N = 3;
    const C = 5;
    const x = rand64(N * C, 1);
    const w = rand64(C, 2);
    const b = rand64(C, 3);
    const g = rand64(N * C, 4);
    const loss = () => dotLoss(ref.layernormForward(x, w, b, N, C).y, g);
    const { mean, rstd } = ref.layernormForward(x, w, b, N, C);
    const dw = new Float64Array(C);
    const db = new Float64Array(C);
    const dx = ref.layernormBackward(x, g, w, mean, rstd, dw, db, N, C);
    gradCheck("layernorm dx", x, dx, loss);
    gradCheck("layernorm dw", w, dw, loss);
    gradCheck("layernorm db", b, db, loss);
  });

  it("GPU matches twin, N=37 C=19, params as views, dx accumulate", async () => {
    const gpu = await testGpu();
    const N = 37;
    const C = 19;
    const x = f32(rand64(N * C, 5, -2, 3));
    const w = f32(rand64(C, 6));
    const b = f32(rand64(C, 7));
    const g = f32(rand64(N * C, 8));
    const dx0 = f32(rand64(N * C, 9));
    const P = gpuTensor(gpu, "params", [2 + 2 * C], [0, 0, ...w, ...b]);
    const G = gpuTensor(gpu, "grads", [1 + 2 * C]);
    const X = gpuTensor(gpu, "x", [N, C], x);
    const Y = gpuTensor(gpu, "y", [N, C]);
    const M = gpuTensor(gpu, "mean", [N]);
    const R = gpuTensor(gpu, "rstd", [N]);
    const DY = gpuTensor(gpu, "dy", [N, C], g);
    const DX = gpuTensor(gpu, "dx", [N, C], dx0);
    const wv = view(P, 2, [C], "w");
    const bv = view(P, 2 + C, [C], "b");
    const calls = [
      L.layernormForward(gpu, { x: X, w: wv, b: bv, y: Y, mean: M, rstd: R, N, C }),
      ...L.layernormBackward(gpu, {
        x: X,
        dy: DY,
        w: wv,
        mean: M,
        rstd: R,
        dx: DX,
        dw: view(G, 1, [C]),
        db: view(G, 1 + C, [C]),
        N,
        C,
        accumulate: true,
      }),
    ];
    const [y, mean, rstd, dx, grads] = await run(gpu, calls, Y, M, R, DX, G);
    const want = ref.layernormForward(x, w, b, N, C);
    const dw = new Float64Array(C);
    const db = new Float64Array(C);
    const wantDx = ref.layernormBackward(x, g, w, want.mean, want.rstd, dw, db, N, C, dx0);
    expectClose(y, want.y, TOL.f32.reduction, "layernorm y");
    expectClose(mean, want.mean, TOL.f32.reduction, "layernorm mean");
    expectClose(rstd, want.rstd, TOL.f32.reduction, "layernorm rstd");
    expectClose(dx, wantDx, TOL.f32.reduction, "layernorm dx");
    expectClose(grads.subarray(1, 1 + C), dw, TOL.f32.reduction * 10, "layernorm dw");
    expectClose(grads.subarray(1 + C), db, TOL.f32.reduction * 10, "layernorm db");
  });
});

describe("gelu.wgsl (exact erf GELU)", () => {
  it("float64 erf twin and the WGSL approximation are accurate", () => {
    // Known values of erf.
    expect(Math.abs(ref.erf(0.5) - 0.5204998778130465)).toBeLessThan(1e-15);
    expect(Math.abs(ref.erf(2) - 0.9953222650189527)).toBeLessThan(1e-15);
    expect(Math.abs(ref.erf(3.5) - 0.9999992569016276)).toBeLessThan(1e-14);
    let worst = 0;
    for (let x = -8; x <= 8; x += 0.001) worst = Math.max(worst, Math.abs(ref.erfApprox(x) - ref.erf(x)));
    expect(worst, "max |erf_f32 - erf| on [-8, 8]").toBeLessThan(TOL.f32.erf);
  });

  it("twin gradient check", () => {
    const x = rand64(20, 10, -4, 4);
    const g = rand64(20, 11);
    gradCheck("gelu dx", x, ref.geluBackward(x, g), () => dotLoss(ref.geluForward(x), g));
  });

  it("GPU forward/backward match twin (n=1001)", async () => {
    const gpu = await testGpu();
    const n = 1001;
    const x = f32(rand64(n, 12, -6, 6));
    const g = f32(rand64(n, 13));
    const X = gpuTensor(gpu, "x", [n], x);
    const Y = gpuTensor(gpu, "y", [n]);
    const DY = gpuTensor(gpu, "dy", [n], g);
    const DX = gpuTensor(gpu, "dx", [n]);
    const [y, dx] = await run(gpu, [L.geluForward(gpu, X, Y, n), L.geluBackward(gpu, X, DY, DX, n)], Y, DX);
    expectClose(y, ref.geluForward(x), TOL.f32.elementwise, "gelu y");
    expectClose(dx, ref.geluBackward(x, g), TOL.f32.elementwise, "gelu dx");
  });
});

describe("elementwise.wgsl (residual add, axpy, scale, fill)", () => {
  it("GPU matches twin", async () => {
    const gpu = await testGpu();
    const n = 77;
    const a = f32(rand64(n, 14));
    const b = f32(rand64(n, 15));
    const A = gpuTensor(gpu, "a", [n], a);
    const B = gpuTensor(gpu, "b", [n], b);
    const O = gpuTensor(gpu, "o", [n]);
    const Acc = gpuTensor(gpu, "acc", [n], b);
    const S = gpuTensor(gpu, "s", [n]);
    const F = gpuTensor(gpu, "f", [n]);
    const [o, acc, s, f] = await run(
      gpu,
      [L.addCall(gpu, A, B, O, n), L.axpyCall(gpu, A, Acc, n, 0.5), L.scaleCall(gpu, A, S, n, -2), L.fillCall(gpu, F, n, 3)],
      O,
      Acc,
      S,
      F,
    );
    expectClose(o, ref.add(a, b), TOL.f32.elementwise, "add");
    expectClose(acc, ref.axpy(a, Float64Array.from(b), 0.5), TOL.f32.elementwise, "axpy");
    expectClose(
      s,
      Float64Array.from(a, (v) => -2 * v),
      TOL.f32.elementwise,
      "scale",
    );
    expectClose(f, new Float64Array(n).fill(3), TOL.exact, "fill");
  });
});

describe("softmax.wgsl", () => {
  it("twin gradient check", () => {
    const S = rand64(12, 16, -3, 3);
    const g = rand64(12, 17);
    const P = ref.softmaxForward(S, 3, 4, 0.7);
    gradCheck("softmax dS", S, ref.softmaxBackward(P, g, 3, 4, 0.7), () => dotLoss(ref.softmaxForward(S, 3, 4, 0.7), g));
  });

  it("GPU matches twin (rows=23, n=13)", async () => {
    const gpu = await testGpu();
    const rows = 23;
    const n = 13;
    const s = f32(rand64(rows * n, 18, -5, 5));
    const g = f32(rand64(rows * n, 19));
    const S = gpuTensor(gpu, "S", [rows, n], s);
    const P = gpuTensor(gpu, "P", [rows, n]);
    const DP = gpuTensor(gpu, "dP", [rows, n], g);
    const DS = gpuTensor(gpu, "dS", [rows, n]);
    const [p, ds] = await run(gpu, [L.softmaxForward(gpu, S, P, rows, n, 0.3), L.softmaxBackward(gpu, P, DP, DS, rows, n, 0.3)], P, DS);
    const wantP = ref.softmaxForward(s, rows, n, 0.3);
    expectClose(p, wantP, TOL.f32.reduction, "softmax P");
    expectClose(ds, ref.softmaxBackward(wantP, g, rows, n, 0.3), TOL.f32.reduction, "softmax dS");
  });

  it("padded rows (softmax4.wgsl) match the twin; NaN padding stays out, padding is written as 0", async () => {
    const gpu = await testGpu();
    for (const [rows, n] of [
      [23, 13],
      [9, 16],
      [5, 1],
    ]) {
      const ld = Math.ceil(n / 4) * 4 + (n === 16 ? 4 : 0);
      const s = f32(rand64(rows * n, 20, -5, 5));
      const g = f32(rand64(rows * n, 21));
      const pad = (x: Float32Array) => {
        const out = new Float32Array(rows * ld).fill(Number.NaN);
        for (let r = 0; r < rows; r++) out.set(x.subarray(r * n, r * n + n), r * ld);
        return out;
      };
      const unpad = (x: Float32Array) => {
        const out = new Float32Array(rows * n);
        for (let r = 0; r < rows; r++) out.set(x.subarray(r * ld, r * ld + n), r * n);
        return out;
      };
      const S = gpuTensor(gpu, "S", [rows, ld], pad(s));
      const P = gpuTensor(gpu, "P", [rows, ld], new Float32Array(rows * ld).fill(Number.NaN));
      const DP = gpuTensor(gpu, "dP", [rows, ld], pad(g));
      const DS = gpuTensor(gpu, "dS", [rows, ld], new Float32Array(rows * ld).fill(Number.NaN));
      const [p, ds] = await run(
        gpu,
        [L.softmaxForward(gpu, S, P, rows, n, 0.3, ld), L.softmaxBackward(gpu, P, DP, DS, rows, n, 0.3, ld)],
        P,
        DS,
      );
      const wantP = ref.softmaxForward(s, rows, n, 0.3);
      expectClose(unpad(p), wantP, TOL.f32.reduction, `softmax4 P (rows ${rows}, n ${n}, ld ${ld})`);
      expectClose(unpad(ds), ref.softmaxBackward(wantP, g, rows, n, 0.3), TOL.f32.reduction, `softmax4 dS (rows ${rows}, n ${n})`);
      for (let r = 0; r < rows; r++)
        for (let j = n; j < ld; j++) {
          expect(p[r * ld + j]).toBe(0);
          expect(ds[r * ld + j]).toBe(0);
        }
    }
  });
});

describe("attention (head_transpose.wgsl + matmul + softmax)", () => {
  it("twin gradient check (cross-attention shapes)", () => {
    const s = { B: 2, H: 2, Lq: 3, Lk: 4, dh: 2 };
    const D = s.H * s.dh;
    const q = rand64(s.B * s.Lq * D, 20);
    const k = rand64(s.B * s.Lk * D, 21);
    const v = rand64(s.B * s.Lk * D, 22);
    const g = rand64(s.B * s.Lq * D, 23);
    const loss = () => dotLoss(ref.attentionForward(q, k, v, s).out, g);
    const { P } = ref.attentionForward(q, k, v, s);
    const { dq, dk, dv } = ref.attentionBackward(q, k, v, P, g, s);
    gradCheck("attention dq", q, dq, loss);
    gradCheck("attention dk", k, dk, loss);
    gradCheck("attention dv", v, dv, loss);
  });

  it("GPU self-attention from a qkv (B, L, 3D) matches twin (B=2 H=3 L=11 dh=4: head_transpose4.wgsl, the vec4 path)", async () => {
    const gpu = await testGpu();
    const s = { B: 2, H: 3, Lq: 11, Lk: 11, dh: 4 };
    const D = s.H * s.dh;
    const qkv = f32(rand64(s.B * s.Lq * 3 * D, 24, -2, 2));
    const g = f32(rand64(s.B * s.Lq * D, 25));
    const QKV = gpuTensor(gpu, "qkv", [s.B, s.Lq, 3 * D], qkv);
    const DQKV = gpuTensor(gpu, "dqkv", [s.B, s.Lq, 3 * D]);
    const O = gpuTensor(gpu, "o", [s.B, s.Lq, D]);
    const DO = gpuTensor(gpu, "do", [s.B, s.Lq, D], g);
    const bufs = attnBuffers(gpu, s, "attn");
    const v = qkvViews(QKV, s.B, s.Lq, D);
    const dv = qkvViews(DQKV, s.B, s.Lq, D);
    const calls = [
      ...attentionForward(gpu, s, v.q, v.k, v.v, tokens(O, s.Lq, D), bufs),
      ...attentionBackward(gpu, s, v.q, v.k, v.v, tokens(DO, s.Lq, D), dv.q, dv.k, dv.v, bufs),
    ];
    // dh and every view offset and stride are multiples of 4: K^T and V^T go through head_transpose4
    const shaders = new Set(calls.map((c) => c.pipe.label.split(":")[0]));
    expect(shaders.has("nn/head_transpose4.wgsl")).toBe(true);
    expect(shaders.has("nn/head_transpose.wgsl")).toBe(false);
    const [o, dqkv, P] = await run(gpu, calls, O, DQKV, bufs.P);
    const { q, k, v: vv } = ref.splitQkv(qkv, s.B, s.Lq, D);
    const want = ref.attentionForward(q, k, vv, s);
    const grads = ref.attentionBackward(q, k, vv, want.P, g, s);
    // P's rows are padded to attnLd(Lk) (vec4 rows); the padding columns hold 0.
    const ld = attnLd(s.Lk);
    const rowsP = s.B * s.H * s.Lq;
    expect(P.length).toBe(rowsP * ld);
    const Pu = new Float32Array(rowsP * s.Lk);
    for (let r = 0; r < rowsP; r++) {
      Pu.set(P.subarray(r * ld, r * ld + s.Lk), r * s.Lk);
      for (let j = s.Lk; j < ld; j++) expect(P[r * ld + j]).toBe(0);
    }
    expectClose(Pu, want.P, TOL.f32.attention, "attention P");
    expectClose(o, want.out, TOL.f32.attention, "attention out");
    expectClose(dqkv, ref.mergeQkv(grads.dq, grads.dk, grads.dv, s.B, s.Lq, D), TOL.f32.attention, "attention dqkv");
  });

  it("GPU cross-attention Lq=5 Lk=9 dh=3 (scalar matmul path) matches twin", async () => {
    const gpu = await testGpu();
    const s = { B: 2, H: 2, Lq: 5, Lk: 9, dh: 3 };
    const D = s.H * s.dh;
    const q = f32(rand64(s.B * s.Lq * D, 26));
    const k = f32(rand64(s.B * s.Lk * D, 27));
    const v = f32(rand64(s.B * s.Lk * D, 28));
    const g = f32(rand64(s.B * s.Lq * D, 29));
    const T = (name: string, L: number, data?: Float64Array) => gpuTensor(gpu, name, [s.B, L, D], data);
    const [Q, K, V, DO, O, DQ, DK, DV] = [
      T("q", s.Lq, q),
      T("k", s.Lk, k),
      T("v", s.Lk, v),
      T("do", s.Lq, g),
      T("o", s.Lq),
      T("dq", s.Lq),
      T("dk", s.Lk),
      T("dv", s.Lk),
    ];
    const bufs = attnBuffers(gpu, s, "xattn");
    const tq = (t: typeof Q) => tokens(t, s.Lq, D);
    const tk = (t: typeof Q) => tokens(t, s.Lk, D);
    const calls = [
      ...attentionForward(gpu, s, tq(Q), tk(K), tk(V), tq(O), bufs),
      ...attentionBackward(gpu, s, tq(Q), tk(K), tk(V), tq(DO), tq(DQ), tk(DK), tk(DV), bufs),
    ];
    const [o, dq, dk, dv] = await run(gpu, calls, O, DQ, DK, DV);
    const want = ref.attentionForward(q, k, v, s);
    const gr = ref.attentionBackward(q, k, v, want.P, g, s);
    expectClose(o, want.out, TOL.f32.attention, "xattn out");
    expectClose(dq, gr.dq, TOL.f32.attention, "xattn dq");
    expectClose(dk, gr.dk, TOL.f32.attention, "xattn dk");
    expectClose(dv, gr.dv, TOL.f32.attention, "xattn dv");
  });
});

describe("patchify.wgsl", () => {
  it("twin: unpatchify inverts patchify, MAE order matches 'nchpwq->nhwpqc'", () => {
    const imgs = rand64(2 * 3 * 4 * 6, 30);
    for (const order of [0, 1] as const) {
      const x = ref.patchify(imgs, 2, 4, 6, 2, order);
      expectClose(ref.unpatchify(x, 2, 4, 6, 2, order), imgs, TOL.exact, `unpatchify order ${order}`);
    }
    // MAE: x[b, h*w_ + w, (p*P + q)*3 + c] = imgs[b, c, h*P + p, w*P + q]; spot-check one element.
    const x = ref.patchify(imgs, 2, 4, 6, 2, 0);
    const [b, c, hh, ww, p, q] = [1, 2, 1, 2, 1, 0];
    expect(x[(b * 6 + hh * 3 + ww) * 12 + (p * 2 + q) * 3 + c]).toBe(imgs[((b * 3 + c) * 4 + hh * 2 + p) * 6 + ww * 2 + q]);
  });

  it("GPU matches twin (B=2, 12x8, P=4, both orders)", async () => {
    const gpu = await testGpu();
    const s = { B: 2, H: 12, W: 8, P: 4 };
    const imgs = f32(rand64(s.B * 3 * s.H * s.W, 31));
    const I = gpuTensor(gpu, "imgs", [s.B, 3, s.H, s.W], imgs);
    for (const order of [0, 1] as const) {
      const X = gpuTensor(gpu, "x", [s.B, 6, 48]);
      const I2 = gpuTensor(gpu, "imgs2", [s.B, 3, s.H, s.W]);
      const [x, back] = await run(gpu, [L.patchify(gpu, I, X, { ...s, order }), L.unpatchify(gpu, X, I2, { ...s, order })], X, I2);
      expectClose(x, ref.patchify(imgs, s.B, s.H, s.W, s.P, order), TOL.exact, `patchify order ${order}`);
      expectClose(back, imgs, TOL.exact, `unpatchify order ${order}`);
    }
  });
});

describe("gather_rows.wgsl (ids_keep)", () => {
  it("GPU unshuffle into a decoder input past the cls row (So, so0) matches twin", async () => {
    const gpu = await testGpu();
    // encoder out (B, 1 + Lk, D) visible tokens -> decoder rows ids_keep + 1 of (B, 1 + Lt, D), and back.
    const [B, Lk, Lt, D] = [2, 3, 6, 4];
    const ids = new Uint32Array([4, 0, 2, 5, 1, 3]);
    const enc = f32(rand64(B * (1 + Lk) * D, 40));
    const dec0 = f32(rand64(B * (1 + Lt) * D, 41));
    const idsBuf = upload(gpu, "ids", ids);
    const E = gpuTensor(gpu, "enc", [B, 1 + Lk, D], enc);
    const Dd = gpuTensor(gpu, "dec", [B, 1 + Lt, D], dec0);
    const E2 = gpuTensor(gpu, "enc back", [B, 1 + Lk, D]);
    const s = { B, Ls: 1 + Lt, Lo: Lk, D, row0: 1, So: 1 + Lk, so0: 1 };
    const [dec, back] = await run(gpu, [L.scatterRows(gpu, E, idsBuf, Dd, s, false), L.gatherRows(gpu, Dd, idsBuf, E2, s)], Dd, E2);
    const want = ref.scatterRows(enc, ids, Float64Array.from(dec0), B, 1 + Lt, Lk, D, 1, false, 1 + Lk, 1);
    expectClose(dec, want, TOL.exact, "unshuffle scatter");
    expectClose(back, ref.gatherRows(want, ids, B, 1 + Lt, Lk, D, 1, 1 + Lk, 1), TOL.exact, "gather back");
  });

  it("twin: scatter is the adjoint of gather", () => {
    const [B, Ls, Lo, D] = [2, 6, 3, 2];
    const ids = [5, 0, 2, 1, 3, 4];
    const x = rand64(B * (Ls + 1) * D, 32);
    const g = rand64(B * Lo * D, 33);
    const dx = ref.scatterRows(g, ids, new Float64Array(x.length), B, Ls + 1, Lo, D, 1);
    gradCheck("gather dx", x, dx, () => dotLoss(ref.gatherRows(x, ids, B, Ls + 1, Lo, D, 1), g));
  });

  for (const D of [5, 136])
    it(`GPU gather / scatter match twin (B=2, Ls=7+cls, Lo=3, D=${D}: ${D % 4 ? "gather_rows" : "gather_rows4"}.wgsl)`, async () => {
      const gpu = await testGpu();
      const [B, Ls, Lo] = [2, 8, 3];
      const ids = new Uint32Array([6, 0, 3, 2, 5, 1]);
      const x = f32(rand64(B * Ls * D, 34));
      const g = f32(rand64(B * Lo * D, 35));
      const d0 = f32(rand64(B * Ls * D, 36));
      const idsBuf = upload(gpu, "ids", ids);
      const X = gpuTensor(gpu, "x", [B, Ls, D], x);
      const Y = gpuTensor(gpu, "y", [B, Lo, D]);
      const G = gpuTensor(gpu, "g", [B, Lo, D], g);
      const DX = gpuTensor(gpu, "dx", [B, Ls, D], d0);
      const s = { B, Ls, Lo, D, row0: 1 };
      const [y, dx] = await run(gpu, [L.gatherRows(gpu, X, idsBuf, Y, s), L.scatterRows(gpu, G, idsBuf, DX, s, true)], Y, DX);
      expectClose(y, ref.gatherRows(x, ids, B, Ls, Lo, D, 1), TOL.exact, "gather");
      expectClose(dx, ref.scatterRows(g, ids, Float64Array.from(d0), B, Ls, Lo, D, 1, true), TOL.f32.elementwise, "scatter");
    });
});

describe("masked_mse.wgsl (MAE loss, norm_pix_loss)", () => {
  for (const norm of [false, true])
    it(`twin gradient check and GPU match (norm_pix ${norm})`, async () => {
      const R = 13;
      const F = 12;
      const pred = rand64(R * F, 37);
      const target = rand64(R * F, 38, 0, 1);
      const mask = Float64Array.from({ length: R }, (_, i) => (i % 3 === 0 ? 0 : 1));
      const fwd = ref.maskedMse(pred, target, mask, R, F, norm);
      gradCheck(
        "masked mse dpred",
        pred,
        ref.maskedMseBackward(pred, fwd.tn, mask, fwd.maskSum, R, F),
        () => ref.maskedMse(pred, target, mask, R, F, norm).loss,
      );

      const gpu = await testGpu();
      const p32 = f32(pred);
      const t32 = f32(target);
      const a: L.MaskedMseArgs = {
        pred: gpuTensor(gpu, "pred", [R, F], p32),
        target: gpuTensor(gpu, "target", [R, F], t32),
        mask: gpuTensor(gpu, "mask", [R], mask),
        tn: gpuTensor(gpu, "tn", [R, F]),
        lp: gpuTensor(gpu, "lp", [R]),
        loss: gpuTensor(gpu, "loss", [2]),
        R,
        F,
        normPix: norm,
      };
      const D = gpuTensor(gpu, "dpred", [R, F]);
      const [loss, dpred] = await run(gpu, [...L.maskedMseForward(gpu, a), L.maskedMseBackward(gpu, a, D, 0.5)], a.loss, D);
      const want = ref.maskedMse(p32, t32, mask, R, F, norm);
      expectClose([loss[0]], [want.loss], TOL.f32.reduction, "masked mse loss");
      expectClose(dpred, ref.maskedMseBackward(p32, want.tn, mask, want.maskSum, R, F, 0.5), TOL.f32.reduction, "masked mse dpred");
    });
});

describe("reduce.wgsl (sum, sumsq, two-stage)", () => {
  it("GPU matches twin (n=1000 one-stage, n=70001 two-stage)", async () => {
    const gpu = await testGpu();
    for (const n of [1000, 70001]) {
      const x = f32(rand64(n, 39));
      const X = gpuTensor(gpu, "x", [n], x);
      const O = gpuTensor(gpu, "out", [4]);
      const scratch = gpuTensor(gpu, "scratch", [256]);
      const [o] = await run(
        gpu,
        [...L.reduceCalls(gpu, X, n, O, 1, { alpha: 1 / n, scratch }), ...L.reduceCalls(gpu, X, n, O, 2, { squares: true, scratch })],
        O,
      );
      expectClose([o[1], o[2]], [ref.sum(x, 1 / n), ref.sumsq(x)], TOL.f32.reductionRel * Math.max(1, ref.sumsq(x)), `reduce n=${n}`);
    }
  });
});

describe("broadcast_rows.wgsl (pos_embed, cls token, mask tokens)", () => {
  it("twin gradient check (table and accumulated activations)", () => {
    const [B, Ld, Lt, D] = [2, 5, 3, 2];
    for (const ts of [0, 1] as const) {
      const t = rand64(Lt * D, 80);
      const x = rand64(B * Ld * D, 81);
      const g = rand64(B * Ld * D, 82);
      const fwd = () => ref.broadcastRowsForward(t, Float64Array.from(x), B, Ld, Lt, D, 1, ts, true);
      const dt = ref.broadcastRowsBackward(g, new Float64Array(Lt * D), B, Ld, Lt, D, 1, ts);
      gradCheck(`broadcast dt ts=${ts}`, t, dt, () => dotLoss(fwd(), g));
    }
  });

  for (const ts of [0, 1] as const)
    it(`GPU matches twin (ts=${ts}: ${ts ? "pos_embed add" : "mask token fill"})`, async () => {
      const gpu = await testGpu();
      const [B, Ld, Lt, D] = [3, 7, 4, 5];
      const t = f32(rand64(Lt * D + 2, 83));
      const x = f32(rand64(B * Ld * D, 84));
      const g = f32(rand64(B * Ld * D, 85));
      const dt0 = f32(rand64(Lt * D + 2, 86));
      const T = gpuTensor(gpu, "t", [Lt * D + 2], t);
      const X = gpuTensor(gpu, "x", [B, Ld, D], x);
      const G = gpuTensor(gpu, "g", [B, Ld, D], g);
      const DT = gpuTensor(gpu, "dt", [Lt * D + 2], dt0);
      const s = { B, Ld, Lt, D, row0: 2, ts };
      const tv = view(T, 2, [Lt, D]);
      const dtv = view(DT, 2, [Lt, D]);
      const [xo, dto] = await run(gpu, [L.broadcastRowsForward(gpu, tv, X, s, ts === 1), L.broadcastRowsBackward(gpu, G, dtv, s)], X, DT);
      expectClose(
        xo,
        ref.broadcastRowsForward(t.subarray(2), Float64Array.from(x), B, Ld, Lt, D, 2, ts, ts === 1),
        TOL.f32.elementwise,
        "broadcast forward",
      );
      const want = Float64Array.from(dt0);
      ref.broadcastRowsBackward(g, want.subarray(2), B, Ld, Lt, D, 2, ts);
      expectClose(dto, want, TOL.f32.reduction, "broadcast backward");
    });
});
