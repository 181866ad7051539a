#!/usr/bin/env node
// Bootstrap: make a fresh clone ready to test and run, with no hand step.
//
//   node scripts/bootstrap.mjs [--quiet] [--bench] [--browser]
//
// 1. `npm ci` when node_modules is missing or older than package-lock.json.
// 2. `tsc` when dist/ is older than any source file.
// 3. A WebGPU adapter (Dawn). On Debian/Ubuntu as root, installs Mesa's lavapipe Vulkan driver
//    (from bookworm-backports on Debian 12, whose own Mesa is too old for Dawn), taking the mirror
//    from the machine's existing apt sources. Elsewhere prints the commands and exits 1.
// 4. An ffmpeg binary: FFMPEG_PATH, ffmpeg-static, or PATH; installs Debian's ffmpeg as root.
// 5. --browser: Debian's chromium (the report's browser test). --bench: python3-opencv,
//    python3-torch and numpy for the peers measured in bench/.
// Node built-ins only; idempotent; quick when everything is present.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const quiet = args.has("--quiet");
const log = (msg) => quiet || console.log(`[bootstrap] ${msg}`);
const fail = (msg) => {
  console.error(`[bootstrap] ERROR: ${msg}`);
  process.exit(1);
};

function run(cmd, argv, opts = {}) {
  log(`$ ${cmd} ${argv.join(" ")}`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: quiet ? "pipe" : "inherit", ...opts });
  if (r.status !== 0) {
    const out = quiet ? `\n${r.stdout ?? ""}${r.stderr ?? ""}` : "";
    fail(`'${cmd} ${argv.join(" ")}' exited with ${r.status}${out}`);
  }
}

function mtime(p) {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

function newestIn(dir, exts) {
  let newest = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestIn(p, exts));
    else if (exts.some((e) => entry.name.endsWith(e))) newest = Math.max(newest, mtime(p));
  }
  return newest;
}

// ---- 1. node and npm dependencies -------------------------------------------------------------
const major = Number(process.versions.node.split(".")[0]);
if (major < 20) fail(`Node ${process.versions.node} is too old: mimic-kit needs Node >= 20.`);

const stamp = path.join(root, "node_modules", ".package-lock.json");
if (mtime(stamp) < mtime(path.join(root, "package-lock.json"))) {
  run("npm", ["ci", "--no-audit", "--no-fund"]);
  fs.utimesSync(stamp, new Date(), new Date());
} else log("node_modules is up to date");

// ---- 2. build ---------------------------------------------------------------------------------
const srcNewest = Math.max(
  ...["src", "bench", "examples"].map((d) => newestIn(path.join(root, d), [".ts"])),
  mtime(path.join(root, "tsconfig.json")),
);
const distStamp = path.join(root, "dist", ".build-stamp");
if (mtime(distStamp) < srcNewest) {
  run(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"]);
  fs.writeFileSync(distStamp, `${new Date().toISOString()}\n`);
} else log("dist/ is up to date");

// ---- system packages (Debian/Ubuntu as root) ----------------------------------------------------
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const osRelease = fs.existsSync("/etc/os-release") ? fs.readFileSync("/etc/os-release", "utf8") : "";
const osField = (k) => (osRelease.match(new RegExp(`^${k}="?([^"\\n]*)"?`, "m")) ?? [])[1] ?? "";
const isDebianLike = /debian|ubuntu/i.test(`${osField("ID")} ${osField("ID_LIKE")}`);
const codename = osField("VERSION_CODENAME");
let aptUpdated = false;

function aptInstall(pkgs, extra = []) {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (!aptUpdated) {
    run("apt-get", ["update", "-qq"], { env });
    aptUpdated = true;
  }
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...extra, ...pkgs], { env });
}

// The machine's own Debian mirror, read from apt's sources (deb822 .sources or one-line .list).
function debianMirror() {
  const files = [];
  if (fs.existsSync("/etc/apt/sources.list")) files.push("/etc/apt/sources.list");
  const dir = "/etc/apt/sources.list.d";
  if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir).sort()) files.push(path.join(dir, f));
  for (const f of files) {
    const text = fs.readFileSync(f, "utf8");
    if (f.endsWith(".sources")) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k) => (stanza.match(new RegExp(`^${k}:\\s*(.+)$`, "mi")) ?? [])[1]?.trim() ?? "";
        const suites = field("Suites").split(/\s+/);
        if (suites.includes(codename) && !/^\s*Enabled:\s*no/im.test(stanza))
          return { uri: field("URIs").split(/\s+/)[0], signedBy: field("Signed-By") };
      }
    } else {
      for (const line of text.split("\n")) {
        const m = line.match(/^\s*deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s/);
        if (m && m[3] === codename) {
          const sb = (m[1] ?? "").match(/signed-by=(\S+?)[\s\]]/);
          return { uri: m[2], signedBy: sb ? sb[1] : "" };
        }
      }
    }
  }
  return null;
}

function ensureBackports() {
  const file = "/etc/apt/sources.list.d/mimic-kit-backports.sources";
  if (fs.existsSync(file)) return;
  const mirror = debianMirror();
  if (!mirror) fail(`no '${codename}' entry found in /etc/apt/sources.list{,.d}; add one, then rerun`);
  const lines = ["Types: deb", `URIs: ${mirror.uri}`, `Suites: ${codename}-backports`, "Components: main"];
  if (mirror.signedBy) lines.push(`Signed-By: ${mirror.signedBy}`);
  log(`adding ${codename}-backports from ${mirror.uri} to ${file}`);
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
  aptUpdated = false;
}

// ---- 3. WebGPU adapter ----------------------------------------------------------------------------
function probeAdapter() {
  const code = `
    import { create, globals } from "webgpu";
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const a = await gpu.requestAdapter();
    if (!a) { console.log("NONE"); process.exit(0); }
    const i = a.info ?? {};
    console.log("ADAPTER", [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(" / "));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { cwd: root, encoding: "utf8", timeout: 60000 });
  const m = (r.stdout ?? "").match(/^ADAPTER (.*)$/m);
  return m ? m[1] || "unknown adapter" : null;
}

let adapter = probeAdapter();
if (!adapter) {
  const fix =
    "install a Vulkan driver: on Debian 12, add bookworm-backports to apt's sources and run " +
    "'apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1' (Mesa >= 23 is needed); " +
    "on Ubuntu 24.04+, 'apt-get install mesa-vulkan-drivers libvulkan1'; or install your GPU's Vulkan driver";
  if (!(isRoot && isDebianLike)) fail(`no WebGPU adapter found. Fix: ${fix}`);
  if (osField("ID") === "debian" && codename) {
    ensureBackports();
    aptInstall(["mesa-vulkan-drivers", "libvulkan1"], ["-t", `${codename}-backports`]);
  } else aptInstall(["mesa-vulkan-drivers", "libvulkan1"]);
  adapter = probeAdapter();
  if (!adapter) fail(`still no WebGPU adapter after installing Mesa's Vulkan drivers. Fix: ${fix}`);
}
log(`WebGPU adapter: ${adapter}`);

// ---- 4. ffmpeg ------------------------------------------------------------------------------------
function works(bin) {
  try {
    execFileSync(bin, ["-version"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}
function findFfmpeg() {
  if (process.env.FFMPEG_PATH) return works(process.env.FFMPEG_PATH) ? process.env.FFMPEG_PATH : null;
  const stat = path.join(root, "node_modules", "ffmpeg-static", "ffmpeg");
  if (fs.existsSync(stat) && works(stat)) return stat;
  return works("ffmpeg") && works("ffprobe") ? "ffmpeg" : null;
}
let ffmpeg = findFfmpeg();
if (!ffmpeg) {
  if (!(isRoot && isDebianLike))
    fail(
      "no ffmpeg/ffprobe found. Fix: install ffmpeg ('apt-get install ffmpeg', 'brew install ffmpeg') or set FFMPEG_PATH and FFPROBE_PATH",
    );
  aptInstall(["ffmpeg"]);
  ffmpeg = findFfmpeg();
  if (!ffmpeg) fail("ffmpeg is still missing after 'apt-get install ffmpeg'");
}
log(`ffmpeg: ${ffmpeg}`);

// ---- 5. optional extras -------------------------------------------------------------------------
function ensureDebPackages(what, pkgs, check) {
  if (check()) return log(`${what}: present`);
  if (!(isRoot && isDebianLike)) fail(`${what} missing. Fix: apt-get install ${pkgs.join(" ")}`);
  aptInstall(pkgs);
  if (!check()) fail(`${what} still missing after 'apt-get install ${pkgs.join(" ")}'`);
}
if (args.has("--browser")) ensureDebPackages("chromium", ["chromium"], () => fs.existsSync("/usr/bin/chromium"));
if (args.has("--bench")) {
  const py = (mod) => spawnSync("/usr/bin/python3", ["-c", `import ${mod}`], { stdio: "pipe" }).status === 0;
  ensureDebPackages("python3-opencv, numpy", ["python3-opencv", "python3-numpy"], () => py("cv2") && py("numpy"));
  // numpy's BLAS: Debian links the reference libblas unless OpenBLAS is installed (then alternatives pick it).
  const openblas = () => fs.readdirSync("/usr/lib").some((d) => fs.existsSync(path.join("/usr/lib", d, "openblas-pthread")));
  ensureDebPackages("OpenBLAS (numpy's BLAS)", ["libopenblas0"], openblas);
  ensureDebPackages("python3-torch", ["python3-torch"], () => py("torch"));
}
log("ready");
