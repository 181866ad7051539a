// src/gpu/poll.ts: dawn.node's polling callbacks (native, nameless, no arguments) go through
// setTimeout once they come in a streak; every other setImmediate call is left alone.
import { describe, expect, it } from "vitest";
import { readF32, upload } from "../../src/gpu/buffers.js";
import { throttleDawnPolling } from "../../src/gpu/poll.js";
import { testGpu } from "../helpers.js";

/** Chain `n` setImmediate calls of `fn`'s wrapper; resolves with the elapsed ms. */
function chain(n: number, makeCallback: (next: () => void) => (...a: unknown[]) => void): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let left = n;
    const step = makeCallback(() => {
      if (--left === 0) resolve(performance.now() - t0);
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
      const nativeMs = await chain(40, nativeLike);
      // The first polls of the streak stay immediate, the rest go through timers (~1 ms each).
      expect(timed).toBeGreaterThanOrEqual(25);
      expect(nativeMs).toBeGreaterThan(10);
    } finally {
      globalThis.setTimeout = realSetTimeout;
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
