// Typed model configs with named presets for the masked-image-modeling models (MAE and CroCo as
// MIMIC builds them in its models_multiviewmae.py: a ViT encoder, a light decoder, a linear head to
// pixels). An architecture (`VitArch`) plus an objective makes a `ModelConfig`.

/** The ViT encoder + MIM decoder architecture (shapes only; no training choices). */
export interface VitArch {
  /** Input image side in pixels (square images, H = W = imgSize). */
  imgSize: number;
  /** Patch side in pixels; imgSize / patchSize patches per side. */
  patchSize: number;
  /** Input channels (RGB). */
  inChans: 3;
  /** Encoder width D (embedding dimension). */
  width: number;
  /** Encoder transformer blocks. */
  depth: number;
  /** Encoder attention heads (D divisible by heads). */
  heads: number;
  /** Decoder width Dd (decoder_embed maps D -> Dd). */
  decoderWidth: number;
  /** Decoder transformer blocks. */
  decoderDepth: number;
  /** Decoder attention heads (Dd divisible by decoderHeads). */
  decoderHeads: number;
  /** MLP hidden width = mlpRatio * width (encoder and decoder, as in MAE). */
  mlpRatio: number;
  /** LayerNorm epsilon (MAE/MIMIC: 1e-6). */
  lnEps: number;
}

/** Pretraining objective: CroCo cross-view completion (pairs) or MAE single-view (frames). */
export type Objective = "croco" | "mae";

/** A complete model config: architecture + objective. */
export interface ModelConfig extends VitArch {
  /** Preset name this config was made from ("custom" when built by hand). */
  name: string;
  /** 'croco': view 1 masked, view 2 unmasked, cross-attention decoder (decoder_blocks_croco);
   *  'mae': one view masked, self-attention decoder (decoder_blocks). */
  objective: Objective;
  /** Fraction of view-1 patches removed (CroCo/MIMIC: 0.9; MAE: 0.75). */
  maskRatio: number;
  /** Loss target = per-patch normalised pixels (MAE's norm_pix_loss; MIMIC's default is off). */
  normPixLoss: boolean;
}

/** Named architecture presets. */
export const archPresets = {
  /** For CPUs (lavapipe): 112x112 with 8 px patches keeps the 14x14 grid of the 224/16 models, so
   *  mined correspondences (patch indices) mean the same thing. Decoder heads: 4 (head dim 24). */
  nano: {
    imgSize: 112,
    patchSize: 8,
    inChans: 3,
    width: 128,
    depth: 4,
    heads: 4,
    decoderWidth: 96,
    decoderDepth: 2,
    decoderHeads: 4,
    mlpRatio: 4,
    lnEps: 1e-6,
  },
  /** ViT-Ti/16 encoder (DeiT-tiny). Decoder (our choice): 256 wide, 4 blocks, 8 heads. */
  tiny: {
    imgSize: 224,
    patchSize: 16,
    inChans: 3,
    width: 192,
    depth: 12,
    heads: 3,
    decoderWidth: 256,
    decoderDepth: 4,
    decoderHeads: 8,
    mlpRatio: 4,
    lnEps: 1e-6,
  },
  /** ViT-S/16 encoder (DeiT-small). Decoder (our choice): 384 wide, 6 blocks, 12 heads. */
  small: {
    imgSize: 224,
    patchSize: 16,
    inChans: 3,
    width: 384,
    depth: 12,
    heads: 6,
    decoderWidth: 384,
    decoderDepth: 6,
    decoderHeads: 12,
    mlpRatio: 4,
    lnEps: 1e-6,
  },
  /** MIMIC's mae_vit_base_patch16_dec512d8b: ViT-B/16, decoder 512 wide, 8 blocks, 16 heads. */
  base: {
    imgSize: 224,
    patchSize: 16,
    inChans: 3,
    width: 768,
    depth: 12,
    heads: 12,
    decoderWidth: 512,
    decoderDepth: 8,
    decoderHeads: 16,
    mlpRatio: 4,
    lnEps: 1e-6,
  },
} as const satisfies Record<string, VitArch>;

export type ArchName = keyof typeof archPresets;

/** Objective defaults (MIMIC's main_pretrain.py: multiview_mask_ratio 0.9, singleview 0.75). */
export const objectiveDefaults: Record<Objective, { maskRatio: number }> = {
  croco: { maskRatio: 0.9 },
  mae: { maskRatio: 0.75 },
};

/** Build a model config from a preset (or an explicit architecture) and an objective. */
export function modelConfig(
  arch: ArchName | VitArch,
  objective: Objective = "croco",
  overrides: Partial<Pick<ModelConfig, "maskRatio" | "normPixLoss">> = {},
): ModelConfig {
  let a: VitArch;
  let name: string;
  if (typeof arch === "string") {
    if (!(arch in archPresets)) throw new Error(`unknown model preset '${arch}'; choose one of ${Object.keys(archPresets).join(", ")}`);
    a = archPresets[arch];
    name = arch;
  } else {
    a = arch;
    name = "custom";
  }
  const cfg: ModelConfig = {
    name,
    ...a,
    objective,
    maskRatio: overrides.maskRatio ?? objectiveDefaults[objective].maskRatio,
    normPixLoss: overrides.normPixLoss ?? false,
  };
  validateConfig(cfg);
  return cfg;
}

/** Patches per side (imgSize / patchSize). */
export function gridSize(c: VitArch): number {
  return c.imgSize / c.patchSize;
}

/** Number of patches L. */
export function numPatches(c: VitArch): number {
  return gridSize(c) ** 2;
}

/** Pixels per patch p*p*3 (the decoder_pred output width). */
export function patchDim(c: VitArch): number {
  return c.patchSize * c.patchSize * c.inChans;
}

/** Patches kept (visible) per sample for a mask ratio, exactly as MAE: int(L * (1 - ratio)). */
export function numKeep(L: number, maskRatio: number): number {
  return Math.trunc(L * (1 - maskRatio));
}

/** Throw a clear error for inconsistent configs. */
export function validateConfig(c: ModelConfig): void {
  const bad: string[] = [];
  const posInt = (k: keyof ModelConfig) => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v <= 0) bad.push(`${k} must be a positive integer (got ${v})`);
  };
  for (const k of ["imgSize", "patchSize", "width", "depth", "heads", "decoderWidth", "decoderDepth", "decoderHeads"] as const) posInt(k);
  // Sane bounds, checked before any layout is built: a config read from a file (a checkpoint
  // sidecar) must not make us allocate for minutes ("depth": 1e9) or build absurd arrays.
  const most = (k: keyof ModelConfig, max: number) => {
    if ((c[k] as number) > max) bad.push(`${k} ${c[k]} is above ${max}`);
  };
  most("imgSize", 4096);
  most("patchSize", 256);
  most("width", 8192);
  most("decoderWidth", 8192);
  most("depth", 256);
  most("decoderDepth", 256);
  most("heads", 256);
  most("decoderHeads", 256);
  most("mlpRatio", 64);
  if (c.imgSize > 0 && c.patchSize > 0 && (c.imgSize / c.patchSize) ** 2 > 65536)
    bad.push(`imgSize ${c.imgSize} / patchSize ${c.patchSize} gives more than 65536 patches`);
  if (c.inChans !== 3) bad.push(`inChans must be 3 (got ${c.inChans})`);
  if (c.imgSize % c.patchSize !== 0) bad.push(`imgSize ${c.imgSize} must be a multiple of patchSize ${c.patchSize}`);
  if (c.width % c.heads !== 0) bad.push(`width ${c.width} must be divisible by heads ${c.heads}`);
  if (c.decoderWidth % c.decoderHeads !== 0) bad.push(`decoderWidth ${c.decoderWidth} must be divisible by decoderHeads ${c.decoderHeads}`);
  // 2D sin-cos position embeddings split the width in 4 (sin/cos x row/column).
  if (c.width % 4 !== 0) bad.push(`width ${c.width} must be divisible by 4 (2D sin-cos position embedding)`);
  if (c.decoderWidth % 4 !== 0) bad.push(`decoderWidth ${c.decoderWidth} must be divisible by 4 (2D sin-cos position embedding)`);
  if (!(c.mlpRatio > 0) || !Number.isInteger(c.width * c.mlpRatio)) bad.push(`mlpRatio ${c.mlpRatio} must give an integer hidden width`);
  if (c.objective !== "croco" && c.objective !== "mae") bad.push(`objective must be 'croco' or 'mae' (got ${c.objective})`);
  if (!(c.maskRatio >= 0 && c.maskRatio < 1)) bad.push(`maskRatio must be in [0, 1) (got ${c.maskRatio})`);
  else if (numKeep(numPatches(c), c.maskRatio) < 1 && c.imgSize % c.patchSize === 0)
    bad.push(`maskRatio ${c.maskRatio} keeps no patch of ${numPatches(c)}`);
  if (!(c.lnEps > 0)) bad.push(`lnEps must be > 0 (got ${c.lnEps})`);
  if (bad.length) throw new Error(`invalid model config '${c.name}':\n  ${bad.join("\n  ")}`);
}
