// src/gpu/poll.ts: dawn.node's polling callbacks (native, nameless, no arguments) go through
// setTimeout once they come in a streak; every other setImmediate call is left alone.
import { describe, expect, it, vi } from "vitest";
import { readF32, upload } from "../../src/gpu/buffers.js";
import { throttleDawnPolling } from "../../src/gpu/poll.js";
import { testGpu } from "../helpers.js";

/** Chain `n` setImmediate calls of `fn`'s wrapper; resolves when the last has run. */
function chain(n: number, makeCallback: (next: () => void) => (...a: unknown[]) => void): Promise<void> {
  return new Promise((resolve) => {
    let left = n;
    const step = makeCallback(() => {
      if (--left === 0) resolve();
      else setImmediate(step);
    });
    setImmediate(step);
  });
}

describe("dawn polling throttle", () => {
  it("routes a streak of native nameless callbacks through setTimeout, leaves JS callbacks immediate", async () => {
    throttleDawnPolling();
    // A Proxy of an anonymous function prints as native code and has no name, like dawn.node's.
    const nativeLike = (next: () => void) => new Proxy(() => next(), {}) as (...a: unknown[]) => void;
    const js = (next: () => void) => () => next();
    expect(Function.prototype.toString.call(nativeLike(() => {}))).toContain("[native code]");
    // The throttle tells a streak by the time between polls: a fake clock makes that independent of
    // the machine's load (a loaded CI machine spaced real polls > 5 ms apart and broke the streak).
    let clock = 1e6;
    let tick = 1; // ms per performance.now() call
    const now = vi.spyOn(performance, "now").mockImplementation(() => (clock += tick));
    // Count the callbacks that reach setTimeout (the throttle looks setTimeout up at each call).
    const realSetTimeout = globalThis.setTimeout;
    let timed = 0;
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      timed++;
      return realSetTimeout(fn, ms);
    }) as typeof setTimeout;
    try {
      await chain(40, js);
      expect(timed).toBe(0);
      // polls 1 ms apart: the first ones of the streak stay immediate, the rest go through timers
      await chain(40, nativeLike);
      expect(timed).toBeGreaterThanOrEqual(25);
      expect(timed).toBeLessThanOrEqual(40 - 8);
      // polls 10 ms apart never make a streak
      timed = 0;
      tick = 10;
      await chain(40, nativeLike);
      expect(timed).toBe(0);
    } finally {
      globalThis.setTimeout = realSetTimeout;
      now.mockRestore();
    }
  });

  it("GPU round trips still complete with the throttle installed", async () => {
    const gpu = await testGpu();
    throttleDawnPolling();
    const data = Float32Array.from({ length: 1000 }, (_, i) => i * 0.5);
    for (let r = 0; r < 20; r++) {
      const buf = upload(gpu, "poll test", data);
      expect(Array.from(await readF32(gpu, buf))).toEqual(Array.from(data));
      buf.destroy();
    }
  });
});
