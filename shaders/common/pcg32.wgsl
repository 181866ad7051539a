// PCG32 (XSH-RR output, 64-bit LCG state) with the 64-bit state held as two u32 halves.
// Twin: src/ref/prng.ts (class Pcg32) performs exactly the same integer operations, so a CPU
// reference reproduces every random number a kernel draws. Seed and stream are u32.
// Include with `//!include common/pcg32.wgsl`.

struct Pcg32 { s_hi: u32, s_lo: u32, i_hi: u32, i_lo: u32 }

// Low 64 bits of (a_hi:a_lo) * (b_hi:b_lo), as vec2(hi, lo).
fn pcg_mul64(a_hi: u32, a_lo: u32, b_hi: u32, b_lo: u32) -> vec2<u32> {
  let a0 = a_lo & 0xffffu;
  let a1 = a_lo >> 16u;
  let b0 = b_lo & 0xffffu;
  let b1 = b_lo >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let lo = (p00 & 0xffffu) | (mid << 16u);
  var hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  hi = hi + a_hi * b_lo + a_lo * b_hi;
  return vec2<u32>(hi, lo);
}

fn pcg_step(r: ptr<function, Pcg32>) {
  let m = pcg_mul64((*r).s_hi, (*r).s_lo, 0x5851f42du, 0x4c957f2du);
  let lo = m.y + (*r).i_lo;
  let carry = select(0u, 1u, lo < m.y);
  (*r).s_hi = m.x + (*r).i_hi + carry;
  (*r).s_lo = lo;
}

fn pcg_new(seed: u32, stream: u32) -> Pcg32 {
  var r = Pcg32(0u, 0u, stream >> 31u, (stream << 1u) | 1u);
  pcg_step(&r);
  let lo = r.s_lo + seed;
  r.s_hi = r.s_hi + select(0u, 1u, lo < r.s_lo);
  r.s_lo = lo;
  pcg_step(&r);
  return r;
}

fn pcg_u32(r: ptr<function, Pcg32>) -> u32 {
  let hi = (*r).s_hi;
  let lo = (*r).s_lo;
  pcg_step(r);
  let x_hi = (hi >> 18u) ^ hi;
  let x_lo = ((lo >> 18u) | (hi << 14u)) ^ lo;
  let xorshifted = (x_lo >> 27u) | (x_hi << 5u);
  let rot = hi >> 27u;
  return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

// Uniform float in [0, 1) with 24 random bits.
fn pcg_float(r: ptr<function, Pcg32>) -> f32 {
  return f32(pcg_u32(r) >> 8u) * (1.0 / 16777216.0);
}

// Uniform integer in [0, bound), unbiased.
fn pcg_below(r: ptr<function, Pcg32>, bound: u32) -> u32 {
  let threshold = (0u - bound) % bound;
  loop {
    let x = pcg_u32(r);
    if (x >= threshold) { return x % bound; }
  }
}
