// mimic-kit's public library API (what examples/ import).
// The API's types name WebGPU objects (GPUBuffer, GPUDevice): this directive stays in the emitted
// index.d.ts, so a consumer's type-check finds them (@webgpu/types is a dependency) without
// skipLibCheck or a "types" entry of its own.
/// <reference types="@webgpu/types" preserve="true" />

export {
  baselineRecipes,
  makeBaselines,
  makeRandomPairs,
  RANDOM_PAIRS_HASH,
  type RandomPairsConfig,
  randomPairsDefaults,
} from "./benchmark/baselines.js";
export {
  buildLeaderboard,
  type EntryResult,
  type Leaderboard,
  type LeaderboardRow,
  leaderboardJson,
  leaderboardMarkdown,
  rankByIntervals,
  type SeedScores,
} from "./benchmark/leaderboard.js";
export { BenchmarkInputError, type BenchmarkOptions, readDatasetInfo, runBenchmark } from "./benchmark/run.js";
export { type BenchmarkScale, benchmarkScales, getScale, type ScaleName, samplesSeen, scaleProblems } from "./benchmark/scales.js";
export type { Features, Frame, HomographyFit, Matches, PairRecord } from "./contracts.js";
export { type DoctorReport, doctor } from "./doctor.js";
export { type SiftConfig, siftPresets } from "./features/config.js";
export { scoreWarp, type WarpScore } from "./features/eval.js";
export {
  createSiftPlan,
  detectAndDescribe,
  detectAndDescribeBatch,
  encodeSift,
  type GpuFeatures,
  readCounts,
  readFeatures,
  type SiftFeatures,
  type SiftPlan,
  siftPlan,
} from "./features/sift.js";
export {
  type CorrespondenceConfig,
  correspondencePresets,
  correspondenceRecord,
  type InlierSupport,
  type PatchCorrespondence,
  patchCorrespondences,
  supportFilter,
} from "./geometry/correspondence.js";
export { cornerErrors, dltLeastSquares, invert3x3, refineReprojection } from "./geometry/homography.js";
export {
  fitHomography,
  type HomographyResult,
  matchedPoints,
  type RansacConfig,
  type RansacProblem,
  ransacBatch,
  ransacPresets,
  refineHomography,
} from "./geometry/ransac.js";
export { randomHomography, type SyntheticPair, syntheticPair } from "./geometry/synthetic.js";
export { homographyAtGrid, type TwoViewConfig, type TwoViewResult, twoView, twoViewBatch, twoViewPresets } from "./geometry/two_view.js";
export { drawTwoView } from "./geometry/viz.js";
export { createBuffer, params, readback, readF32, readU32, upload } from "./gpu/buffers.js";
export { describeAdapter, type Gpu, getGpu } from "./gpu/device.js";
export { dispatch, pipeline, shaderSource } from "./gpu/kernel.js";
export { encodeJpeg, readGray, readRgb, writeJpeg, writePng } from "./image/io.js";
export { downsample2, gaussianBlur, resizeBilinear, rgbToGray } from "./image/kernels.js";
export {
  type MatchConfig,
  matchFeatures,
  matchPairs,
  matchPresets,
  type NearestNeighbours,
  nearestNeighbours,
  packFeatures,
  selectMatches,
} from "./match/matcher.js";
export { configHash, type MineConfig, minePresets, readMineConfig } from "./mine/config.js";
export { mergeShards } from "./mine/merge.js";
export { type MineOptions, type MineSummary, minePairs } from "./mine/pipeline.js";
export { type MineProgress, RunProgress } from "./mine/progress.js";
export { describeBatch, loadWorkingFrame, stageConfigs, type Verdict, verifyPairs } from "./mine/verify.js";
export {
  type CheckpointSidecar,
  checkpointTensorsPath,
  decoderMayBeMissing,
  type LoadedCheckpoint,
  loadCheckpoint,
  loadParams,
  loadParamsInto,
  readSidecar,
  resolveCheckpointPath,
  saveCheckpoint,
} from "./models/checkpoint.js";
export {
  type ArchName,
  archPresets,
  gridSize,
  type ModelConfig,
  modelConfig,
  numKeep,
  numPatches,
  type Objective,
  patchDim,
  type VitArch,
} from "./models/config.js";
export { explicitMasking, type Masking, maskedIndices, noMasking, randomMasking } from "./models/masking.js";
export { GpuEncoder, MimGpuModel, MimPlan, mimGpuParams } from "./models/mim_gpu.js";
export { countParams, initParams, type ParamEntry, type ParamLayout, ParamStore, paramLayout, paramShapes } from "./models/params.js";
export { parseSafetensors, readSafetensors, Safetensors, serializeSafetensors, writeSafetensors } from "./models/safetensors.js";
/** The training engine (layers with explicit forward/backward, AdamW): `nn.matmulCall`, `nn.Block`, ... */
export * as nn from "./nn/index.js";
export { Pcg32 } from "./prng.js";
export { CpuHeadTrainer, type HeadTrainer, type ProbeTargets } from "./probe/cpu_trainer.js";
export {
  type LoadedSample,
  loadSample,
  openProbeDataset,
  type ProbeDataset,
  type ProbeSample,
  type ProbeTask,
  readPairList,
} from "./probe/datasets.js";
export { checkpointEncoder, type EncoderDevice, encoderOn, positionEncoder, randomEncoder, referenceEncoder } from "./probe/encoders.js";
export { gpuEncoder } from "./probe/gpu_encoder.js";
export { type HeadConfig, HeadParams, headPresets, initHeadParams, makeHeadConfig } from "./probe/heads.js";
export {
  DepthAccumulator,
  type DepthEvalConfig,
  type DepthMetrics,
  depthEvalPresets,
  depthMetrics,
  EIGEN_CROP,
  reduceZeroLabel,
  SegAccumulator,
  type SegEvalConfig,
  type SegMetrics,
  segEvalPresets,
  segMetrics,
} from "./probe/metrics.js";
export { type FrozenEncoder, formatMetrics, type ProbeResult, type ProbeTrainConfig, probePresets, runProbe } from "./probe/pipeline.js";
export {
  type BootstrapInfo,
  bootstrapIntervals,
  compareProbeRuns,
  type Interval,
  metricIntervals,
  pairedBootstrap,
  percentileInterval,
  seedInterval,
} from "./probe/stats.js";
export { predictionGrid, writePredictionGrid } from "./probe/visualize.js";
export { buildReport, type Report, type ReportOptions, type ReportSection, writeReport } from "./report/report.js";
export {
  DEFAULT_TRAJECTORY,
  type Intrinsics,
  intrinsicsFromFov,
  makeTrajectory,
  type Trajectory,
  type TrajectoryConfig,
  type TrajectoryKind,
} from "./synth/camera.js";
export { CLASS, SYNTH_CLASSES, type SynthClass } from "./synth/classes.js";
export { openSynthScene, type PosesFile, type SynthConfig, type SynthSummary, synthesize } from "./synth/dataset.js";
export { type EvalMiningResult, evalMining } from "./synth/eval.js";
export { loadSynthPresets, type SynthPreset, synthPreset } from "./synth/presets.js";
export {
  type CameraView,
  type RenderedFrame,
  type RenderOptions,
  SceneRenderer,
} from "./synth/render.js";
export { buildMesh, DEFAULT_SCENE, generateScene, type Scene, type SceneConfig, type SceneMesh } from "./synth/scene.js";
export {
  cropRegion,
  DEFAULT_TRUTH,
  type PatchGrid,
  reprojectPixel,
  type TrueCorrespondence,
  type TruthOptions,
  type TruthView,
  trueCorrespondence,
} from "./synth/truth.js";
export { FrameLoader, IMAGENET_MEAN, IMAGENET_STD, loadImage, type MimBatch, PairLoader, readPairsCsv } from "./train/data.js";
export { GpuMimTrainer, type GpuTrainerOptions, gpuForward } from "./train/gpu_trainer.js";
export { type MimTrainer, type StepInfo, type TrainOptions, type TrainResult, train } from "./train/loop.js";
export { cpuForward, type MimForward, reconstruct, reconstructionPanels, stepMasking } from "./train/reconstruct.js";
export {
  type CropFractions,
  type DecodeOptions,
  type DecodeStats,
  decodeFrames,
  decodePresets,
  type FrameStream,
  type ResizeMode,
  type Sampling,
  type VideoWarning,
} from "./video/decode.js";
export { resolveFfmpeg } from "./video/ffmpeg.js";
export {
  forEachVideo,
  listVideos,
  type PerVideoResult,
  VIDEO_EXTENSIONS,
  type VideoEntry,
  type VideoList,
  videoIdOf,
} from "./video/folder.js";
export { probeVideo, VideoError, type VideoErrorCode, type VideoInfo } from "./video/probe.js";
export {
  decodeImage,
  decodeSequence,
  type FrameSequence,
  IMAGE_EXTENSIONS,
  naturalCompare,
  sampleSequence,
  sequenceOf,
  sequenceTimes,
} from "./video/sequence.js";
