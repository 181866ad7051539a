// GFLOP/s of the engine's matmul (shaders/nn/matmul_sg.wgsl where the adapter has subgroups, else
// matmul.wgsl) on the adapter vs numpy's matmul on the same machine in the same run
// (bench/peers/matmul.py; torch's figure and the tiled kernel's are printed in the notes).
// Square problems and the shapes a ViT step runs: qkv of ViT-B (197 tokens x 768 -> 2304), the
// nano preset's qkv ((B*L = 8*50 = 400) x 128 -> 384) and its weight gradient (dW = dy^T x, A read
// transposed through strides). Data stays on the GPU; time = queue drain of `reps` dispatches.
import path from "node:path";
import { performance } from "node:perf_hooks";
import { describeAdapter, getGpu } from "../src/gpu/device.js";
import { packageRoot } from "../src/gpu/kernel.js";
import { type Call, runCalls, tensor, writeTensor } from "../src/nn/core.js";
import { type MatmulSpec, matmulCall, matmulShader } from "../src/nn/matmul.js";
import { type BenchOptions, type BenchResult, type BenchRow, peerEnv, peerEnvNote, row, runPython } from "./lib.js";

interface Case {
  name: string;
  M: number;
  N: number;
  K: number;
  /** A read transposed (A(m, k) = a[k * M + m]), as in a Linear weight gradient. */
  transA?: boolean;
}

export async function bench(opts: BenchOptions = {}): Promise<BenchResult> {
  const gpu = await getGpu();
  const cases: Case[] = opts.quick
    ? [
        { name: "square 128", M: 128, N: 128, K: 128 },
        { name: "nano qkv 400x128 @ 128x384", M: 400, N: 384, K: 128 },
      ]
    : [
        { name: "square 256", M: 256, N: 256, K: 256 },
        { name: "square 512", M: 512, N: 512, K: 512 },
        { name: "square 1024", M: 1024, N: 1024, K: 1024 },
        { name: "ViT-B qkv 197x768 @ 768x2304", M: 197, N: 2304, K: 768 },
        { name: "nano qkv 400x128 @ 128x384", M: 400, N: 384, K: 128 },
        { name: "nano qkv dW 384x400 @ 400x128 (A^T)", M: 384, N: 128, K: 400, transA: true },
      ];
  const rows: BenchRow[] = [];
  const ours: number[] = [];
  const tiled: number[] = [];
  const shaders: string[] = [];
  const script = path.join(packageRoot(), "bench", "peers", "matmul.py");
  type Peer = { numpy: Record<string, number>; torch?: Record<string, number>; blas: string; coretype: string; threads: number };
  const peers: Peer[] = [];
  // Each case is followed at once by its peer (on a shared machine, load drifts between minutes).
  for (const c of cases) {
    const a = tensor(gpu, "bench a", [c.M * c.K]);
    const b = tensor(gpu, "bench b", [c.K * c.N]);
    const out = tensor(gpu, "bench c", [c.M * c.N]);
    writeTensor(
      gpu,
      a,
      Float32Array.from({ length: c.M * c.K }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5),
    );
    writeTensor(
      gpu,
      b,
      Float32Array.from({ length: c.K * c.N }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5),
    );
    const spec: MatmulSpec = { M: c.M, N: c.N, K: c.K, a, b, c: out, ...(c.transA ? { sam: 1, sak: c.M } : {}) };
    const flop = 2 * c.M * c.N * c.K;
    const gflops = async (call: Call): Promise<number> => {
      const reps = Math.max(1, Math.min(20, Math.round((opts.quick ? 2e8 : 1e9) / flop)));
      const calls = Array.from({ length: reps }, () => call);
      runCalls(gpu, [call]); // compile + warm
      await gpu.device.queue.onSubmittedWorkDone();
      const times: number[] = [];
      for (let r = 0; r < (opts.quick ? 2 : 3); r++) {
        const t0 = performance.now();
        runCalls(gpu, calls);
        await gpu.device.queue.onSubmittedWorkDone();
        times.push((performance.now() - t0) / reps);
      }
      gpu.check(`bench matmul ${c.name}`);
      times.sort((x, y) => x - y);
      return flop / (times[times.length >> 1] / 1e3) / 1e9;
    };
    shaders.push(matmulShader(gpu, spec));
    ours.push(await gflops(matmulCall(gpu, spec)));
    tiled.push(await gflops(matmulCall(gpu, { ...spec, kernel: "tiled" })));
    for (const t of [a, b, out]) t.buf.destroy();
    peers.push(JSON.parse(runPython(script, [`${c.M},${c.N},${c.K}`], undefined, peerEnv())) as Peer);
  }
  const peer: Peer = {
    numpy: {},
    torch: peers[0]?.torch ? {} : undefined,
    blas: peers[0]?.blas ?? "?",
    coretype: peers[0]?.coretype ?? "?",
    threads: peers[0]?.threads ?? 0,
  };
  for (const p of peers) {
    Object.assign(peer.numpy, p.numpy);
    if (peer.torch && p.torch) Object.assign(peer.torch, p.torch);
  }
  cases.forEach((c, i) => {
    rows.push(row(`${c.name} (M=${c.M} N=${c.N} K=${c.K})`, "GFLOP/s", ours[i], peer.numpy[`${c.M},${c.N},${c.K}`] ?? null));
  });
  const notes = [
    `numpy float32 matmul through ${peer.blas} (Debian's libblas.so.3 alternative; install libopenblas0 for OpenBLAS); ` +
      `OpenBLAS core ${peer.coretype}, ${peer.threads} threads; ${peerEnvNote()}.`,
    `kernel: ${[...new Set(shaders)].join(", ")}; the tiled kernel (matmul.wgsl, kernel: "tiled") in the same run, GFLOP/s: ${cases.map((c, i) => `${c.name}: ${tiled[i].toFixed(2)}`).join("; ")}.`,
  ];
  if (peer.torch)
    notes.push(
      `torch.matmul (all cores) in the same run, GFLOP/s: ${cases.map((c) => `${c.name}: ${peer.torch?.[`${c.M},${c.N},${c.K}`]?.toFixed(2)}`).join("; ")}.`,
    );
  return { name: "matmul", peer: "numpy", adapter: describeAdapter(gpu.adapter), rows, notes };
}
