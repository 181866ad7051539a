// What this machine has for mimic-kit (Node, a WebGPU adapter, ffmpeg), and the fix for each
// missing piece. `mimic doctor` prints it; library users can call it before a long run.
import { describeAdapter, getGpu, NO_ADAPTER_FIX } from "./gpu/device.js";
import { packageVersion } from "./version.js";
import { resolveFfmpeg } from "./video/ffmpeg.js";

export interface DoctorReport {
  node: string;
  mimicKit: string;
  adapter: { ok: boolean; name?: string; limits?: Record<string, number>; features?: string[]; fix?: string };
  ffmpeg: { ok: boolean; path?: string; ffprobe?: string; source?: string; version?: string; fix?: string };
  ok: boolean;
}

export async function doctor(): Promise<DoctorReport> {
  const report: DoctorReport = {
    node: process.versions.node,
    mimicKit: packageVersion(),
    adapter: { ok: false },
    ffmpeg: { ok: false },
    ok: false,
  };
  try {
    const gpu = await getGpu();
    const features = [gpu.hasTimestamps && "timestamp-query", gpu.hasF16 && "shader-f16"].filter(Boolean) as string[];
    report.adapter = { ok: true, name: describeAdapter(gpu.adapter), limits: gpu.limits, features };
  } catch (e) {
    report.adapter = { ok: false, fix: (e as Error).message || NO_ADAPTER_FIX };
  }
  try {
    const f = resolveFfmpeg();
    report.ffmpeg = { ok: true, path: f.ffmpeg, ffprobe: f.ffprobe, source: f.source, version: f.version };
  } catch (e) {
    report.ffmpeg = { ok: false, fix: (e as Error).message };
  }
  report.ok = report.adapter.ok && report.ffmpeg.ok && Number(process.versions.node.split(".")[0]) >= 20;
  return report;
}
