// Image kernels on the adapter vs sharp (libvips) on the CPU, same images, same run.
// Megapixels/s of a Gaussian blur and a bilinear downscale of one RGB image (3 planes on the GPU).
// Our timing includes upload and readback of the image (what a caller pays), and kernel-only
// timing (data resident on the GPU, as inside the mining pipeline).
import sharp from "sharp";
import { createBuffer, upload } from "../src/gpu/buffers.js";
import { describeAdapter, getGpu } from "../src/gpu/device.js";
import { encodeBlur, encodeResize, gaussianBlur, resizeBilinear } from "../src/image/kernels.js";
import { Pcg32 } from "../src/prng.js";
import { type BenchOptions, type BenchResult, row, timeMs } from "./lib.js";

export async function bench(opts: BenchOptions = {}): Promise<BenchResult> {
  const gpu = await getGpu();
  const sizes: Array<[number, number]> = opts.quick
    ? [[240, 320]]
    : [
        [480, 640],
        [1080, 1920],
      ];
  const repeats = opts.quick ? 2 : 5;
  const rows = [];
  for (const [h, w] of sizes) {
    const r = new Pcg32(1, 1);
    const rgb = Uint8Array.from({ length: h * w * 3 }, () => r.nextU32() & 255);
    const planes = new Float32Array(3 * h * w);
    for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) planes[c * h * w + i] = rgb[3 * i + c] / 255;
    const mp = (h * w) / 1e6;
    const sigma = 1.6;
    const dh = h >> 1;
    const dw = w >> 1;

    // Kernel-only: buffers resident, wait for the queue to drain.
    const src = upload(gpu, "bench src", planes);
    const tmp = createBuffer(gpu, "bench tmp", planes.byteLength);
    const dst = createBuffer(gpu, "bench dst", planes.byteLength);
    const blurKernel = await timeMs(async () => {
      const enc = gpu.device.createCommandEncoder();
      encodeBlur(gpu, enc, src, tmp, dst, 3, h, w, sigma);
      gpu.device.queue.submit([enc.finish()]);
      await gpu.device.queue.onSubmittedWorkDone();
    }, repeats);
    const resizeKernel = await timeMs(async () => {
      const enc = gpu.device.createCommandEncoder();
      encodeResize(gpu, enc, src, dst, 3, h, w, dh, dw);
      gpu.device.queue.submit([enc.finish()]);
      await gpu.device.queue.onSubmittedWorkDone();
    }, repeats);
    const blurRound = await timeMs(() => gaussianBlur(gpu, planes, 3, h, w, sigma), repeats);
    const resizeRound = await timeMs(() => resizeBilinear(gpu, planes, 3, h, w, dh, dw), repeats);

    // Peer: sharp, raw RGB in, raw RGB out.
    const input = () => sharp(rgb, { raw: { width: w, height: h, channels: 3 } });
    const sharpBlur = await timeMs(() => input().blur(sigma).raw().toBuffer(), repeats);
    const sharpResize = await timeMs(() => input().resize(dw, dh, { kernel: "linear" }).raw().toBuffer(), repeats);

    const tag = `${w}x${h} RGB`;
    rows.push(row(`blur sigma ${sigma} ${tag} (kernel only)`, "MP/s", mp / (blurKernel / 1e3), mp / (sharpBlur / 1e3)));
    rows.push(row(`blur sigma ${sigma} ${tag} (with upload+readback)`, "MP/s", mp / (blurRound / 1e3), mp / (sharpBlur / 1e3)));
    rows.push(row(`resize to ${dw}x${dh} ${tag} (kernel only)`, "MP/s", mp / (resizeKernel / 1e3), mp / (sharpResize / 1e3)));
    rows.push(row(`resize to ${dw}x${dh} ${tag} (with upload+readback)`, "MP/s", mp / (resizeRound / 1e3), mp / (sharpResize / 1e3)));
  }
  return {
    name: "image",
    peer: "sharp (libvips, CPU)",
    adapter: describeAdapter(gpu.adapter),
    rows,
    notes: ["MP/s = megapixels of the input image per second, median of repeats. sharp works on 8-bit RGB; ours on f32 planes."],
  };
}
