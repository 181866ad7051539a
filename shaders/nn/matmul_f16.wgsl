enable f16;
// Batched matmul with A and B stored as f16 (half the memory traffic), accumulated in f32:
// C[z] (M, N) (+)= A[z](M, K) @ B[z](K, N) (+ bias), C and bias f32. B read as vec4<f16>: needs
// ldb, B's offsets and N % 4 == 0 (else matmul_f16_scalar.wgsl). Shapes and mapping:
// matmul_core.wgsl. Bindings: a (f16), b (vec4<f16>), bias (f32), c (f32 out), params.

@group(0) @binding(0) var<storage, read> a: array<f16>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f16>>;

fn load_a(i: u32) -> f32 { return f32(a[i]); }
fn load_b4(i: u32) -> vec4f { return vec4f(b[i / 4u]); }

//!include nn/matmul_core.wgsl
