// The training engine (llm.c style): kernels with explicit forward and backward, each with a CPU
// twin in src/ref/nn/. See README "Training engine" and the module headers.
export * from "./attention.js";
export * from "./block.js";
export * from "./core.js";
export * from "./layers.js";
export * from "./matmul.js";
export * from "./optim.js";
export * from "./params.js";
