/**
 * The memory-bound kernels of the fast path: ReLU, 2×2 max-pooling, add / mul / scale /
 * sum, the SGD momentum update and dropout, with f32x4 SIMD and a scalar loop for the
 * last elements. scripts/build-wasm.mjs compiles this file into the same module as
 * gemm.as; kernels/wasm/pointwise.ts copies blocks of the tensors in, calls these, and
 * copies the results out. Each computes exactly what the gpu.js kernel of the same name
 * computes (kernels/relu.ts, maxpool2d.ts, elementwise.ts, dropout.ts):
 *  - relu, max-pool, add and mul are exact in float32, so the results are bit for bit
 *    the same (a float32 sum or product rounded once equals the float64 one rounded);
 *  - scale, dropout and the SGD update take float64 scalars, and gpu.js's cpu mode
 *    evaluates them in float64 and rounds the result: so do these, on f64x2, in the same
 *    order of operations (bit for bit again);
 *  - sum adds in float64 (gpu.js: float64 within blocks of 1024, float32 between).
 *
 * Addresses are bytes in the shared memory, counts are f32 elements; every output has a
 * buffer of its own.
 */

// @ts-ignore: decorator
@inline function f64Low(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
// @ts-ignore: decorator
@inline function f64High(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3));
}
/** two f64x2 rounded to float32 and joined into one f32x4 (lo's lanes first) */
// @ts-ignore: decorator
@inline function f32Of(lo: v128, hi: v128): v128 {
  return f32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

// ---------------------------------------------------------------------------------------
// ReLU: y = max(x, 0); dx = dy · [x > 0] (0 at x = 0). f32.max, like Math.max: NaN stays NaN, max(−0, 0) = 0.

export function reluForward(x: usize, y: usize, n: usize): void {
  const zero = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + i * 4, f32x4.max(v128.load(x + i * 4), zero));
  for (; i < n; i++) store<f32>(y + i * 4, max<f32>(load<f32>(x + i * 4), 0));
}

export function reluBackward(dy: usize, x: usize, dx: usize, n: usize): void {
  const zero = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) v128.store(dx + i * 4, v128.and(v128.load(dy + i * 4), f32x4.gt(v128.load(x + i * 4), zero)));
  for (; i < n; i++) store<f32>(dx + i * 4, load<f32>(x + i * 4) > 0 ? load<f32>(dy + i * 4) : 0);
}

// ---------------------------------------------------------------------------------------
// Max-pool 2×2, stride 2, over `planes` planes x[H, W] → y[H/2, W/2] (floors: an odd last
// row / column reaches no output). A window's elements are numbered 0 1 / 2 3; the first
// maximum in that order wins the gradient. SIMD takes 4 windows (8 columns) at a time:
// the even and odd lanes of two rows are the 4 elements of 4 windows.

// @ts-ignore: decorator
@inline function evens(a: v128, b: v128): v128 {
  return f32x4.shuffle(a, b, 0, 2, 4, 6);
}
// @ts-ignore: decorator
@inline function odds(a: v128, b: v128): v128 {
  return f32x4.shuffle(a, b, 1, 3, 5, 7);
}

export function maxPool2dForward(x: usize, planes: usize, H: usize, W: usize, y: usize): void {
  const Ho = H / 2, Wo = W / 2;
  for (let p: usize = 0; p < planes; p++) {
    for (let oy: usize = 0; oy < Ho; oy++) {
      const r0 = x + ((p * H + 2 * oy) * W) * 4, r1 = r0 + W * 4;
      const out = y + ((p * Ho + oy) * Wo) * 4;
      let ox: usize = 0;
      for (; ox + 4 <= Wo; ox += 4) {
        const at = ox * 8;
        const top = f32x4.max(evens(v128.load(r0 + at), v128.load(r0 + at, 16)), odds(v128.load(r0 + at), v128.load(r0 + at, 16)));
        const bottom = f32x4.max(evens(v128.load(r1 + at), v128.load(r1 + at, 16)), odds(v128.load(r1 + at), v128.load(r1 + at, 16)));
        v128.store(out + ox * 4, f32x4.max(top, bottom));
      }
      for (; ox < Wo; ox++) {
        const at = ox * 8;
        store<f32>(out + ox * 4, max<f32>(max<f32>(load<f32>(r0 + at), load<f32>(r0 + at, 4)), max<f32>(load<f32>(r1 + at), load<f32>(r1 + at, 4))));
      }
    }
  }
}

/** dx of `planes` planes: each window's dy to its first maximum, 0 elsewhere and on a dropped row / column */
export function maxPool2dBackward(dy: usize, x: usize, planes: usize, H: usize, W: usize, dx: usize): void {
  const Ho = H / 2, Wo = W / 2;
  for (let p: usize = 0; p < planes; p++) {
    for (let oy: usize = 0; oy < Ho; oy++) {
      const r0 = (p * H + 2 * oy) * W * 4, r1 = r0 + W * 4;
      const g = dy + ((p * Ho + oy) * Wo) * 4;
      let ox: usize = 0;
      for (; ox + 4 <= Wo; ox += 4) {
        const at = ox * 8;
        const t0 = v128.load(x + r0 + at), t1 = v128.load(x + r0 + at, 16);
        const b0 = v128.load(x + r1 + at), b1 = v128.load(x + r1 + at, 16);
        const x0 = evens(t0, t1), x1 = odds(t0, t1), x2 = evens(b0, b1), x3 = odds(b0, b1);
        // the same comparisons as the gpu.js kernel: a later element wins only when strictly greater
        const c1 = f32x4.gt(x1, x0);
        let best = v128.bitselect(x1, x0, c1);
        const c2 = f32x4.gt(x2, best);
        best = v128.bitselect(x2, best, c2);
        const c3 = f32x4.gt(x3, best);
        const gv = v128.load(g + ox * 4);
        const g3 = v128.and(gv, c3);
        const g2 = v128.and(gv, v128.andnot(c2, c3));
        const g1 = v128.and(gv, v128.andnot(v128.andnot(c1, c2), c3));
        const g0 = v128.andnot(gv, v128.or(v128.or(c1, c2), c3));
        v128.store(dx + r0 + at, f32x4.shuffle(g0, g1, 0, 4, 1, 5));
        v128.store(dx + r0 + at, f32x4.shuffle(g0, g1, 2, 6, 3, 7), 16);
        v128.store(dx + r1 + at, f32x4.shuffle(g2, g3, 0, 4, 1, 5));
        v128.store(dx + r1 + at, f32x4.shuffle(g2, g3, 2, 6, 3, 7), 16);
      }
      for (; ox < Wo; ox++) {
        const at = ox * 8;
        const i0 = r0 + at, i1 = r0 + at + 4, i2 = r1 + at, i3 = r1 + at + 4;
        let best = load<f32>(x + i0);
        let arg = i0;
        if (load<f32>(x + i1) > best) { best = load<f32>(x + i1); arg = i1; }
        if (load<f32>(x + i2) > best) { best = load<f32>(x + i2); arg = i2; }
        if (load<f32>(x + i3) > best) arg = i3;
        store<f32>(dx + i0, 0);
        store<f32>(dx + i1, 0);
        store<f32>(dx + i2, 0);
        store<f32>(dx + i3, 0);
        store<f32>(dx + arg, load<f32>(g + ox * 4));
      }
      if (W & 1) {
        store<f32>(dx + r0 + (W - 1) * 4, 0);
        store<f32>(dx + r1 + (W - 1) * 4, 0);
      }
    }
    if (H & 1) memory.fill(dx + ((p * H + H - 1) * W) * 4, 0, W * 4);
  }
}

// ---------------------------------------------------------------------------------------
// add, mul, scale, sum.

export function add(a: usize, b: usize, out: usize, n: usize): void {
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + i * 4, f32x4.add(v128.load(a + i * 4), v128.load(b + i * 4)));
  for (; i < n; i++) store<f32>(out + i * 4, load<f32>(a + i * 4) + load<f32>(b + i * 4));
}

export function mul(a: usize, b: usize, out: usize, n: usize): void {
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + i * 4, f32x4.mul(v128.load(a + i * 4), v128.load(b + i * 4)));
  for (; i < n; i++) store<f32>(out + i * 4, load<f32>(a + i * 4) * load<f32>(b + i * 4));
}

/** out = f32(a · s), the product in float64 (s need not be a float32) */
export function scale(a: usize, s: f64, out: usize, n: usize): void {
  const sv = f64x2.splat(s);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(a + i * 4);
    v128.store(out + i * 4, f32Of(f64x2.mul(f64Low(v), sv), f64x2.mul(f64High(v), sv)));
  }
  for (; i < n; i++) store<f32>(out + i * 4, <f32>(<f64>load<f32>(a + i * 4) * s));
}

/** Σ a[0..n) in float64 (four f64x2 partial sums) */
export function sum(a: usize, n: usize): f64 {
  let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) {
    const u = v128.load(a + i * 4), v = v128.load(a + i * 4, 16);
    s0 = f64x2.add(s0, f64Low(u));
    s1 = f64x2.add(s1, f64High(u));
    s2 = f64x2.add(s2, f64Low(v));
    s3 = f64x2.add(s3, f64High(v));
  }
  const t = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
  let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  for (; i < n; i++) s += <f64>load<f32>(a + i * 4);
  return s;
}

// ---------------------------------------------------------------------------------------
// SGD with momentum and weight decay (PyTorch): velocity = f32(momentum·v + g + weightDecay·p),
// then param = f32(p − lr·velocity) with that float32 velocity.

export function sgdUpdate(p: usize, g: usize, v: usize, param: usize, velocity: usize, n: usize, lr: f64, momentum: f64, weightDecay: f64): void {
  const lrv = f64x2.splat(lr), mv = f64x2.splat(momentum), wv = f64x2.splat(weightDecay);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const pf = v128.load(p + i * 4), gf = v128.load(g + i * 4), vf = v128.load(v + i * 4);
    const pLo = f64Low(pf), pHi = f64High(pf);
    const vNew = f32Of(
      f64x2.add(f64x2.add(f64x2.mul(mv, f64Low(vf)), f64Low(gf)), f64x2.mul(wv, pLo)),
      f64x2.add(f64x2.add(f64x2.mul(mv, f64High(vf)), f64High(gf)), f64x2.mul(wv, pHi)));
    v128.store(velocity + i * 4, vNew);
    v128.store(param + i * 4, f32Of(f64x2.sub(pLo, f64x2.mul(lrv, f64Low(vNew))), f64x2.sub(pHi, f64x2.mul(lrv, f64High(vNew)))));
  }
  for (; i < n; i++) {
    const pi = <f64>load<f32>(p + i * 4);
    const vi = <f32>(momentum * <f64>load<f32>(v + i * 4) + <f64>load<f32>(g + i * 4) + weightDecay * pi);
    store<f32>(velocity + i * 4, vi);
    store<f32>(param + i * 4, <f32>(pi - lr * <f64>vi));
  }
}

// ---------------------------------------------------------------------------------------
// Dropout: out = f32(a · keep · scale), keep ∈ {0, 1}, in float64 like gpu.js (so a · 0 keeps its sign).

export function dropoutApply(a: usize, keep: usize, s: f64, out: usize, n: usize): void {
  const sv = f64x2.splat(s);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const av = v128.load(a + i * 4), kv = v128.load(keep + i * 4);
    v128.store(out + i * 4, f32Of(f64x2.mul(f64x2.mul(f64Low(av), f64Low(kv)), sv), f64x2.mul(f64x2.mul(f64High(av), f64High(kv)), sv)));
  }
  for (; i < n; i++) store<f32>(out + i * 4, <f32>(<f64>load<f32>(a + i * 4) * <f64>load<f32>(keep + i * 4) * s));
}
