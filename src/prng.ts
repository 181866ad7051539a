// PCG32 (O'Neill's pcg32: XSH-RR output, 64-bit LCG state), written with 32-bit halves so the
// WGSL twin in shaders/common/pcg32.wgsl performs exactly the same integer operations.
// Seeds and streams are u32 here (their high 32 bits are zero); one stream per GPU invocation.

const MUL_HI = 0x5851f42d; // 6364136223846793005 = 0x5851f42d_4c957f2d
const MUL_LO = 0x4c957f2d;

export class Pcg32 {
  private sHi = 0;
  private sLo = 0;
  private iHi = 0;
  private iLo = 0;

  constructor(seed: number, stream = 0) {
    // inc = (stream << 1) | 1
    this.iHi = (stream >>> 31) >>> 0;
    this.iLo = ((stream << 1) | 1) >>> 0;
    this.step();
    const lo = (this.sLo + (seed >>> 0)) >>> 0;
    this.sHi = (this.sHi + (lo < this.sLo ? 1 : 0)) >>> 0;
    this.sLo = lo;
    this.step();
  }

  /** state = state * MUL + inc (mod 2^64). */
  private step(): void {
    const [mHi, mLo] = mul64(this.sHi, this.sLo, MUL_HI, MUL_LO);
    const lo = (mLo + this.iLo) >>> 0;
    const carry = lo < mLo ? 1 : 0;
    this.sHi = (mHi + this.iHi + carry) >>> 0;
    this.sLo = lo;
  }

  /** Next uniformly distributed u32. */
  nextU32(): number {
    const hi = this.sHi;
    const lo = this.sLo;
    this.step();
    // xorshifted = ((old >> 18) ^ old) >> 27, truncated to 32 bits
    const s18Hi = hi >>> 18;
    const s18Lo = ((lo >>> 18) | (hi << 14)) >>> 0;
    const xHi = (s18Hi ^ hi) >>> 0;
    const xLo = (s18Lo ^ lo) >>> 0;
    const xorshifted = ((xLo >>> 27) | (xHi << 5)) >>> 0;
    const rot = hi >>> 27; // old >> 59
    return ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
  }

  /** Uniform float in [0, 1) with 24 random bits (exact in f32). */
  nextFloat(): number {
    return (this.nextU32() >>> 8) * 2 ** -24;
  }

  /** Uniform integer in [0, bound), unbiased (pcg32_boundedrand). */
  nextBelow(bound: number): number {
    const threshold = ((0x100000000 - bound) >>> 0) % bound;
    for (;;) {
      const r = this.nextU32();
      if (r >= threshold) return r % bound;
    }
  }
}

/** Low 64 bits of (aHi:aLo) * (bHi:bLo), as [hi, lo] u32. */
export function mul64(aHi: number, aLo: number, bHi: number, bLo: number): [number, number] {
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const lo = ((p00 & 0xffff) | (mid << 16)) >>> 0;
  let hi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
  hi = (hi + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) >>> 0;
  return [hi, lo];
}
