// OpenCV's fastAtan2: 7th-order odd polynomial, degrees in [0, 360), error ~0.01 deg. Same f32 operations as
// fastAtan2 in src/ref/features/sift.ts, so kernels and twins bin gradients identically.
fn fast_atan2(y: f32, x: f32) -> f32 {
  let p1 = 57.2836227;
  let p3 = -18.6674461;
  let p5 = 8.91400051;
  let p7 = -2.53972459;
  let ax = abs(x);
  let ay = abs(y);
  var a: f32;
  if (ax >= ay) {
    let c = ay / (ax + 2.220446049250313e-16);
    let c2 = c * c;
    a = (((p7 * c2 + p5) * c2 + p3) * c2 + p1) * c;
  } else {
    let c = ax / (ay + 2.220446049250313e-16);
    let c2 = c * c;
    a = 90.0 - (((p7 * c2 + p5) * c2 + p3) * c2 + p1) * c;
  }
  if (x < 0.0) { a = 180.0 - a; }
  if (y < 0.0) { a = 360.0 - a; }
  return a;
}
