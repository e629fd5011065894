/**
 * The fast path's kernels that need exp and log: softmax forward / backward, the softmax
 * cross-entropy passes (kernels/softmax.ts) and LRN forward / backward (kernels/lrn.ts),
 * with f32x4 SIMD. scripts/build-wasm.mjs compiles this file into the same module as
 * gemm.as; kernels/wasm/softmax.ts and lrn.ts copy the tensors in, call these, and copy
 * the results out. They compute what the gpu.js kernels of kernels/softmax.ts and lrn.ts
 * compute, to float32 accuracy rather than bit for bit: gpu.js's cpu mode evaluates
 * Math.exp / Math.pow in float64, WebAssembly has no vector exp or log, so expv and logv
 * below are polynomials on f32x4 (relative error a few 1e-7 over the ranges used here).
 * The log-sum-exp of a softmax row and the sums of products are kept in float64, so that
 * the cross-entropy's lse − x[label] does not lose the digits of a small loss.
 *
 * Addresses are bytes in the shared memory, counts are f32 elements. An element count that
 * is not a multiple of 4 ends with single lanes that go through the same vector code
 * (splat, compute, lane 0), so that every element is computed the same way.
 */

// ---------------------------------------------------------------------------------------
// exp and log on f32x4.

// ln 2 in two parts: n·LN2_HI is exact for |n| < 2^11, so r = x − n·ln 2 keeps its digits
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const LOG2E: f32 = 1.44269504088896341;

/**
 * e^x: x = n·ln 2 + r with n = round(x / ln 2), |r| ≤ ln2/2; e^r by its Taylor series to r⁷
 * (the next term is below 1.3e-8 of it), then times 2^n, built as 2^(n>>1)·2^(n − n>>1) so
 * that results near the float32 limits (subnormal, or above 2^127) need no special case.
 * x is clamped to [−104, 88.73]: below, e^x rounds to 0; above, to +∞. NaN stays NaN.
 */
// @ts-ignore: decorator
@inline function expv(x: v128): v128 {
  const xc = f32x4.min(f32x4.max(x, f32x4.splat(-104)), f32x4.splat(88.73));
  const nf = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(nf, f32x4.splat(LN2_HI))), f32x4.mul(nf, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(<f32>(1.0 / 5040));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 720)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 120)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  const n = i32x4.trunc_sat_f32x4_s(nf);
  const n1 = i32x4.shr_s(n, 1), n2 = i32x4.sub(n, n1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23), s2 = i32x4.shl(i32x4.add(n2, bias), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/**
 * ln x for x > 0 (normal floats): x = 2^e·m with m ∈ [√½, √2), ln m = 2·atanh(t),
 * t = (m − 1)/(m + 1) ∈ [−0.172, 0.172], by its series to t⁹ (the next term is below 1e-9).
 */
// @ts-ignore: decorator
@inline function logv(x: v128): v128 {
  const bits = i32x4.sub(x, i32x4.splat(0x3f3504f3)); // x / √½, so that the exponent splits at √½
  const e = i32x4.shr_s(bits, 23);
  const m = i32x4.add(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f3504f3)); // in [√½, √2)
  const one = f32x4.splat(1);
  const t = f32x4.div(f32x4.sub(m, one), f32x4.add(m, one));
  const t2 = f32x4.mul(t, t);
  let p = f32x4.splat(<f32>(1.0 / 9));
  p = f32x4.add(f32x4.mul(p, t2), f32x4.splat(<f32>(1.0 / 7)));
  p = f32x4.add(f32x4.mul(p, t2), f32x4.splat(<f32>(1.0 / 5)));
  p = f32x4.add(f32x4.mul(p, t2), f32x4.splat(<f32>(1.0 / 3)));
  p = f32x4.add(f32x4.mul(p, t2), one);
  const lnm = f32x4.mul(f32x4.add(t, t), p);
  const ef = f32x4.convert_i32x4_s(e);
  return f32x4.add(f32x4.add(f32x4.mul(ef, f32x4.splat(LN2_LO)), lnm), f32x4.mul(ef, f32x4.splat(LN2_HI)));
}

// @ts-ignore: decorator
@inline function lane(v: v128): f32 {
  return f32x4.extract_lane(v, 0);
}

// ---------------------------------------------------------------------------------------
// Softmax and cross-entropy over `rows` rows of K logits (row-major).

/** the row's log-sum-exp m + ln Σ exp(x − m) in float64, m its maximum */
function rowLse(x: usize, K: usize): f64 {
  let mv = f32x4.splat(-Infinity);
  let k: usize = 0;
  for (; k + 4 <= K; k += 4) mv = f32x4.max(mv, v128.load(x + k * 4));
  let m = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; k < K; k++) m = max<f32>(m, load<f32>(x + k * 4));
  const ms = f32x4.splat(m);
  let s = f64x2.splat(0);
  k = 0;
  for (; k + 4 <= K; k += 4) {
    const e = expv(f32x4.sub(v128.load(x + k * 4), ms));
    s = f64x2.add(s, f64x2.add(f64x2.promote_low_f32x4(e), f64x2.promote_low_f32x4(f32x4.shuffle(e, e, 2, 3, 2, 3))));
  }
  let total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; k < K; k++) total += <f64>lane(expv(f32x4.splat(load<f32>(x + k * 4) - m)));
  return <f64>m + Math.log(total);
}

/** y = exp(x − lse) per row */
export function softmaxForward(x: usize, y: usize, rows: usize, K: usize): void {
  for (let n: usize = 0; n < rows; n++) {
    const row = x + n * K * 4, out = y + n * K * 4;
    const lse = f32x4.splat(<f32>rowLse(row, K));
    let k: usize = 0;
    for (; k + 4 <= K; k += 4) v128.store(out + k * 4, expv(f32x4.sub(v128.load(row + k * 4), lse)));
    for (; k < K; k++) store<f32>(out + k * 4, lane(expv(f32x4.sub(f32x4.splat(load<f32>(row + k * 4)), lse))));
  }
}

/** dx = y · (dy − Σ dy·y) per row, the row's sum in float64 */
export function softmaxBackward(dy: usize, y: usize, dx: usize, rows: usize, K: usize): void {
  for (let n: usize = 0; n < rows; n++) {
    const at = n * K * 4;
    let s = f64x2.splat(0);
    let k: usize = 0;
    for (; k + 4 <= K; k += 4) {
      const p = f32x4.mul(v128.load(dy + at + k * 4), v128.load(y + at + k * 4));
      s = f64x2.add(s, f64x2.add(f64x2.promote_low_f32x4(p), f64x2.promote_low_f32x4(f32x4.shuffle(p, p, 2, 3, 2, 3))));
    }
    let dot = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (; k < K; k++) dot += <f64>load<f32>(dy + at + k * 4) * <f64>load<f32>(y + at + k * 4);
    const dv = f32x4.splat(<f32>dot);
    k = 0;
    for (; k + 4 <= K; k += 4) v128.store(dx + at + k * 4, f32x4.mul(v128.load(y + at + k * 4), f32x4.sub(v128.load(dy + at + k * 4), dv)));
    for (; k < K; k++) store<f32>(dx + at + k * 4, load<f32>(y + at + k * 4) * (load<f32>(dy + at + k * 4) - <f32>dot));
  }
}

/** out[n] = lse[n] − x[n, label[n]], in float64 then rounded (labels: integers as float32, checked by the op) */
export function crossEntropyRows(x: usize, labels: usize, out: usize, rows: usize, K: usize): void {
  for (let n: usize = 0; n < rows; n++) {
    const row = x + n * K * 4;
    const label = <usize>(<i32>load<f32>(labels + n * 4));
    store<f32>(out + n * 4, <f32>(rowLse(row, K) - <f64>load<f32>(row + label * 4)));
  }
}

/** out = s · (softmax(x) − onehot(label)) per row, s = g / batch (the op's mean over the batch) */
export function crossEntropyBackward(x: usize, labels: usize, s: f64, out: usize, rows: usize, K: usize): void {
  const sv = f32x4.splat(<f32>s);
  for (let n: usize = 0; n < rows; n++) {
    const row = x + n * K * 4, o = out + n * K * 4;
    const lse = f32x4.splat(<f32>rowLse(row, K));
    let k: usize = 0;
    for (; k + 4 <= K; k += 4) v128.store(o + k * 4, f32x4.mul(expv(f32x4.sub(v128.load(row + k * 4), lse)), sv));
    for (; k < K; k++) store<f32>(o + k * 4, lane(f32x4.mul(expv(f32x4.sub(f32x4.splat(load<f32>(row + k * 4)), lse)), sv)));
    // the one-hot term: y − 1 in float64, then scaled (y ≈ 1 keeps its small difference)
    const label = <usize>(<i32>load<f32>(labels + n * 4));
    const y = lane(expv(f32x4.sub(f32x4.splat(load<f32>(row + label * 4)), lse)));
    store<f32>(o + label * 4, <f32>((<f64>y - 1) * s));
  }
}

// ---------------------------------------------------------------------------------------
// LRN over images [C, HW] (NCHW), pixels [p0, p1) of each: s[c] = k + a·Σ_{j ∈ win(c)} x[j]²,
// win(c) = [c − lo, c + hi] ∩ [0, C), lo = ⌊n/2⌋, hi = ⌊(n − 1)/2⌋, a = α' (α or α/n).
// Pixels go in blocks of LRN_PIXELS (4 at a time, the last 1–3 singly), all channels of a
// block before the next, so that the window's planes stay in L1.

const LRN_PIXELS: usize = 64;

/** k + a·Σ_{j ∈ [c − lo, c + hi] ∩ [0, C)} x[j]² at the 4 pixels of byte offset `at` in plane 0 */
// @ts-ignore: decorator
@inline function windowScale(x: usize, at: usize, c: isize, C: isize, lo: isize, hi: isize, plane: usize, k: v128, a: v128): v128 {
  let sq = f32x4.splat(0);
  const j1 = min<isize>(C - 1, c + hi);
  for (let j = max<isize>(0, c - lo); j <= j1; j++) {
    const v = v128.load(x + <usize>j * plane + at);
    sq = f32x4.add(sq, f32x4.mul(v, v));
  }
  return f32x4.add(k, f32x4.mul(a, sq));
}

/** k + a·Σ x[j]² over the window at one pixel (byte offset `at` in plane 0), summed in the order of windowScale's lanes */
// @ts-ignore: decorator
@inline function windowScale1(x: usize, at: usize, c: isize, C: isize, lo: isize, hi: isize, plane: usize, k: f32, a: f32): f32 {
  let sq: f32 = 0;
  const j1 = min<isize>(C - 1, c + hi);
  for (let j = max<isize>(0, c - lo); j <= j1; j++) {
    const v = load<f32>(x + <usize>j * plane + at);
    sq += v * v;
  }
  return k + a * sq;
}

/** pixels [p0, p1) of each plane: `images` images of C planes of HW floats from x and y */
export function lrnForward(x: usize, y: usize, images: usize, C: usize, HW: usize, p0: usize, p1: usize, lo: usize, hi: usize,
  k: f32, a: f32, beta: f32): void {
  const kv = f32x4.splat(k), av = f32x4.splat(a), nb = f32x4.splat(-beta);
  const plane = HW * 4;
  for (let img: usize = 0; img < images; img++) {
    const xi = x + img * C * plane, yi = y + img * C * plane;
    for (let b0 = p0; b0 < p1; b0 += LRN_PIXELS) {
      const b1 = min<usize>(p1, b0 + LRN_PIXELS);
      for (let c: usize = 0; c < C; c++) {
        let p = b0;
        for (; p + 4 <= b1; p += 4) {
          const s = windowScale(xi, p * 4, <isize>c, <isize>C, <isize>lo, <isize>hi, plane, kv, av);
          v128.store(yi + c * plane + p * 4, f32x4.mul(v128.load(xi + c * plane + p * 4), expv(f32x4.mul(nb, logv(s)))));
        }
        for (; p < b1; p++) {
          const s = f32x4.splat(windowScale1(xi, p * 4, <isize>c, <isize>C, <isize>lo, <isize>hi, plane, k, a));
          store<f32>(yi + c * plane + p * 4, load<f32>(xi + c * plane + p * 4) * lane(expv(f32x4.mul(nb, logv(s)))));
        }
      }
    }
  }
}

/**
 * dx[c] = dy[c]·s[c]^−β − 2β·a·x[c]·Σ_{j : c ∈ win(j)} dy[j]·x[j]·s[j]^(−β−1), j ∈ [c − hi, c + lo].
 * Per block of pixels, a first sweep over the channels keeps s^−β and dy·x·s^(−β−1) in `work`
 * (2·C·LRN_PIXELS floats, the caller's, one per thread), a second sums the latter over the window.
 */
export function lrnBackward(dy: usize, x: usize, dx: usize, images: usize, C: usize, HW: usize, p0: usize, p1: usize, lo: usize, hi: usize,
  k: f32, a: f32, beta: f32, work: usize): void {
  const kv = f32x4.splat(k), av = f32x4.splat(a), nb = f32x4.splat(-beta);
  const coefS = <f32>(2 * <f64>beta * <f64>a), coef = f32x4.splat(coefS);
  const plane = HW * 4;
  const rowBytes = LRN_PIXELS * 4; // one channel's row in work
  const scaleAt = work, termAt = work + C * rowBytes;
  for (let img: usize = 0; img < images; img++) {
    const base = img * C * plane;
    const xi = x + base, dyi = dy + base, dxi = dx + base;
    for (let b0 = p0; b0 < p1; b0 += LRN_PIXELS) {
      const b1 = min<usize>(p1, b0 + LRN_PIXELS);
      for (let c: usize = 0; c < C; c++) {
        const w = c * rowBytes - b0 * 4, at = c * plane;
        let p = b0;
        for (; p + 4 <= b1; p += 4) {
          const s = windowScale(xi, p * 4, <isize>c, <isize>C, <isize>lo, <isize>hi, plane, kv, av);
          const r = expv(f32x4.mul(nb, logv(s))); // s^−β
          v128.store(scaleAt + w + p * 4, r);
          v128.store(termAt + w + p * 4, f32x4.div(f32x4.mul(f32x4.mul(v128.load(dyi + at + p * 4), v128.load(xi + at + p * 4)), r), s));
        }
        for (; p < b1; p++) {
          const s = f32x4.splat(windowScale1(xi, p * 4, <isize>c, <isize>C, <isize>lo, <isize>hi, plane, k, a));
          const r = expv(f32x4.mul(nb, logv(s)));
          store<f32>(scaleAt + w + p * 4, lane(r));
          store<f32>(termAt + w + p * 4, load<f32>(dyi + at + p * 4) * load<f32>(xi + at + p * 4) * lane(r) / lane(s));
        }
      }
      for (let c: usize = 0; c < C; c++) {
        const j0 = max<isize>(0, <isize>c - <isize>hi), j1 = min<isize>(<isize>C - 1, <isize>(c + lo));
        const w = c * rowBytes - b0 * 4, at = c * plane;
        let p = b0;
        for (; p + 4 <= b1; p += 4) {
          let acc = f32x4.splat(0);
          for (let j = j0; j <= j1; j++) acc = f32x4.add(acc, v128.load(termAt + <usize>j * rowBytes - b0 * 4 + p * 4));
          const g = f32x4.mul(v128.load(dyi + at + p * 4), v128.load(scaleAt + w + p * 4));
          v128.store(dxi + at + p * 4, f32x4.sub(g, f32x4.mul(coef, f32x4.mul(v128.load(xi + at + p * 4), acc))));
        }
        for (; p < b1; p++) {
          let acc: f32 = 0;
          for (let j = j0; j <= j1; j++) acc += load<f32>(termAt + <usize>j * rowBytes - b0 * 4 + p * 4);
          store<f32>(dxi + at + p * 4, load<f32>(dyi + at + p * 4) * load<f32>(scaleAt + w + p * 4) - coefS * (load<f32>(xi + at + p * 4) * acc));
        }
      }
    }
  }
}
