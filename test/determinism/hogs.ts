// CPU hogs for the determinism tests: busy loops that compete with the run under test for the
// cores (the `yes > /dev/null` loops of issue 23), so GPU work (lavapipe), decoders and writers
// finish in other orders than on an idle machine.
import { spawn } from "node:child_process";

/** Start `n` busy loops; returns the function that kills them. */
export function cpuHogs(n = 2): () => void {
  const procs = Array.from({ length: n }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  return () => {
    for (const p of procs) p.kill("SIGKILL");
  };
}
