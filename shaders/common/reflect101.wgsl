// Reflect-101 index into [0, n) (OpenCV's BORDER_REFLECT_101: ... 2 1 | 0 1 2 ... n-1 | n-2 ...).
// CPU twin: reflect101 in src/ref/image.ts.
fn reflect101(i: i32, n: i32) -> i32 {
  if (n == 1) { return 0; }
  var j = i;
  loop {
    if (j >= 0 && j < n) { break; }
    if (j < 0) { j = -j; }
    if (j >= n) { j = 2 * n - 2 - j; }
  }
  return j;
}
