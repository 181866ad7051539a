// Batched matmul, B read as vec4: C[z] (M, N) (+)= A[z](M, K) @ B[z](K, N) (+ bias).
// Needs ldb, B's batch strides and N % 4 == 0 (so every vec4 of B is aligned); otherwise the host
// uses matmul_scalar.wgsl (same body, B read as four f32). Shapes and mapping: matmul_core.wgsl.
// Bindings: a (f32), b (vec4), bias (N) (unused unless flags bit 1), c (out), params.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;

fn load_b4(i: u32) -> vec4f { return b[i / 4u]; }
fn load_a(i: u32) -> f32 { return a[i]; }

//!include nn/matmul_core.wgsl
