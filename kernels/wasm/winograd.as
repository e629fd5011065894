/**
 * Winograd's minimal filtering F(2×2, 3×3) for a stride-1 "same" 3×3 convolution (Lavin &
 * Gray 2015, "Fast Algorithms for Convolutional Neural Networks", which benchmarked VGG's
 * layers). Each 2×2 block of outputs (a tile) is computed from a 4×4 block of input as
 *
 *   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A      g: a 3×3 filter, d: the 4×4 input block
 *
 *        ⎡1  0 -1  0⎤        ⎡1    0    0 ⎤        ⎡1  1  1  0⎤
 *   Bᵀ = ⎢0  1  1  0⎥    G = ⎢½    ½    ½ ⎥   Aᵀ = ⎣0  1 -1 -1⎦
 *        ⎢0 -1  1  0⎥        ⎢½   -½    ½ ⎥
 *        ⎣0  1  0 -1⎦        ⎣0    0    1 ⎦
 *
 * Summed over input channels, the ⊙ becomes 16 independent GEMMs, one per element ξ of the
 * 4×4 transformed tile: M[ξ][co][t] = Σ_c U[ξ][co][c] · V[ξ][c][t], with U = G g Gᵀ (the
 * weights, transformed once per call) and V = Bᵀ d B (the input, per tile t). That is
 * 16 multiply-adds per tile and channel pair instead of the 36 of a direct convolution:
 * 2.25× fewer. kernels/wasm/winograd.ts runs the GEMMs with gemm.as and this file's three
 * transforms around them.
 *
 * Layouts (byte addresses, sizes and strides in f32 elements, as in gemm.as):
 *   xp   a padded image [C][Hp][Wp]: xp(r, s) = x(r-1, s-1), zero outside x; Hp = 2·th + 2,
 *        Wp = 2·twp + 2, where th × tw are the tiles that cover the H × W output and twp is
 *        tw rounded up to a multiple of 4 (four tiles of a row are transformed at once; the
 *        extra tiles read zeros and their outputs are dropped).
 *   tile (i, j) reads xp rows 2i .. 2i+3, columns 2j .. 2j+3, and writes y rows 2i, 2i+1,
 *        columns 2j, 2j+1 (those inside H × W).
 *   V    [16][C][ldv]: element (ξ, c, t) at v + (ξ·ξStride + c·ldv + t)·4, with the tiles of
 *        tile rows i0 .. i0+rows-1 at t = (i - i0)·twp + j.
 *   M    [16][Cout][ldm], the same for the GEMMs' results.
 *   U    [Cout][16][Cin]: U[ξ][co][c] at u + ((co·16 + ξ)·Cin + c)·4, so that a filter's 16
 *        elements are written near each other (a GEMM reads U[ξ] with row stride 16·Cin).
 * Rounding: the transforms' coefficients (0, ±½, ±1) are exact in f32, and the error
 * measured against the float64 reference is of the order of a direct convolution's (the
 * tests check it at 1e-5 normalized, like every kernel).
 */

const HALF: f32 = 0.5;

// @ts-ignore: decorator
@inline function even(a: v128, b: v128): v128 {
  return f32x4.shuffle(a, b, 0, 2, 4, 6);
}
// @ts-ignore: decorator
@inline function odd(a: v128, b: v128): v128 {
  return f32x4.shuffle(a, b, 1, 3, 5, 7);
}

/**
 * Bᵀ d B of four tiles at once (one per lane; d_rk: row r, column k of their 4×4 blocks),
 * element ξ = 4ρ + κ stored at out + ξ·xiBytes.
 */
// @ts-ignore: decorator
@inline function inputTransform(d00: v128, d01: v128, d02: v128, d03: v128, d10: v128, d11: v128, d12: v128, d13: v128,
  d20: v128, d21: v128, d22: v128, d23: v128, d30: v128, d31: v128, d32: v128, d33: v128, out: usize, xiBytes: usize): void {
  // Bᵀ d: rows
  const t00 = f32x4.sub(d00, d20), t01 = f32x4.sub(d01, d21), t02 = f32x4.sub(d02, d22), t03 = f32x4.sub(d03, d23);
  const t10 = f32x4.add(d10, d20), t11 = f32x4.add(d11, d21), t12 = f32x4.add(d12, d22), t13 = f32x4.add(d13, d23);
  const t20 = f32x4.sub(d20, d10), t21 = f32x4.sub(d21, d11), t22 = f32x4.sub(d22, d12), t23 = f32x4.sub(d23, d13);
  const t30 = f32x4.sub(d10, d30), t31 = f32x4.sub(d11, d31), t32 = f32x4.sub(d12, d32), t33 = f32x4.sub(d13, d33);
  // (Bᵀ d) B: columns; ξ = 4ρ + κ
  let o = out;
  v128.store(o, f32x4.sub(t00, t02)); o += xiBytes;
  v128.store(o, f32x4.add(t01, t02)); o += xiBytes;
  v128.store(o, f32x4.sub(t02, t01)); o += xiBytes;
  v128.store(o, f32x4.sub(t01, t03)); o += xiBytes;
  v128.store(o, f32x4.sub(t10, t12)); o += xiBytes;
  v128.store(o, f32x4.add(t11, t12)); o += xiBytes;
  v128.store(o, f32x4.sub(t12, t11)); o += xiBytes;
  v128.store(o, f32x4.sub(t11, t13)); o += xiBytes;
  v128.store(o, f32x4.sub(t20, t22)); o += xiBytes;
  v128.store(o, f32x4.add(t21, t22)); o += xiBytes;
  v128.store(o, f32x4.sub(t22, t21)); o += xiBytes;
  v128.store(o, f32x4.sub(t21, t23)); o += xiBytes;
  v128.store(o, f32x4.sub(t30, t32)); o += xiBytes;
  v128.store(o, f32x4.add(t31, t32)); o += xiBytes;
  v128.store(o, f32x4.sub(t32, t31)); o += xiBytes;
  v128.store(o, f32x4.sub(t31, t33));
}

/**
 * xp[c] for c in [c0, c0+count) = image x[c] (H × W) placed at row `at`, column `at` of a
 * zeroed Hp × Wp plane: at 1 for an input (its halo of zeros), 0 for the weight gradient's dy.
 */
export function winogradPad(x: usize, c0: i32, count: i32, H: i32, W: i32, xp: usize, Hp: i32, Wp: i32, at: i32): void {
  for (let c = c0; c < c0 + count; c++) {
    const plane = xp + <usize>(c * Hp * Wp) * 4;
    memory.fill(plane, 0, <usize>(Hp * Wp) * 4);
    for (let r = 0; r < H; r++) {
      memory.copy(plane + <usize>((r + at) * Wp + at) * 4, x + <usize>((c * H + r) * W) * 4, <usize>W * 4);
    }
  }
}

/**
 * V[ξ][c][t] = (Bᵀ d B)[ξ] for channels [c0, c0+count) and tile rows i0 .. i0+rows-1 of the
 * padded image xp, four tiles of a row at a time (one per SIMD lane).
 */
export function winogradInput(xp: usize, c0: i32, count: i32, Hp: i32, Wp: i32, i0: i32, rows: i32, twp: i32,
  v: usize, ldv: i32, xiStride: i32): void {
  const rowBytes = <usize>Wp * 4;
  const xiBytes = <usize>xiStride * 4;
  for (let c = c0; c < c0 + count; c++) {
    for (let i = i0; i < i0 + rows; i++) {
      const top = xp + <usize>((c * Hp + 2 * i) * Wp) * 4;
      let out = v + <usize>(c * ldv + (i - i0) * twp) * 4;
      for (let j = 0; j < twp; j += 4, out += 16) {
        // column k of the four tiles' blocks, in row r: xp(2i+r, 2(j+lane)+k)
        let at = top + <usize>(2 * j) * 4;
        let a0 = v128.load(at), a1 = v128.load(at, 16), b0 = v128.load(at, 8), b1 = v128.load(at, 24);
        const d00 = even(a0, a1), d01 = odd(a0, a1), d02 = even(b0, b1), d03 = odd(b0, b1);
        at += rowBytes;
        a0 = v128.load(at); a1 = v128.load(at, 16); b0 = v128.load(at, 8); b1 = v128.load(at, 24);
        const d10 = even(a0, a1), d11 = odd(a0, a1), d12 = even(b0, b1), d13 = odd(b0, b1);
        at += rowBytes;
        a0 = v128.load(at); a1 = v128.load(at, 16); b0 = v128.load(at, 8); b1 = v128.load(at, 24);
        const d20 = even(a0, a1), d21 = odd(a0, a1), d22 = even(b0, b1), d23 = odd(b0, b1);
        at += rowBytes;
        a0 = v128.load(at); a1 = v128.load(at, 16); b0 = v128.load(at, 8); b1 = v128.load(at, 24);
        const d30 = even(a0, a1), d31 = odd(a0, a1), d32 = even(b0, b1), d33 = odd(b0, b1);
        inputTransform(d00, d01, d02, d03, d10, d11, d12, d13, d20, d21, d22, d23, d30, d31, d32, d33, out, xiBytes);
      }
    }
  }
}

/** writes lanes [0, n) of a (n < 4) as floats from `at` */
// @ts-ignore: decorator
@inline function storeLanes(at: usize, a: v128, n: i32): void {
  if (n > 0) store<f32>(at, f32x4.extract_lane(a, 0));
  if (n > 1) store<f32>(at, f32x4.extract_lane(a, 1), 4);
  if (n > 2) store<f32>(at, f32x4.extract_lane(a, 2), 8);
}

/** one output row of four tiles (2·4 values, tile-major pairs) at columns 2j .. 2j+7 of a row of y, clipped to W */
// @ts-ignore: decorator
@inline function storeOutputRow(at: usize, left: v128, right: v128, j: i32, W: i32): void {
  const lo = f32x4.shuffle(left, right, 0, 4, 1, 5);
  const hi = f32x4.shuffle(left, right, 2, 6, 3, 7);
  const room = W - 2 * j;
  if (room >= 8) {
    v128.store(at, lo);
    v128.store(at, hi, 16);
  } else if (room >= 4) {
    v128.store(at, lo);
    storeLanes(at + 16, hi, room - 4);
  } else {
    storeLanes(at, lo, room);
  }
}

/**
 * Aᵀ M A (+ b) of four tiles at once (one per lane; M's element ξ at src + ξ·xiBytes): the
 * tiles' outputs y00, y01, y10, y11 (row, column) stored at tmp, tmp+16, tmp+32, tmp+48.
 */
// @ts-ignore: decorator
@inline function outputTransform(src: usize, xiBytes: usize, b: v128, tmp: usize): void {
  let s = src;
  const m00 = v128.load(s); s += xiBytes; const m01 = v128.load(s); s += xiBytes;
  const m02 = v128.load(s); s += xiBytes; const m03 = v128.load(s); s += xiBytes;
  const m10 = v128.load(s); s += xiBytes; const m11 = v128.load(s); s += xiBytes;
  const m12 = v128.load(s); s += xiBytes; const m13 = v128.load(s); s += xiBytes;
  const m20 = v128.load(s); s += xiBytes; const m21 = v128.load(s); s += xiBytes;
  const m22 = v128.load(s); s += xiBytes; const m23 = v128.load(s); s += xiBytes;
  const m30 = v128.load(s); s += xiBytes; const m31 = v128.load(s); s += xiBytes;
  const m32 = v128.load(s); s += xiBytes; const m33 = v128.load(s);
  // Aᵀ M: rows
  const s00 = f32x4.add(f32x4.add(m00, m10), m20), s01 = f32x4.add(f32x4.add(m01, m11), m21);
  const s02 = f32x4.add(f32x4.add(m02, m12), m22), s03 = f32x4.add(f32x4.add(m03, m13), m23);
  const s10 = f32x4.sub(f32x4.sub(m10, m20), m30), s11 = f32x4.sub(f32x4.sub(m11, m21), m31);
  const s12 = f32x4.sub(f32x4.sub(m12, m22), m32), s13 = f32x4.sub(f32x4.sub(m13, m23), m33);
  // (Aᵀ M) A: columns
  v128.store(tmp, f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), b));
  v128.store(tmp, f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), b), 16);
  v128.store(tmp, f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), b), 32);
  v128.store(tmp, f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), b), 48);
}

/**
 * y[co] (H × W, plus bias[co] when hasBias) = Aᵀ M A for output channels [co0, co0+count)
 * and tile rows i0 .. i0+rows-1, four tiles at a time; outputs outside H × W are dropped.
 * tmp: 64 bytes of the calling thread's scratch.
 */
export function winogradOutput(m: usize, co0: i32, count: i32, ldm: i32, xiStride: i32, i0: i32, rows: i32, twp: i32,
  y: usize, H: i32, W: i32, bias: usize, hasBias: bool, tmp: usize): void {
  const xiBytes = <usize>xiStride * 4;
  for (let co = co0; co < co0 + count; co++) {
    const b = hasBias ? v128.load32_splat(bias + <usize>co * 4) : f32x4.splat(0);
    for (let i = i0; i < i0 + rows; i++) {
      const row0 = y + <usize>((co * H + 2 * i) * W) * 4;
      const second = 2 * i + 1 < H;
      let src = m + <usize>(co * ldm + (i - i0) * twp) * 4;
      for (let j = 0; j < twp && 2 * j < W; j += 4, src += 16) {
        outputTransform(src, xiBytes, b, tmp);
        const y00 = v128.load(tmp), y01 = v128.load(tmp, 16);
        storeOutputRow(row0 + <usize>(2 * j) * 4, y00, y01, j, W);
        if (second) {
          const y10 = v128.load(tmp, 32), y11 = v128.load(tmp, 48);
          storeOutputRow(row0 + <usize>(W + 2 * j) * 4, y10, y11, j, W);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Small images, four at a time. An image narrower than 8 columns has fewer than four tiles
// to a row, so the row-wise layout above would leave lanes empty (a 4×4 image: half of
// them). Here each lane holds one of four images instead, at the same tile: their padded
// planes are interleaved, pixel by pixel, so that one f32x4 load reads a pixel of all four.
// The tiles of a quad of images sit in V and M at t = (i·tw + j)·4 + lane; U and the 16
// GEMMs are those of the row-wise layout.

/**
 * The H × W planes of `images` (≤ 4) images at src (per floats apart) interleaved pixel by
 * pixel into lanes: pixel (r, s) of image n to at + r·rowBytes + s·16 + n·4. Four images
 * go four pixels at a time (a 4×4 transpose of one f32x4 from each); others one by one.
 */
// @ts-ignore: decorator
@inline function interleave(src: usize, per: i32, images: i32, H: i32, W: i32, at: usize, rowBytes: usize): void {
  const imageBytes = <usize>per * 4;
  let simdW = 0;
  if (images == 4) {
    simdW = W & ~3;
    for (let r = 0; r < H; r++) {
      const from = src + <usize>(r * W) * 4, to = at + <usize>r * rowBytes;
      for (let s = 0; s < simdW; s += 4) {
        const a = from + <usize>s * 4;
        const p0 = v128.load(a), p1 = v128.load(a + imageBytes), p2 = v128.load(a + 2 * imageBytes), p3 = v128.load(a + 3 * imageBytes);
        const t0 = f32x4.shuffle(p0, p1, 0, 4, 1, 5), t1 = f32x4.shuffle(p0, p1, 2, 6, 3, 7);
        const t2 = f32x4.shuffle(p2, p3, 0, 4, 1, 5), t3 = f32x4.shuffle(p2, p3, 2, 6, 3, 7);
        const o = to + <usize>s * 16;
        v128.store(o, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
        v128.store(o, f32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
        v128.store(o, f32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
        v128.store(o, f32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
      }
    }
  }
  for (let n = 0; n < images; n++) {
    const from = src + <usize>n * imageBytes;
    for (let r = 0; r < H; r++) {
      const to = at + <usize>r * rowBytes + <usize>n * 4;
      for (let s = simdW; s < W; s++) store<f32>(to + <usize>s * 16, load<f32>(from + <usize>(r * W + s) * 4));
    }
  }
}

/**
 * V[ξ][c][t] = (Bᵀ d B)[ξ] for channels [c0, c0+count) of the `images` (≤ 4) images at x
 * (inPer floats apart), all th × tw tiles: lane n is image n (lanes past `images` read zeros).
 * plane: (2·th+2)·(2·tw+2)·16 bytes of the calling thread's scratch, for the interleaved
 * padded plane of one channel.
 */
export function winogradInputQuad(x: usize, inPer: i32, images: i32, c0: i32, count: i32, H: i32, W: i32, th: i32, tw: i32,
  v: usize, ldv: i32, xiStride: i32, plane: usize): void {
  const Wp = 2 * tw + 2;
  const rowBytes = <usize>Wp * 16;
  const xiBytes = <usize>xiStride * 4;
  // the border, rows and columns past H × W, and lanes past `images` stay zero for every channel
  memory.fill(plane, 0, <usize>((2 * th + 2) * Wp) * 16);
  for (let c = c0; c < c0 + count; c++) {
    interleave(x + <usize>(c * H * W) * 4, inPer, images, H, W, plane + rowBytes + 16, rowBytes);
    let out = v + <usize>(c * ldv) * 4;
    for (let i = 0; i < th; i++) {
      for (let j = 0; j < tw; j++, out += 16) {
        let at = plane + <usize>(2 * i) * rowBytes + <usize>(2 * j) * 16;
        const d00 = v128.load(at), d01 = v128.load(at, 16), d02 = v128.load(at, 32), d03 = v128.load(at, 48);
        at += rowBytes;
        const d10 = v128.load(at), d11 = v128.load(at, 16), d12 = v128.load(at, 32), d13 = v128.load(at, 48);
        at += rowBytes;
        const d20 = v128.load(at), d21 = v128.load(at, 16), d22 = v128.load(at, 32), d23 = v128.load(at, 48);
        at += rowBytes;
        const d30 = v128.load(at), d31 = v128.load(at, 16), d32 = v128.load(at, 32), d33 = v128.load(at, 48);
        inputTransform(d00, d01, d02, d03, d10, d11, d12, d13, d20, d21, d22, d23, d30, d31, d32, d33, out, xiBytes);
      }
    }
  }
}

/** stores lane `lane` of the tile outputs at tmp (see outputTransform) as the 2×2 block at `at` of a W-wide plane, clipped to `rows` × `cols` */
// @ts-ignore: decorator
@inline function storeTileLane(tmp: usize, lane: usize, at: usize, W: i32, rows: i32, cols: i32): void {
  store<f32>(at, load<f32>(tmp + lane * 4));
  if (cols > 1) store<f32>(at, load<f32>(tmp + 16 + lane * 4), 4);
  if (rows > 1) {
    const below = at + <usize>W * 4;
    store<f32>(below, load<f32>(tmp + 32 + lane * 4));
    if (cols > 1) store<f32>(below, load<f32>(tmp + 48 + lane * 4), 4);
  }
}

/**
 * y[n][co] (H × W, plus bias[co] when hasBias) = Aᵀ M A for the `images` (≤ 4) images at y
 * (outPer floats apart) of a quad laid out by winogradInputQuad, output channels
 * [co0, co0+count). tmp: 64 bytes of the calling thread's scratch.
 */
export function winogradOutputQuad(m: usize, co0: i32, count: i32, ldm: i32, xiStride: i32, th: i32, tw: i32,
  y: usize, outPer: i32, images: i32, H: i32, W: i32, bias: usize, hasBias: bool, tmp: usize): void {
  const xiBytes = <usize>xiStride * 4;
  for (let co = co0; co < co0 + count; co++) {
    const b = hasBias ? v128.load32_splat(bias + <usize>co * 4) : f32x4.splat(0);
    let src = m + <usize>(co * ldm) * 4;
    for (let i = 0; i < th; i++) {
      const rows = min(2, H - 2 * i);
      for (let j = 0; j < tw; j++, src += 16) {
        outputTransform(src, xiBytes, b, tmp);
        const cols = min(2, W - 2 * j);
        const at = y + <usize>((co * H + 2 * i) * W + 2 * j) * 4;
        for (let n = 0; n < images; n++) storeTileLane(tmp, <usize>n, at + <usize>(n * outPer) * 4, W, rows, cols);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// The gradient to the weights, by F(3×3, 2×2) (Lavin & Gray §4: the filter gradient of an
// F(2×2, 3×3) layer). For a tile t (2×2 outputs, 4×4 padded input block d, as above),
// dW[ky][kx] gets Σ_ab dy[2i+a][2j+b] · d[a+ky][b+kx], a "valid" correlation of d with the
// 2×2 block g of dy. F(2, 3) as a trilinear form, Σ_ξ (A y')_ξ (Bᵀ d)_ξ (G g)_ξ =
// Σ_ik y'_i d_{i+k} g_k, differentiated by g gives it: dW = Gᵀ [ (A g Aᵀ) ⊙ (Bᵀ d B) ] G,
// with the forward's matrices (A = (Aᵀ)ᵀ, 4×2). Summed over tiles, the ⊙ becomes 16 GEMMs
// M[ξ][co][c] = Σ_t Y[ξ][co][t] · V[ξ][c][t]: V is the forward's input transform
// (winogradInputQuad), Y = A g Aᵀ the transform of dy (winogradGradQuad), and dW the
// transform of M (winogradGradWeights). In the quad layout (four images to the lanes:
// winogradInputQuad, winogradGradQuad) or the row layout (four tiles of a row: winogradPad,
// winogradInput, winogradGradInput), for a single image.

/** A g Aᵀ of four 2×2 blocks of dy at once (one per lane; g_ab: row a, column b), element ξ = 4ρ + κ stored at out + ξ·xiBytes */
// @ts-ignore: decorator
@inline function gradTransform(g00: v128, g01: v128, g10: v128, g11: v128, out: usize, xiBytes: usize): void {
  // A g: rows g0, g0 + g1, g0 - g1, -g1
  const p0 = g00, p1 = g01;
  const q0 = f32x4.add(g00, g10), q1 = f32x4.add(g01, g11);
  const r0 = f32x4.sub(g00, g10), r1 = f32x4.sub(g01, g11);
  const s0 = f32x4.neg(g10), s1 = f32x4.neg(g11);
  // (A g) Aᵀ: the same on each row's two columns; ξ = 4ρ + κ
  let o = out;
  v128.store(o, p0); o += xiBytes;
  v128.store(o, f32x4.add(p0, p1)); o += xiBytes;
  v128.store(o, f32x4.sub(p0, p1)); o += xiBytes;
  v128.store(o, f32x4.neg(p1)); o += xiBytes;
  v128.store(o, q0); o += xiBytes;
  v128.store(o, f32x4.add(q0, q1)); o += xiBytes;
  v128.store(o, f32x4.sub(q0, q1)); o += xiBytes;
  v128.store(o, f32x4.neg(q1)); o += xiBytes;
  v128.store(o, r0); o += xiBytes;
  v128.store(o, f32x4.add(r0, r1)); o += xiBytes;
  v128.store(o, f32x4.sub(r0, r1)); o += xiBytes;
  v128.store(o, f32x4.neg(r1)); o += xiBytes;
  v128.store(o, s0); o += xiBytes;
  v128.store(o, f32x4.add(s0, s1)); o += xiBytes;
  v128.store(o, f32x4.sub(s0, s1)); o += xiBytes;
  v128.store(o, f32x4.neg(s1));
}

/**
 * Y[ξ][co][t] = (A g Aᵀ)[ξ] for output channels [co0, co0+count) of the `images` (≤ 4)
 * images of dy at `dy` (outPer floats apart), all th × tw tiles, t = (i·tw + j)·4 + lane
 * (as winogradInputQuad). plane: (2·th)·(2·tw)·16 bytes of the calling thread's scratch.
 */
export function winogradGradQuad(dy: usize, outPer: i32, images: i32, co0: i32, count: i32, H: i32, W: i32, th: i32, tw: i32,
  y: usize, ldy: i32, xiStride: i32, plane: usize): void {
  const Wp = 2 * tw;
  const rowBytes = <usize>Wp * 16;
  const xiBytes = <usize>xiStride * 4;
  // rows and columns past H × W (odd sizes), and lanes past `images`, stay zero
  memory.fill(plane, 0, <usize>(2 * th * Wp) * 16);
  for (let co = co0; co < co0 + count; co++) {
    interleave(dy + <usize>(co * H * W) * 4, outPer, images, H, W, plane, rowBytes);
    let out = y + <usize>(co * ldy) * 4;
    for (let i = 0; i < th; i++) {
      for (let j = 0; j < tw; j++, out += 16) {
        const at = plane + <usize>(2 * i) * rowBytes + <usize>(2 * j) * 16;
        const g00 = v128.load(at), g01 = v128.load(at, 16), g10 = v128.load(at + rowBytes), g11 = v128.load(at + rowBytes, 16);
        gradTransform(g00, g01, g10, g11, out, xiBytes);
      }
    }
  }
}

/**
 * Y[ξ][co][t] = (A g Aᵀ)[ξ] in the row layout: output channels [co0, co0+count), tile rows
 * i0 .. i0+rows-1 of dy padded by winogradPad (at 0) into Hp × Wp planes (Hp = 2·th,
 * Wp = 2·twp: zeros past H × W), four tiles of a row at a time, t = (i - i0)·twp + j
 * (as winogradInput).
 */
export function winogradGradInput(yp: usize, co0: i32, count: i32, Hp: i32, Wp: i32, i0: i32, rows: i32, twp: i32,
  y: usize, ldy: i32, xiStride: i32): void {
  const rowBytes = <usize>Wp * 4;
  const xiBytes = <usize>xiStride * 4;
  for (let co = co0; co < co0 + count; co++) {
    for (let i = i0; i < i0 + rows; i++) {
      const top = yp + <usize>((co * Hp + 2 * i) * Wp) * 4;
      let out = y + <usize>(co * ldy + (i - i0) * twp) * 4;
      for (let j = 0; j < twp; j += 4, out += 16) {
        // columns 2(j+lane) and 2(j+lane)+1 of rows 2i and 2i+1
        const at = top + <usize>(2 * j) * 4;
        let a0 = v128.load(at), a1 = v128.load(at, 16);
        const g00 = even(a0, a1), g01 = odd(a0, a1);
        a0 = v128.load(at + rowBytes); a1 = v128.load(at + rowBytes, 16);
        const g10 = even(a0, a1), g11 = odd(a0, a1);
        gradTransform(g00, g01, g10, g11, out, xiBytes);
      }
    }
  }
}

/** row ρ of Gᵀ m (Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1]) applied to four values */
// @ts-ignore: decorator
@inline function gradRow0(m0: v128, m1: v128, m2: v128): v128 {
  return f32x4.add(m0, f32x4.mul(f32x4.splat(HALF), f32x4.add(m1, m2)));
}
// @ts-ignore: decorator
@inline function gradRow1(m1: v128, m2: v128): v128 {
  return f32x4.mul(f32x4.splat(HALF), f32x4.sub(m1, m2));
}
// @ts-ignore: decorator
@inline function gradRow2(m1: v128, m2: v128, m3: v128): v128 {
  return f32x4.add(f32x4.mul(f32x4.splat(HALF), f32x4.add(m1, m2)), m3);
}

/** stores lane l < lanes of a at at + l·36 bytes (tap k of 4 filters [c][3][3] in a row) */
// @ts-ignore: decorator
@inline function storeTap(at: usize, a: v128, lanes: i32): void {
  store<f32>(at, f32x4.extract_lane(a, 0));
  if (lanes > 1) store<f32>(at, f32x4.extract_lane(a, 1), 36);
  if (lanes > 2) store<f32>(at, f32x4.extract_lane(a, 2), 72);
  if (lanes > 3) store<f32>(at, f32x4.extract_lane(a, 3), 108);
}

/**
 * dw[co][c] (3×3; dw: [Cout][Cin][3][3]) = Gᵀ M[·][co][c] G (M: [Cout][16][Cin], as U) for
 * output channels [co0, co0+count), four input channels at a time. M must have 3 readable
 * floats past its end (the lanes past Cin are read, not stored).
 */
export function winogradGradWeights(m: usize, Cout: i32, Cin: i32, co0: i32, count: i32, dw: usize): void {
  const xiBytes = <usize>Cin * 4;
  for (let co = co0; co < co0 + count; co++) {
    for (let c = 0; c < Cin; c += 4) {
      let s = m + <usize>(co * 16 * Cin + c) * 4;
      const m00 = v128.load(s); s += xiBytes; const m01 = v128.load(s); s += xiBytes;
      const m02 = v128.load(s); s += xiBytes; const m03 = v128.load(s); s += xiBytes;
      const m10 = v128.load(s); s += xiBytes; const m11 = v128.load(s); s += xiBytes;
      const m12 = v128.load(s); s += xiBytes; const m13 = v128.load(s); s += xiBytes;
      const m20 = v128.load(s); s += xiBytes; const m21 = v128.load(s); s += xiBytes;
      const m22 = v128.load(s); s += xiBytes; const m23 = v128.load(s); s += xiBytes;
      const m30 = v128.load(s); s += xiBytes; const m31 = v128.load(s); s += xiBytes;
      const m32 = v128.load(s); s += xiBytes; const m33 = v128.load(s);
      // Gᵀ M: rows, column by column
      const a0 = gradRow0(m00, m10, m20), a1 = gradRow0(m01, m11, m21), a2 = gradRow0(m02, m12, m22), a3 = gradRow0(m03, m13, m23);
      const b0 = gradRow1(m10, m20), b1 = gradRow1(m11, m21), b2 = gradRow1(m12, m22), b3 = gradRow1(m13, m23);
      const e0 = gradRow2(m10, m20, m30), e1 = gradRow2(m11, m21, m31), e2 = gradRow2(m12, m22, m32), e3 = gradRow2(m13, m23, m33);
      // (Gᵀ M) G: the same along each row; tap k = 3·ky + kx of lane l at dw + ((co·Cin + c + l)·9 + k)·4
      const lanes = min(4, Cin - c);
      const at = dw + <usize>((co * Cin + c) * 9) * 4;
      storeTap(at, gradRow0(a0, a1, a2), lanes);
      storeTap(at + 4, gradRow1(a1, a2), lanes);
      storeTap(at + 8, gradRow2(a1, a2, a3), lanes);
      storeTap(at + 12, gradRow0(b0, b1, b2), lanes);
      storeTap(at + 16, gradRow1(b1, b2), lanes);
      storeTap(at + 20, gradRow2(b1, b2, b3), lanes);
      storeTap(at + 24, gradRow0(e0, e1, e2), lanes);
      storeTap(at + 28, gradRow1(e1, e2), lanes);
      storeTap(at + 32, gradRow2(e1, e2, e3), lanes);
    }
  }
}

/**
 * U[ξ][co][c] = (G g Gᵀ)[ξ] for the filters g = w[co][c] (w: [Cout][Cin][3][3]; U:
 * [Cout][16][Cin], see the header) with co in [co0, co0+count), four input channels at a time (one per
 * lane, so that U is written a f32x4 at a time). With `flip`, the filters are those of the
 * gradient to the input in its forward form: g = w[c][co] turned by 180° (w: [Cin][Cout][3][3],
 * as gemm.as's flipFilters would make them), read in place.
 */
export function winogradWeights(w: usize, Cout: i32, Cin: i32, co0: i32, count: i32, u: usize, flip: bool): void {
  const xiBytes = <usize>Cin * 4;
  const laneBytes: usize = flip ? <usize>Cout * 36 : 36;
  for (let co = co0; co < co0 + count; co++) {
    for (let c = 0; c < Cin; c += 4) {
      // tap 0 of lane 0's filter: the taps follow 4 bytes apart, or 4 bytes back when turned
      const g = flip ? w + <usize>((c * Cout + co) * 9 + 8) * 4 : w + <usize>((co * Cin + c) * 9) * 4;
      filterTransform(g, flip, laneBytes, min(4, Cin - c), u + <usize>(co * 16 * Cin + c) * 4, xiBytes);
    }
  }
}

/** tap k of `lanes` filters (lane l's filter laneBytes after lane 0's), 0 in the lanes past them */
// @ts-ignore: decorator
@inline function tap(g: usize, flip: bool, laneBytes: usize, lanes: i32, k: usize): v128 {
  const at = flip ? g - k * 4 : g + k * 4;
  let t = f32x4.splat(load<f32>(at));
  t = f32x4.replace_lane(t, 1, lanes > 1 ? load<f32>(at + laneBytes) : 0);
  t = f32x4.replace_lane(t, 2, lanes > 2 ? load<f32>(at + 2 * laneBytes) : 0);
  t = f32x4.replace_lane(t, 3, lanes > 3 ? load<f32>(at + 3 * laneBytes) : 0);
  return t;
}

/** stores the first `lanes` lanes of a at `at` */
// @ts-ignore: decorator
@inline function storeFirst(at: usize, a: v128, lanes: i32): void {
  if (lanes == 4) v128.store(at, a);
  else storeLanes(at, a, lanes);
}

/** G g Gᵀ of `lanes` 3×3 filters (see tap), element ξ of lane l stored at o + ξ·xiBytes + 4l */
// @ts-ignore: decorator
@inline function filterTransform(g: usize, flip: bool, laneBytes: usize, lanes: i32, o: usize, xiBytes: usize): void {
  const g00 = tap(g, flip, laneBytes, lanes, 0), g01 = tap(g, flip, laneBytes, lanes, 1), g02 = tap(g, flip, laneBytes, lanes, 2);
  const g10 = tap(g, flip, laneBytes, lanes, 3), g11 = tap(g, flip, laneBytes, lanes, 4), g12 = tap(g, flip, laneBytes, lanes, 5);
  const g20 = tap(g, flip, laneBytes, lanes, 6), g21 = tap(g, flip, laneBytes, lanes, 7), g22 = tap(g, flip, laneBytes, lanes, 8);
  const half = f32x4.splat(HALF);
  // G g (4×3), column by column
  const q00 = g00, q01 = g01, q02 = g02;
  const q10 = f32x4.mul(half, f32x4.add(f32x4.add(g00, g10), g20));
  const q11 = f32x4.mul(half, f32x4.add(f32x4.add(g01, g11), g21));
  const q12 = f32x4.mul(half, f32x4.add(f32x4.add(g02, g12), g22));
  const q20 = f32x4.mul(half, f32x4.add(f32x4.sub(g00, g10), g20));
  const q21 = f32x4.mul(half, f32x4.add(f32x4.sub(g01, g11), g21));
  const q22 = f32x4.mul(half, f32x4.add(f32x4.sub(g02, g12), g22));
  const q30 = g20, q31 = g21, q32 = g22;
  // (G g) Gᵀ, row by row: ξ = 4ρ + κ
  storeFirst(o, q00, lanes); o += xiBytes;
  storeFirst(o, f32x4.mul(half, f32x4.add(f32x4.add(q00, q01), q02)), lanes); o += xiBytes;
  storeFirst(o, f32x4.mul(half, f32x4.add(f32x4.sub(q00, q01), q02)), lanes); o += xiBytes;
  storeFirst(o, q02, lanes); o += xiBytes;
  storeFirst(o, q10, lanes); o += xiBytes;
  storeFirst(o, f32x4.mul(half, f32x4.add(f32x4.add(q10, q11), q12)), lanes); o += xiBytes;
  storeFirst(o, f32x4.mul(half, f32x4.add(f32x4.sub(q10, q11), q12)), lanes); o += xiBytes;
  storeFirst(o, q12, lanes); o += xiBytes;
  storeFirst(o, q20, lanes); o += xiBytes;
  storeFirst(o, f32x4.mul(half, f32x4.add(f32x4.add(q20, q21), q22)), lanes); o += xiBytes;
  storeFirst(o, f32x4.mul(half, f32x4.add(f32x4.sub(q20, q21), q22)), lanes); o += xiBytes;
  storeFirst(o, q22, lanes); o += xiBytes;
  storeFirst(o, q30, lanes); o += xiBytes;
  storeFirst(o, f32x4.mul(half, f32x4.add(f32x4.add(q30, q31), q32)), lanes); o += xiBytes;
  storeFirst(o, f32x4.mul(half, f32x4.add(f32x4.sub(q30, q31), q32)), lanes); o += xiBytes;
  storeFirst(o, q32, lanes);
}
