/**
 * Matrix-vector products for fully connected layers at small batches, in AssemblyScript
 * compiled to WebAssembly with 128-bit SIMD (built with gemm.as into one module by
 * scripts/build-wasm.mjs; kernels/wasm/linear.ts drives them on the threads).
 *
 * At batch 1 (and up to 4) a linear layer's forward is memory-bound: FC6 of VGG reads 411 MB
 * of weights for 0.2 GFLOP. The GEMM would pack (transpose-copy) every weight row first, so
 * these kernels stream the rows of w straight from memory once, each f32x4 of w used for
 * every row of x, and keep x (at most 4 rows of 25088 floats: 400 KB, in L2) re-read.
 *
 * gemvStream, one row of x: y[o] += Σ_i x[i]·w[o·K + i] for o < M, eight rows of w at a time,
 * one f32x4 of each per step: several concurrent streams keep more cache-line misses in
 * flight. On FC6, on a busy 2-core host, one row at a time (one stream) ran at 8.5 GB/s, two
 * rows at 11–12, four at 13, eight at 16, a plain streaming sum at 16–20 (medians of 5–7
 * alternating rounds). Each w load is used at once, so eight accumulators + x + the loads
 * fit V8's ~15 vector registers.
 *
 * gemvBatch, 2 to 4 rows of x [N × K] (row stride K): y[n·ldy + o] += Σ_i x[n·K + i]·w[o·K + i],
 * two rows of w by four of x, or four rows of w by two of x, at a time (8 accumulators +
 * 6 loads), then one row of x by gemvStream; w is read once per four rows of x.
 *
 * Addresses are bytes, sizes floats. Each dot product sums in float32, per f32x4 lane, CHUNK
 * floats at a time into a running total, then the lanes, then the scalar tail: without the
 * chunks, K = 70001 gave 3.2e-6 normalized error against float64 (the GEMM, whose K-blocks
 * do the same, 7.4e-7).
 */

/**
 * Floats summed per lane before the partial sum joins the running total: float32 error grows
 * with the length of a running sum, and FC6's rows are 25088 long (6272 terms a lane).
 */
const CHUNK: usize = 512;

// @ts-ignore: decorator
@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** the sum of a's four lanes */
// @ts-ignore: decorator
@inline function lanes(a: v128): f32 {
  return (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
}

/** adds to *yo the partial sum s plus the scalar tail from..K of the dot product of row wr with x */
// @ts-ignore: decorator
@inline function finish(s: f32, wr: usize, from: usize, K: usize, x: usize, yo: usize): void {
  for (let j = from; j < K; j++) s += load<f32>(wr + j * 4) * load<f32>(x + j * 4);
  store<f32>(yo, load<f32>(yo) + s);
}

/** y[o] += x·w[o] for one row of w */
function gemvRow(K: usize, x: usize, wo: usize, yo: usize): void {
  const K4 = K & ~3;
  let t = f32x4.splat(0);
  let i: usize = 0;
  while (i < K4) {
    const end = min(i + CHUNK, K4);
    let a0 = f32x4.splat(0), a1 = a0;
    for (; i + 8 <= end; i += 8) {
      a0 = fma(v128.load(wo + i * 4), v128.load(x + i * 4), a0);
      a1 = fma(v128.load(wo + i * 4, 16), v128.load(x + i * 4, 16), a1);
    }
    for (; i < end; i += 4) a0 = fma(v128.load(wo + i * 4), v128.load(x + i * 4), a0);
    t = f32x4.add(t, f32x4.add(a0, a1));
  }
  finish(lanes(t), wo, i, K, x, yo);
}

/** y[o] += Σ_i x[i]·w[o·K + i] for o < M (see the header) */
export function gemvStream(M: usize, K: usize, x: usize, w: usize, y: usize): void {
  const row = K * 4;
  let o: usize = 0;
  for (; o + 8 <= M; o += 8) {
    const w0 = w + o * row;
    let t0 = f32x4.splat(0), t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0, t6 = t0, t7 = t0;
    const K4 = K & ~3;
    let i: usize = 0;
    while (i < K4) {
      const end = min(i + CHUNK, K4);
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
      for (; i < end; i += 4) {
        const at = w0 + i * 4;
        const xv = v128.load(x + i * 4);
        a0 = fma(v128.load(at), xv, a0); a1 = fma(v128.load(at + row), xv, a1);
        a2 = fma(v128.load(at + 2 * row), xv, a2); a3 = fma(v128.load(at + 3 * row), xv, a3);
        a4 = fma(v128.load(at + 4 * row), xv, a4); a5 = fma(v128.load(at + 5 * row), xv, a5);
        a6 = fma(v128.load(at + 6 * row), xv, a6); a7 = fma(v128.load(at + 7 * row), xv, a7);
      }
      t0 = f32x4.add(t0, a0); t1 = f32x4.add(t1, a1); t2 = f32x4.add(t2, a2); t3 = f32x4.add(t3, a3);
      t4 = f32x4.add(t4, a4); t5 = f32x4.add(t5, a5); t6 = f32x4.add(t6, a6); t7 = f32x4.add(t7, a7);
    }
    const yo = y + o * 4;
    finish(lanes(t0), w0, i, K, x, yo); finish(lanes(t1), w0 + row, i, K, x, yo + 4);
    finish(lanes(t2), w0 + 2 * row, i, K, x, yo + 8); finish(lanes(t3), w0 + 3 * row, i, K, x, yo + 12);
    finish(lanes(t4), w0 + 4 * row, i, K, x, yo + 16); finish(lanes(t5), w0 + 5 * row, i, K, x, yo + 20);
    finish(lanes(t6), w0 + 6 * row, i, K, x, yo + 24); finish(lanes(t7), w0 + 7 * row, i, K, x, yo + 28);
  }
  for (; o < M; o++) gemvRow(K, x, w + o * row, y + o * 4);
}

/** two rows of w (w0, w0 + row) by four rows of x: y rows at stride ldy floats */
function gemvTwoByFour(K: usize, x: usize, w0: usize, yo: usize, ldy: usize): void {
  const row = K * 4, ys = ldy * 4;
  let p0 = f32x4.splat(0), p1 = p0, p2 = p0, p3 = p0, q0 = p0, q1 = p0, q2 = p0, q3 = p0;
  const K4 = K & ~3;
  let i: usize = 0;
  while (i < K4) {
    const end = min(i + CHUNK, K4);
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (; i < end; i += 4) {
      const at = i * 4;
      const u = v128.load(w0 + at), v = v128.load(w0 + row + at);
      const x0 = v128.load(x + at), x1 = v128.load(x + row + at), x2 = v128.load(x + 2 * row + at), x3 = v128.load(x + 3 * row + at);
      a0 = fma(u, x0, a0); a1 = fma(u, x1, a1); a2 = fma(u, x2, a2); a3 = fma(u, x3, a3);
      b0 = fma(v, x0, b0); b1 = fma(v, x1, b1); b2 = fma(v, x2, b2); b3 = fma(v, x3, b3);
    }
    p0 = f32x4.add(p0, a0); p1 = f32x4.add(p1, a1); p2 = f32x4.add(p2, a2); p3 = f32x4.add(p3, a3);
    q0 = f32x4.add(q0, b0); q1 = f32x4.add(q1, b1); q2 = f32x4.add(q2, b2); q3 = f32x4.add(q3, b3);
  }
  finish(lanes(p0), w0, i, K, x, yo); finish(lanes(q0), w0 + row, i, K, x, yo + 4);
  finish(lanes(p1), w0, i, K, x + row, yo + ys); finish(lanes(q1), w0 + row, i, K, x + row, yo + ys + 4);
  finish(lanes(p2), w0, i, K, x + 2 * row, yo + 2 * ys); finish(lanes(q2), w0 + row, i, K, x + 2 * row, yo + 2 * ys + 4);
  finish(lanes(p3), w0, i, K, x + 3 * row, yo + 3 * ys); finish(lanes(q3), w0 + row, i, K, x + 3 * row, yo + 3 * ys + 4);
}

/** four rows of w by two rows of x */
function gemvFourByTwo(K: usize, x: usize, w0: usize, yo: usize, ldy: usize): void {
  const row = K * 4, ys = ldy * 4;
  let p0 = f32x4.splat(0), p1 = p0, p2 = p0, p3 = p0, q0 = p0, q1 = p0, q2 = p0, q3 = p0;
  const K4 = K & ~3;
  let i: usize = 0;
  while (i < K4) {
    const end = min(i + CHUNK, K4);
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (; i < end; i += 4) {
      const at = w0 + i * 4;
      const x0 = v128.load(x + i * 4), x1 = v128.load(x + row + i * 4);
      const u0 = v128.load(at), u1 = v128.load(at + row), u2 = v128.load(at + 2 * row), u3 = v128.load(at + 3 * row);
      a0 = fma(u0, x0, a0); a1 = fma(u1, x0, a1); a2 = fma(u2, x0, a2); a3 = fma(u3, x0, a3);
      b0 = fma(u0, x1, b0); b1 = fma(u1, x1, b1); b2 = fma(u2, x1, b2); b3 = fma(u3, x1, b3);
    }
    p0 = f32x4.add(p0, a0); p1 = f32x4.add(p1, a1); p2 = f32x4.add(p2, a2); p3 = f32x4.add(p3, a3);
    q0 = f32x4.add(q0, b0); q1 = f32x4.add(q1, b1); q2 = f32x4.add(q2, b2); q3 = f32x4.add(q3, b3);
  }
  finish(lanes(p0), w0, i, K, x, yo); finish(lanes(p1), w0 + row, i, K, x, yo + 4);
  finish(lanes(p2), w0 + 2 * row, i, K, x, yo + 8); finish(lanes(p3), w0 + 3 * row, i, K, x, yo + 12);
  finish(lanes(q0), w0, i, K, x + row, yo + ys); finish(lanes(q1), w0 + row, i, K, x + row, yo + ys + 4);
  finish(lanes(q2), w0 + 2 * row, i, K, x + row, yo + ys + 8); finish(lanes(q3), w0 + 3 * row, i, K, x + row, yo + ys + 12);
}

/** y[n·ldy + o] += Σ_i x[n·K + i]·w[o·K + i] for n < N, o < M: x rows four, then two, then one at a time (see the header) */
export function gemvBatch(N: usize, M: usize, K: usize, x: usize, w: usize, y: usize, ldy: usize): void {
  const row = K * 4;
  let n: usize = 0;
  for (; n + 4 <= N; n += 4) {
    const xn = x + n * row, yn = y + n * ldy * 4;
    let o: usize = 0;
    for (; o + 2 <= M; o += 2) gemvTwoByFour(K, xn, w + o * row, yn + o * 4, ldy);
    for (; o < M; o++) for (let r: usize = 0; r < 4; r++) gemvRow(K, xn + r * row, w + o * row, yn + (r * ldy + o) * 4);
  }
  for (; n + 2 <= N; n += 2) {
    const xn = x + n * row, yn = y + n * ldy * 4;
    let o: usize = 0;
    for (; o + 4 <= M; o += 4) gemvFourByTwo(K, xn, w + o * row, yn + o * 4, ldy);
    for (; o < M; o++) for (let r: usize = 0; r < 2; r++) gemvRow(K, xn + r * row, w + o * row, yn + (r * ldy + o) * 4);
  }
  if (n < N) gemvStream(M, K, x + n * row, w, y + n * ldy * 4);
}
