// `mimic doctor`: what this machine has for mimic-kit, and the fix for each missing piece.
import { Command } from "commander";
import { doctor } from "../doctor.js";
import { EXIT, printJson } from "./common.js";

export function doctorCommand(): Command {
  return new Command("doctor")
    .description("check node, the WebGPU adapter and ffmpeg; print the fix for anything missing")
    .option("--json", "print the report as JSON on stdout")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .action(async (opts: { json?: boolean; quiet?: boolean }) => {
      const r = await doctor();
      if (opts.json) printJson(r);
      else if (!opts.quiet) {
        const line = (ok: boolean, what: string, detail: string) =>
          console.error(`${ok ? "ok     " : "MISSING"} ${what.padEnd(9)} ${detail}`);
        line(Number(r.node.split(".")[0]) >= 20, "node", `${r.node}${Number(r.node.split(".")[0]) >= 20 ? "" : " (need >= 20)"}`);
        line(true, "mimic-kit", r.mimicKit);
        line(r.adapter.ok, "webgpu", r.adapter.ok ? (r.adapter.name ?? "") : (r.adapter.fix ?? ""));
        if (r.adapter.ok) {
          console.error(
            `          limits    ${Object.entries(r.adapter.limits ?? {})
              .map(([k, v]) => `${k}=${v}`)
              .join(" ")}`,
          );
          console.error(`          features  ${(r.adapter.features ?? []).join(" ") || "(none optional)"}`);
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
