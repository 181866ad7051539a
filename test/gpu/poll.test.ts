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
  it("spaces a streak of native nameless callbacks by timers, leaves JS callbacks immediate", async () => {
    throttleDawnPolling();
    // A Proxy of an anonymous function prints as native code and has no name, like dawn.node's.
    const nativeLike = (next: () => void) => new Proxy(() => next(), {}) as (...a: unknown[]) => void;
    const js = (next: () => void) => () => next();
    expect(Function.prototype.toString.call(nativeLike(() => {}))).toContain("[native code]");
    const jsMs = await chain(40, js);
    const nativeMs = await chain(40, nativeLike);
    // 40 immediates take well under a millisecond each; 30 timer ticks take at least ~1 ms each.
    expect(jsMs).toBeLessThan(20);
    expect(nativeMs).toBeGreaterThan(25);
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
