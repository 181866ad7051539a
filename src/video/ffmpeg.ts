// The one place that decides which ffmpeg/ffprobe binaries mimic-kit runs:
//   ffmpeg:  1. FFMPEG_PATH  2. the optional ffmpeg-static package (its binary is downloaded at
//            install time, which fails where the network is closed; it then simply is not
//            installed)  3. `ffmpeg` on PATH
//   ffprobe: 1. FFPROBE_PATH  2. the optional @ffprobe-installer/linux-x64 package (a static
//            binary inside the npm tarball)  3. beside ffmpeg  4. `ffprobe` on PATH
// Why a static ffprobe first: mining probes every video once, and a distribution's ffprobe links
// ~200 shared libraries (Debian 12: 215); loading them costs 0.19 CPU-s per call on the 2-core dev
// machine, the static binary 0.02 (same JSON). Decoding stays with the ffmpeg above.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
  /** Where ffmpeg was found: 'FFMPEG_PATH', 'ffmpeg-static' or 'PATH'. */
  source: "FFMPEG_PATH" | "ffmpeg-static" | "PATH";
  version: string;
}

export const FFMPEG_FIX =
  "install ffmpeg (Debian/Ubuntu: 'apt-get install ffmpeg'; macOS: 'brew install ffmpeg'), " +
  "or set FFMPEG_PATH and FFPROBE_PATH to the binaries, or 'npm install ffmpeg-static'";

function versionOf(bin: string): string | null {
  try {
    const out = execFileSync(bin, ["-version"], { stdio: ["ignore", "pipe", "ignore"], encoding: "utf8" });
    return (out.split("\n")[0] ?? "").replace(/ Copyright.*/, "").trim();
  } catch {
    return null;
  }
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {}
  }
  return null;
}

function fromStatic(): string | null {
  try {
    const req = createRequire(import.meta.url);
    const p = req("ffmpeg-static") as string | null;
    return p && fs.existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

/** The static ffprobe of the optional @ffprobe-installer/linux-x64 package, made executable if npm skipped its postinstall. */
function staticProbe(): string | null {
  try {
    const req = createRequire(import.meta.url);
    const p = path.join(path.dirname(req.resolve("@ffprobe-installer/linux-x64/package.json")), "ffprobe");
    try {
      fs.accessSync(p, fs.constants.X_OK);
    } catch {
      fs.chmodSync(p, 0o755);
    }
    return versionOf(p) ? p : null;
  } catch {
    return null;
  }
}

let cached: FfmpegBinaries | null = null;

/** Resolve ffmpeg and ffprobe once per process; throws with the fix when none works. */
export function resolveFfmpeg(): FfmpegBinaries {
  if (cached) return cached;
  const env = process.env.FFMPEG_PATH;
  let ffmpeg: string | null = null;
  let source: FfmpegBinaries["source"] = "PATH";
  if (env) {
    if (!versionOf(env))
      throw new Error(`FFMPEG_PATH=${env} does not run ('${env} -version' failed). Fix: point it at a working ffmpeg, or unset it`);
    ffmpeg = env;
    source = "FFMPEG_PATH";
  } else if ((ffmpeg = fromStatic())) source = "ffmpeg-static";
  else ffmpeg = onPath("ffmpeg");
  if (!ffmpeg) throw new Error(`ffmpeg not found. Fix: ${FFMPEG_FIX}`);

  // ffprobe: FFPROBE_PATH, else the static package, else beside ffmpeg, else PATH.
  const beside = path.join(path.dirname(ffmpeg), process.platform === "win32" ? "ffprobe.exe" : "ffprobe");
  const ffprobe = process.env.FFPROBE_PATH ?? staticProbe() ?? (fs.existsSync(beside) ? beside : onPath("ffprobe"));
  if (!ffprobe || !versionOf(ffprobe)) throw new Error(`ffprobe not found (ffmpeg is ${ffmpeg}). Fix: ${FFMPEG_FIX}`);
  const version = versionOf(ffmpeg);
  if (!version) throw new Error(`${ffmpeg} -version failed. Fix: ${FFMPEG_FIX}`);
  cached = { ffmpeg, ffprobe, source, version };
  return cached;
}
