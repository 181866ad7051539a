// The one tolerance table of the tests: how far a computation may be from its oracle (a CPU twin,
// a PyTorch fixture, the same run resumed), by precision and kind of operation. Absolute unless
// the name ends in Rel (relative to the reference's magnitude, as the test says). Every number is
// the bound its tests used before the table existed: tighten one freely, loosen one only with a
// measured reason in the commit, since it loosens every comparison of that kind.
export const TOL = {
  /** Bit-exact: copies, gathers, scatters, casts against the rounding twin. */
  exact: 0,

  /** float32 GPU kernels vs their CPU twins, by kind of operation. */
  f32: {
    elementwise: 1e-6,
    /** image stencils (resize, blur) */
    stencil: 2e-6,
    reduction: 2e-5,
    /** reduce.wgsl sum and sum of squares, relative to max(1, sum of squares) */
    reductionRel: 1e-6,
    /** scaled by sqrt(K) where the test says so */
    matmul: 1e-4,
    attention: 1e-4,
    training: 2e-4,
    /** the kernels' float32 erf vs float64 erf on [-8, 8] */
    erf: 1.5e-7,
    /** AdamW parameters after a few steps vs the float64 twin */
    adamw: 1e-6,
    /** global gradient norm vs the twin, relative */
    gradNormRel: 1e-3,
    /** a block trained for several steps vs the twin: final parameters, last input gradient */
    trainedParams: 2e-3,
    trainedGrads: 1e-3,
    /** dot products of unit descriptors (bf_match.wgsl) vs float64 accumulation */
    dot: 2e-6,
    /** Lowe's ratio from those dots */
    ratio: 1e-5,
  },

  /** f16 storage (f32 accumulation) vs the float64 twin on the unrounded f32 inputs. */
  f16: { elementwise: 2e-3, reduction: 5e-3, matmul: 2e-2, attention: 2e-2, training: 2e-2 },

  /** SIFT kernels vs the twins (src/ref/features/sift.ts). */
  sift: {
    /** Gaussian and DoG levels */
    level: 2e-5,
    /** one sift_blur pass */
    blur: 1e-6,
    px: 1e-3,
    scale: 1e-3,
    angleDeg: 1e-2,
    response: 1e-5,
    desc: 1e-4,
    /** | |descriptor| - 1 | */
    descNorm: 1e-4,
  },

  /** RANSAC hypotheses, GPU vs twin: homography entries relative to the largest one. */
  ransac: { hypothesisRel: 1e-3, fitRel: 1e-6 },

  /** The MIM models vs the PyTorch fixture (test/fixtures/mim) and vs each other. */
  model: {
    /** a loss vs torch's float32 loss, and GPU loss vs the CPU model's */
    loss: 1e-4,
    /** the CPU model's loss vs torch's float64 loss */
    lossF64: 1e-6,
    /** CPU model activations (latents, prediction) vs torch */
    cpuActivations: 2e-5,
    /** GPU prediction vs torch */
    gpuPred: 2e-4,
    /** two accumulated micro-steps vs twice one */
    accumulatedGrads: 1e-5,
    /** frozen encoder features, GPU vs CPU, relative */
    encoderRel: 1e-3,
    /** a resumed or repeated run's losses vs the uninterrupted run */
    rerunLoss: 1e-5,
  },

  /** Probe heads: the float32 CPU trainer vs the float64 twin, and the twin's gradient check. */
  head: {
    forward: 1e-5,
    backward: 2e-5,
    gradCheckRel: 1e-7,
    /** fine-tuning: float32 central difference of the whole loss along the gradient vs its norm, relative */
    finetuneDirectionalRel: 2e-2,
  },

  /** float64 twins vs central differences (max relative error). */
  f64: { gradCheck: 1e-6 },
} as const;
