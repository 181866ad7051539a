enable f16;
// Batched matmul, A and B stored as f16, any shape and alignment, f32 accumulation:
// C[z] (M, N) (+)= A[z](M, K) @ B[z](K, N) (+ bias). Shapes and mapping: matmul_core.wgsl.
// Bindings: a (f16), b (f16), bias (f32), c (f32 out), params.

@group(0) @binding(0) var<storage, read> a: array<f16>;
@group(0) @binding(1) var<storage, read> b: array<f16>;

fn load_a(i: u32) -> f32 { return f32(a[i]); }
fn load_b4(i: u32) -> vec4f { return vec4f(f32(b[i]), f32(b[i + 1u]), f32(b[i + 2u]), f32(b[i + 3u])); }

//!include nn/matmul_core.wgsl
