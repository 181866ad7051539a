// Running the `mimic` CLI as a child process: `mimic demo` and the benchmark run each step as the
// command a user would type. bin/mimic.js is found through the package root (gpu/kernel.ts), so
// this works from src/ (tests), dist/ and an installed package alike.
import { spawn } from "node:child_process";
import path from "node:path";
import { packageRoot } from "./gpu/kernel.js";

/** Runs `mimic <args>` and resolves with its exit code. */
export type MimicRunner = (args: string[], quiet: boolean) => Promise<number>;

/** The CLI entry point, bin/mimic.js of this package. */
export function mimicBin(): string {
  return path.join(packageRoot(), "bin", "mimic.js");
}

/** How much of a quiet child's stderr is kept for its failure message. */
const KEEP_STDERR = 64 * 1024;

/**
 * Run `mimic <args>` as a child process; resolves with the exit code (1 if killed). Not quiet: the
 * command is printed first and the child writes to our stdout/stderr. Quiet: the child's stdout is
 * dropped and its stderr kept (the last 64 KiB), then printed with the command if it fails, so a
 * failing step still says why.
 */
export const runMimic: MimicRunner = (args, quiet) => {
  const line = `$ mimic ${args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(" ")}`;
  if (!quiet) process.stderr.write(`\n${line}\n`);
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [mimicBin(), ...args], {
      stdio: ["ignore", quiet ? "ignore" : "inherit", quiet ? "pipe" : "inherit"],
    });
    let err = "";
    c.stderr?.setEncoding("utf8");
    c.stderr?.on("data", (s: string) => {
      err = (err + s).slice(-KEEP_STDERR);
    });
    c.on("close", (code) => {
      const rc = code ?? 1;
      if (quiet && rc !== 0) process.stderr.write(`${line}\nfailed with exit ${rc}:\n${err}${err.endsWith("\n") ? "" : "\n"}`);
      resolve(rc);
    });
  });
};
