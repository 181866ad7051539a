// The stages by hand for two frames of a video: decode, gray, SIFT, then the two-view chain
// (matches, RANSAC homography, patch correspondences, overlap).
//
//   npm run build && node dist/examples/two-frames.js <video> [t1] [t2]
import { decodeFrames, detectAndDescribe, getGpu, rgbToGray, twoView } from "../src/index.js";

const [video, t1 = "1", t2 = "2"] = process.argv.slice(2);
if (!video) {
  console.error("usage: node dist/examples/two-frames.js <video> [t1] [t2]");
  process.exit(2);
}
const gpu = await getGpu();
const size = { width: 224, height: 224 };
const frames = [];
for await (const f of decodeFrames(video, { sampling: { kind: "timestamps", seconds: [Number(t1), Number(t2)] }, size })) frames.push(f);
if (frames.length < 2) throw new Error(`${video}: fewer than two frames at ${t1} s and ${t2} s`);
const gray = await Promise.all(frames.map((f) => rgbToGray(gpu, f.rgb, size.width * size.height)));
const [fa, fb] = await Promise.all(gray.map((g) => detectAndDescribe(gpu, g, size.width, size.height)));
const r = await twoView(gpu, fa, fb);
console.log(`features ${fa.count} / ${fb.count}, matches ${r.matches.count}, model: ${r.homography.kind}`);
if (r.correspondence)
  console.log(`overlap ${(100 * r.correspondence.overlap).toFixed(1)}% (kept by MIMIC's band: ${r.correspondence.accepted})`);
