// Batched matmul for any shape and alignment, B read as four f32 per vec4:
// C[z] (M, N) (+)= A[z](M, K) @ B[z](K, N) (+ bias). Shapes and mapping: matmul_core.wgsl.
// Bindings: a (f32), b (f32), bias (N) (unused unless flags bit 1), c (out), params.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;

fn load_b4(i: u32) -> vec4f { return vec4f(b[i], b[i + 1u], b[i + 2u], b[i + 3u]); }
fn load_a(i: u32) -> f32 { return a[i]; }

//!include nn/matmul_core.wgsl
