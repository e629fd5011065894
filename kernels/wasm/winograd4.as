/**
 * Winograd's minimal filtering F(4×4, 3×3) for a stride-1 "same" 3×3 convolution: each 4×4
 * block of outputs (a tile) from a 6×6 block of input,
 *
 *   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 *
 * 36 multiply-adds per tile and channel pair (36 GEMMs, one per element ξ of the 6×6
 * transformed tile), against the 144 of a direct convolution and the 64 of F(2×2, 3×3)
 * (winograd.as). The interpolation points are 0, 1, -1, ½, -2 and ∞, which keep float32's
 * error about half of that of 0, ±1, ±2, ∞ or 0, ±1, ±½, ∞ (scripts/winograd-matrices.py
 * derives the matrices in exact rationals and compares the sets; winograd.ts states the
 * error measured here):
 *
 *        ⎡1  -3/2   -2   3/2    1   0⎤        ⎡   1      0      0 ⎤
 *        ⎢0    -1  1/2   5/2    1   0⎥        ⎢ 1/3    1/3    1/3 ⎥       ⎡1  1   1    1    1  0⎤
 *   Bᵀ = ⎢0     1 -5/2   1/2    1   0⎥    G = ⎢-1/3    1/3   -1/3 ⎥  Aᵀ = ⎢0  1  -1  1/2   -2  0⎥
 *        ⎢0    -2   -1     2    1   0⎥        ⎢-16/15 -8/15 -4/15 ⎥       ⎢0  1   1  1/4    4  0⎥
 *        ⎢0   1/2   -1  -1/2    1   0⎥        ⎢1/15  -2/15   4/15 ⎥       ⎣0  1  -1  1/8   -8  1⎦
 *        ⎣0     1 -3/2    -2  3/2   1⎦        ⎣   0      0      1 ⎦
 *
 * Bᵀ's and Aᵀ's coefficients are exact in float32; G's thirds and fifteenths are rounded
 * once, when the filters are transformed.
 *
 * Layouts as winograd.as's row layout, with 6×6 blocks and 4×4 tiles (byte addresses,
 * sizes and strides in f32 elements):
 *   xp   a padded image [C][Hp][Wp], xp(r, s) = x(r-1, s-1): Hp = 4·th + 2, Wp = 4·twp + 2,
 *        th × tw the tiles over the output, twp = tw rounded up to a multiple of 4.
 *   tile (i, j) reads xp rows 4i .. 4i+5, columns 4j .. 4j+5, and writes y rows 4i .. 4i+3,
 *        columns 4j .. 4j+3 (those inside H × W).
 *   V    [36][C][ldv], element (ξ, c, t) at v + (ξ·xiStride + c·ldv + t)·4, t = (i - i0)·twp + j.
 *   M    [36][Cout][ldm], the same for the GEMMs' results.
 *   U    [Cout][36][Cin]: U[ξ][co][c] at u + ((co·36 + ξ)·Cin + c)·4.
 * Four tiles of a row are transformed at once, one per SIMD lane, through at most 640 bytes
 * of the calling thread's scratch (tmp) between the two passes of each transform.
 */

// @ts-ignore: decorator
@inline function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/** the six rows of Bᵀ applied to d0..d5 (four lanes at once), stored at o, o + step, … */
// @ts-ignore: decorator
@inline function inputRows(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, o: usize, step: usize): void {
  const two = splat(2), half = splat(0.5), threeHalves = splat(1.5), fiveHalves = splat(2.5);
  const d31 = f32x4.sub(d3, d1), d42 = f32x4.sub(d4, d2);
  v128.store(o, f32x4.add(f32x4.sub(f32x4.add(d0, d4), f32x4.mul(two, d2)), f32x4.mul(threeHalves, d31)));
  v128.store(o + step, f32x4.add(f32x4.add(d4, f32x4.mul(half, d2)), f32x4.sub(f32x4.mul(fiveHalves, d3), d1)));
  v128.store(o + 2 * step, f32x4.add(f32x4.add(d4, f32x4.mul(half, d3)), f32x4.sub(d1, f32x4.mul(fiveHalves, d2))));
  v128.store(o + 3 * step, f32x4.add(d42, f32x4.mul(two, d31)));
  v128.store(o + 4 * step, f32x4.sub(d42, f32x4.mul(half, d31)));
  v128.store(o + 5 * step, f32x4.add(f32x4.sub(f32x4.add(d1, d5), f32x4.mul(two, d3)), f32x4.mul(threeHalves, d42)));
}

/** the 4×4 transpose of rows a, b, c, e: column k of them into out[k] (o, o + 16, …) */
// @ts-ignore: decorator
@inline function transposeTo(a: v128, b: v128, c: v128, e: v128, o: usize): void {
  const t0 = f32x4.shuffle(a, b, 0, 4, 1, 5), t1 = f32x4.shuffle(a, b, 2, 6, 3, 7);
  const t2 = f32x4.shuffle(c, e, 0, 4, 1, 5), t3 = f32x4.shuffle(c, e, 2, 6, 3, 7);
  v128.store(o, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(o, f32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
  v128.store(o, f32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
  v128.store(o, f32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
}

/**
 * V[ξ][c][t] = (Bᵀ d B)[ξ] for channels [c0, c0+count) and tile rows i0 .. i0+rows-1 of the
 * padded image xp, four tiles of a row at a time (lane l: tile j + l). tmp: 640 bytes of
 * the calling thread's scratch.
 */
export function winograd4Input(xp: usize, c0: i32, count: i32, Hp: i32, Wp: i32, i0: i32, rows: i32, twp: i32,
  v: usize, ldv: i32, xiStride: i32, tmp: usize): void {
  const rowBytes = <usize>Wp * 4;
  const xiBytes = <usize>xiStride * 4;
  for (let c = c0; c < c0 + count; c++) {
    for (let i = i0; i < i0 + rows; i++) {
      const top = xp + <usize>((c * Hp + 4 * i) * Wp) * 4;
      let out = v + <usize>(c * ldv + (i - i0) * twp) * 4;
      for (let j = 0; j < twp; j += 4, out += 16) {
        // block row r: column k of tile j + l is xp(4i + r, 4(j + l) + k); Bᵀ along the row
        // (d B, as Bᵀ applied to the row's six values), into tmp at (r·6 + κ)·16
        let at = top + <usize>(4 * j) * 4;
        for (let r = 0; r < 6; r++, at += rowBytes) {
          transposeTo(v128.load(at), v128.load(at, 16), v128.load(at, 32), v128.load(at, 48), tmp + 576);
          const k0 = v128.load(tmp + 576), k1 = v128.load(tmp + 592);
          const far = v128.load(at, 56); // columns 14 .. 17: lanes 2 and 3 are the last tile's columns 4 and 5
          const k4 = f32x4.shuffle(k0, far, 1, 2, 3, 6), k5 = f32x4.shuffle(k1, far, 1, 2, 3, 7);
          inputRows(k0, k1, v128.load(tmp + 608), v128.load(tmp + 624), k4, k5, tmp + <usize>r * 96, 16);
        }
        // Bᵀ down each column κ: ξ = 6ρ + κ
        for (let k = 0; k < 6; k++) {
          const s = tmp + <usize>k * 16;
          inputRows(v128.load(s), v128.load(s, 96), v128.load(s, 192), v128.load(s, 288), v128.load(s, 384), v128.load(s, 480),
            out + <usize>k * xiBytes, 6 * xiBytes);
        }
      }
    }
  }
}

/** the four rows of Aᵀ applied to m0..m5 (four lanes at once), plus b, stored at o, o + step, … */
// @ts-ignore: decorator
@inline function outputRows(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, b: v128, o: usize, step: usize): void {
  const p = f32x4.add(m1, m2), q = f32x4.sub(m1, m2);
  v128.store(o, f32x4.add(f32x4.add(f32x4.add(m0, p), f32x4.add(m3, m4)), b));
  v128.store(o + step, f32x4.add(f32x4.add(q, f32x4.sub(f32x4.mul(splat(0.5), m3), f32x4.mul(splat(2), m4))), b));
  v128.store(o + 2 * step, f32x4.add(f32x4.add(p, f32x4.add(f32x4.mul(splat(0.25), m3), f32x4.mul(splat(4), m4))), b));
  v128.store(o + 3 * step, f32x4.add(f32x4.add(f32x4.add(q, m5), f32x4.sub(f32x4.mul(splat(0.125), m3), f32x4.mul(splat(8), m4))), b));
}

/** writes lanes [0, n) of a (n < 4) as floats from `at` */
// @ts-ignore: decorator
@inline function storeLanes(at: usize, a: v128, n: i32): void {
  if (n > 0) store<f32>(at, f32x4.extract_lane(a, 0));
  if (n > 1) store<f32>(at, f32x4.extract_lane(a, 1), 4);
  if (n > 2) store<f32>(at, f32x4.extract_lane(a, 2), 8);
}

/**
 * y[co] (H × W, plus bias[co] when hasBias) = Aᵀ M A for output channels [co0, co0+count)
 * and tile rows i0 .. i0+rows-1, four tiles at a time; outputs outside H × W are dropped.
 * tmp: 576 bytes of the calling thread's scratch.
 */
export function winograd4Output(m: usize, co0: i32, count: i32, ldm: i32, xiStride: i32, i0: i32, rows: i32, twp: i32,
  y: usize, H: i32, W: i32, bias: usize, hasBias: bool, tmp: usize): void {
  const xiBytes = <usize>xiStride * 4;
  const zero = f32x4.splat(0);
  for (let co = co0; co < co0 + count; co++) {
    const b = hasBias ? v128.load32_splat(bias + <usize>co * 4) : zero;
    for (let i = i0; i < i0 + rows; i++) {
      const outRows = min(4, H - 4 * i);
      let src = m + <usize>(co * ldm + (i - i0) * twp) * 4;
      for (let j = 0; j < twp && 4 * j < W; j += 4, src += 16) {
        // Aᵀ down each column κ of M: row ρ' of Aᵀ M at tmp + (ρ'·6 + κ)·16
        for (let k = 0; k < 6; k++) {
          const s = src + <usize>k * xiBytes, down = 6 * xiBytes;
          outputRows(v128.load(s), v128.load(s + down), v128.load(s + 2 * down), v128.load(s + 3 * down), v128.load(s + 4 * down),
            v128.load(s + 5 * down), zero, tmp + <usize>k * 16, 96);
        }
        // A along each row, plus the bias: output (ρ', κ') of tile j + l in lane l, into
        // tmp + 384; transposed, each tile's four outputs of the row are contiguous
        for (let r = 0; r < outRows; r++) {
          const s = tmp + <usize>r * 96;
          outputRows(v128.load(s), v128.load(s, 16), v128.load(s, 32), v128.load(s, 48), v128.load(s, 64), v128.load(s, 80), b, tmp + 384, 16);
          transposeTo(v128.load(tmp + 384), v128.load(tmp + 400), v128.load(tmp + 416), v128.load(tmp + 432), tmp + 512);
          const row = y + <usize>((co * H + 4 * i + r) * W) * 4;
          for (let l = 0; l < 4; l++) {
            const col = 4 * (j + l), room = W - col;
            if (room <= 0) break;
            const value = v128.load(tmp + 512 + <usize>l * 16);
            if (room >= 4) v128.store(row + <usize>col * 4, value);
            else storeLanes(row + <usize>col * 4, value, room);
          }
        }
      }
    }
  }
}

/** tap k of `lanes` filters (lane l's filter laneBytes after lane 0's; read backwards when turned), 0 in the lanes past them */
// @ts-ignore: decorator
@inline function tap(g: usize, flip: bool, laneBytes: usize, lanes: i32, k: usize): v128 {
  const at = flip ? g - k * 4 : g + k * 4;
  let t = f32x4.splat(load<f32>(at));
  t = f32x4.replace_lane(t, 1, lanes > 1 ? load<f32>(at + laneBytes) : 0);
  t = f32x4.replace_lane(t, 2, lanes > 2 ? load<f32>(at + 2 * laneBytes) : 0);
  t = f32x4.replace_lane(t, 3, lanes > 3 ? load<f32>(at + 3 * laneBytes) : 0);
  return t;
}

/** the six rows of G applied to g0, g1, g2 (four lanes at once), stored at o, o + step, … (the first `lanes` lanes when o is U) */
// @ts-ignore: decorator
@inline function filterRows(g0: v128, g1: v128, g2: v128, o: usize, step: usize, lanes: i32): void {
  const g02 = f32x4.add(g0, g2);
  storeFirst(o, g0, lanes);
  storeFirst(o + step, f32x4.mul(splat(<f32>(1.0 / 3.0)), f32x4.add(g02, g1)), lanes);
  storeFirst(o + 2 * step, f32x4.mul(splat(<f32>(1.0 / 3.0)), f32x4.sub(g1, g02)), lanes);
  storeFirst(o + 3 * step, f32x4.mul(splat(<f32>(-4.0 / 15.0)), f32x4.add(f32x4.add(f32x4.mul(splat(4), g0), f32x4.mul(splat(2), g1)), g2)), lanes);
  storeFirst(o + 4 * step, f32x4.mul(splat(<f32>(1.0 / 15.0)), f32x4.add(f32x4.sub(g0, f32x4.mul(splat(2), g1)), f32x4.mul(splat(4), g2))), lanes);
  storeFirst(o + 5 * step, g2, lanes);
}

/** stores the first `lanes` lanes of a at `at` */
// @ts-ignore: decorator
@inline function storeFirst(at: usize, a: v128, lanes: i32): void {
  if (lanes == 4) v128.store(at, a);
  else storeLanes(at, a, lanes);
}

/**
 * U[ξ][co][c] = (G g Gᵀ)[ξ] for the filters g = w[co][c] (w: [Cout][Cin][3][3]) with co in
 * [co0, co0+count), four input channels at a time (one per lane). With `flip`, the filters of
 * the gradient to the input in its forward form: g = w[c][co] turned by 180° (w:
 * [Cin][Cout][3][3]), read in place. tmp: 288 bytes of the calling thread's scratch.
 */
export function winograd4Weights(w: usize, Cout: i32, Cin: i32, co0: i32, count: i32, u: usize, flip: bool, tmp: usize): void {
  const xiBytes = <usize>Cin * 4;
  const laneBytes: usize = flip ? <usize>Cout * 36 : 36;
  for (let co = co0; co < co0 + count; co++) {
    for (let c = 0; c < Cin; c += 4) {
      const g = flip ? w + <usize>((c * Cout + co) * 9 + 8) * 4 : w + <usize>((co * Cin + c) * 9) * 4;
      const lanes = min(4, Cin - c);
      // G g, column by column: row x of G g at tmp + (x·3 + k)·16
      for (let k = 0; k < 3; k++) {
        filterRows(tap(g, flip, laneBytes, lanes, k), tap(g, flip, laneBytes, lanes, 3 + k), tap(g, flip, laneBytes, lanes, 6 + k), tmp + <usize>k * 16, 48, 4);
      }
      // (G g) Gᵀ, row by row: ξ = 6x + y
      const o = u + <usize>(co * 36 * Cin + c) * 4;
      for (let x = 0; x < 6; x++) {
        const s = tmp + <usize>x * 48;
        filterRows(v128.load(s), v128.load(s, 16), v128.load(s, 32), o + <usize>(6 * x) * xiBytes, xiBytes, lanes);
      }
    }
  }
}
