// How long dawn.node's event polling may spin.
//
// While a GPU promise is pending (mapAsync, onSubmittedWorkDone, pipeline creation), dawn.node
// calls wgpuInstanceProcessEvents from a callback it schedules with the global setImmediate, and
// schedules it again after every call: the main thread spins at 100% until the GPU is done. On a
// CPU adapter (lavapipe) that spinning core is one of the cores the "GPU" runs on. Measured on the
// 2-core dev machine: the mining run's process used 5.2 CPU-s with the spinning and 3.3 with this
// throttle (bench/mine, default preset, 46 -> 59 candidate pairs/s in one A/B pair of runs).
//
// The throttle lets a wait start with immediate polls (short waits stay short), and once the
// polls come in a streak, schedules dawn's callback with setTimeout(0) (node: ~1 ms) instead.
// Dawn's callbacks are recognised as what dawn.node passes: a native function without a name or
// arguments; every other setImmediate call is untouched. Set MIMIC_DAWN_POLL=spin to turn it off.

/** Polls in a row (each < GAP_MS after the last) before dawn's callback goes through setTimeout. */
const STREAK = 8;
/** A longer pause between two polls starts a new wait (timer polls come ~1-2 ms apart, later under load). */
const GAP_MS = 5;

let installed = false;

/** Install the throttle (once per process). */
export function throttleDawnPolling(): void {
  if (installed || process.env.MIMIC_DAWN_POLL === "spin") return;
  installed = true;
  const original = globalThis.setImmediate;
  let streak = 0;
  let last = 0;
  const throttled = (fn: (...a: unknown[]) => void, ...args: unknown[]): NodeJS.Immediate => {
    if (typeof fn === "function" && fn.name === "" && args.length === 0 && isNative(fn)) {
      const now = performance.now();
      streak = now - last < GAP_MS ? streak + 1 : 0;
      last = now;
      if (streak > STREAK) return setTimeout(fn, 0) as unknown as NodeJS.Immediate;
    }
    return original(fn, ...args);
  };
  globalThis.setImmediate = Object.assign(throttled, original) as typeof setImmediate;
}

const isNative = (fn: (...a: unknown[]) => void): boolean => Function.prototype.toString.call(fn).endsWith("{ [native code] }");
