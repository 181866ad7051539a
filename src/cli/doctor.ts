// `mimic doctor`: what this machine has for mimic-kit, and the fix for each missing piece.
import { Command } from "commander";
import { describeAdapter, getGpu, NO_ADAPTER_FIX } from "../gpu/device.js";
import { packageVersion } from "../version.js";
import { resolveFfmpeg } from "../video/ffmpeg.js";
import { EXIT, printJson } from "./common.js";

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

export function doctorCommand(): Command {
  return new Command("doctor")
    .description("check node, the WebGPU adapter and ffmpeg; print the fix for anything missing")
    .option("--json", "print the report as JSON")
    .action(async (opts: { json?: boolean }) => {
      const r = await doctor();
      if (opts.json) printJson(r);
      else {
        const line = (ok: boolean, what: string, detail: string) =>
          console.log(`${ok ? "ok     " : "MISSING"} ${what.padEnd(9)} ${detail}`);
        line(Number(r.node.split(".")[0]) >= 20, "node", `${r.node}${Number(r.node.split(".")[0]) >= 20 ? "" : " (need >= 20)"}`);
        line(true, "mimic-kit", r.mimicKit);
        line(r.adapter.ok, "webgpu", r.adapter.ok ? (r.adapter.name ?? "") : (r.adapter.fix ?? ""));
        if (r.adapter.ok) {
          console.log(
            `          limits    ${Object.entries(r.adapter.limits ?? {})
              .map(([k, v]) => `${k}=${v}`)
              .join(" ")}`,
          );
          console.log(`          features  ${(r.adapter.features ?? []).join(" ") || "(none optional)"}`);
        }
        line(
          r.ffmpeg.ok,
          "ffmpeg",
          r.ffmpeg.ok ? `${r.ffmpeg.path} (${r.ffmpeg.source}; ${r.ffmpeg.version}); ffprobe ${r.ffmpeg.ffprobe}` : (r.ffmpeg.fix ?? ""),
        );
      }
      process.exitCode = r.ok ? EXIT.ok : EXIT.failed;
    });
}
