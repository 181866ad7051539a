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

/** Run `mimic <args>` as a child process (printed first unless quiet); resolves with the exit code (1 if killed). */
export const runMimic: MimicRunner = (args, quiet) => {
  if (!quiet) process.stderr.write(`\n$ mimic ${args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(" ")}\n`);
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [mimicBin(), ...args], {
      stdio: ["ignore", quiet ? "ignore" : "inherit", quiet ? "ignore" : "inherit"],
    });
    c.on("close", (code) => resolve(code ?? 1));
  });
};
