/**
 * Single-precision GEMM and the im2col / col2im of a stride-1 "same" convolution, in
 * AssemblyScript compiled to WebAssembly with 128-bit SIMD (scripts/build-wasm.mjs builds
 * two variants of this one source: f32x4 mul + add, and f32x4.relaxed_madd, a real FMA).
 * kernels/wasm/runtime.ts loads it and the family files (conv.ts, winograd.ts, linear.ts,
 * pointwise.ts) drive it; ../shared/WASM.md has the measurements behind the choices below.
 *
 * Memory: the module imports one shared linear memory and allocates nothing. Every argument
 * named like a matrix is a byte address in that memory, every stride and size counts f32
 * elements. The caller owns all buffers, including `scratch` (gemmScratchBytes() bytes,
 * one per thread that runs at the same time).
 *
 * GEMM: C[M×N] = A[M×K]·B[K×N] (+ C when `accumulate`), element (i, j) of C at
 * c + (i*ldc + j)*4, A(i, k) at a + (i*rsA + k*csA)*4, B(k, j) at b + (k*rsB + j*csB)*4.
 * Row and column strides express transposed operands: Aᵀ of a row-major [K×M] matrix is
 * rsA = 1, csA = M. Loops, in the usual blocked order:
 *   for each NC columns of B (jc), each KC-deep slice (pc):  pack B[pc.., jc..] into slivers
 *     for each MC rows of A (ic):                           pack A[ic.., pc..] into slivers
 *       for each 8-column sliver of B (jr), each 4-row sliver of A (ir):  micro-kernel
 * Packed layout: an A sliver is kc steps of its 4 rows (a[k*4 + i]), a B sliver kc steps
 * of its 8 columns (b[k*8 + j]); a sliver past the edge of the matrix is padded with zeros.
 * Packing reads either operand in either orientation with SIMD when one of its strides is
 * 1 (a copy, or 4×4 transposes), otherwise element by element.
 *
 * Micro-kernel (4×8): 8 f32x4 accumulators hold the 4×8 tile of C; each k step loads two
 * f32x4 of the B sliver and broadcasts the 4 values of the A sliver, 8 multiply-adds.
 * 8 accumulators + 2 + 4 loads = 14 vector registers, within the 15 that V8 gives WASM.
 * An edge tile (fewer than 4 rows or 8 columns left) is computed whole, stored to the
 * 4×8 `tile` in scratch, and its valid part copied out.
 *
 * im2col / col2im, one image x[C, H, W] (flat (c*H + y)*W + x), a k×k kernel (k odd,
 * padding P = (k - 1) / 2), output rows y0 .. y0+rows-1 (a band of the image):
 *   col[(c*k + ky)*k + kx][(oy - y0)*W + ox] = x[c, oy+ky-P, ox+kx-P], 0 outside the image;
 * col has C*k*k rows of rows*W columns, so a convolution's forward is W[Cout × C*k*k]·col.
 * col2imAdd adds each element of col back onto the x position it was read from.
 */

/** micro-kernel tile: MR rows of C by NR columns */
const MR: usize = 4;
const NR: usize = 8;
/** cache blocks: KC-deep slices, MC rows of A (packed: 128 KiB, in L2), NC columns of B (1 MiB) */
const KC: usize = 256;
const MC: usize = 128;
const NC: usize = 1024;

// scratch layout (bytes): packed A, packed B, the edge tile
const PACK_A_BYTES: usize = MC * KC * 4;
const PACK_B_BYTES: usize = KC * NC * 4;
const TILE_BYTES: usize = MR * NR * 4;

/** Bytes of `scratch` that gemm needs (one per concurrent caller). */
export function gemmScratchBytes(): usize {
  return PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES;
}

/** The first byte that no static data of this module uses: callers place buffers from here. */
export function heapBase(): usize {
  return __heap_base;
}

/** a·b + c on four lanes: one fused multiply-add in the relaxed build */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** stores one row of the tile (two f32x4) to C, adding what is there when `accumulate` */
// @ts-ignore: decorator
@inline function storeRow(c: usize, lo: v128, hi: v128, accumulate: bool): void {
  if (accumulate) {
    lo = f32x4.add(lo, v128.load(c));
    hi = f32x4.add(hi, v128.load(c, 16));
  }
  v128.store(c, lo);
  v128.store(c, hi, 16);
}

/** C[mr×nr] (+)= packed A sliver · packed B sliver, over kc steps (mr ≤ 4, nr ≤ 8) */
function microKernel(kc: usize, a: usize, b: usize, c: usize, ldc: usize, accumulate: bool, mr: usize, nr: usize, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let k: usize = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    const a1 = v128.load32_splat(a, 4);
    const a2 = v128.load32_splat(a, 8);
    const a3 = v128.load32_splat(a, 12);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    c30 = madd(a3, b0, c30);
    c31 = madd(a3, b1, c31);
    a += MR * 4;
    b += NR * 4;
  }
  if (mr == MR && nr == NR) {
    const row = ldc * 4;
    storeRow(c, c00, c01, accumulate);
    storeRow(c + row, c10, c11, accumulate);
    storeRow(c + 2 * row, c20, c21, accumulate);
    storeRow(c + 3 * row, c30, c31, accumulate);
    return;
  }
  storeRow(tile, c00, c01, false);
  storeRow(tile + NR * 4, c10, c11, false);
  storeRow(tile + 2 * NR * 4, c20, c21, false);
  storeRow(tile + 3 * NR * 4, c30, c31, false);
  for (let i: usize = 0; i < mr; i++) {
    for (let j: usize = 0; j < nr; j++) {
      const at = c + (i * ldc + j) * 4;
      const v = load<f32>(tile + (i * NR + j) * 4);
      store<f32>(at, accumulate ? load<f32>(at) + v : v);
    }
  }
}

/** the 4×4 transpose of rows r0..r3, stored as 4 rows `step` bytes apart from dst */
// @ts-ignore: decorator
@inline function storeTransposed(dst: usize, step: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5); // r0[0] r1[0] r0[1] r1[1]
  const t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, f32x4.shuffle(t0, t2, 0, 1, 4, 5)); // r0[0] r1[0] r2[0] r3[0]
  v128.store(dst + step, f32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * step, f32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, f32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

/**
 * Packs one sliver of R lanes (R = MR rows of A, or NR columns of B) over kc steps:
 * dst[k*R + l] = src[l*laneStride + k*kStride] for l < lanes, 0 for lanes ≤ l < R.
 */
function packSliver(src: usize, laneStride: usize, kStride: usize, lanes: usize, R: usize, kc: usize, dst: usize): void {
  let k: usize = 0;
  if (lanes == R && laneStride == 1) {
    // the R lanes of a step are contiguous: copy them
    for (; k < kc; k++) {
      for (let l: usize = 0; l < R; l += 4) v128.store(dst + (k * R + l) * 4, v128.load(src + (k * kStride + l) * 4));
    }
  } else if (lanes == R && kStride == 1) {
    // each lane is contiguous along k: transpose 4 lanes × 4 steps at a time
    for (; k + 4 <= kc; k += 4) {
      for (let l: usize = 0; l < R; l += 4) {
        const s = src + (l * laneStride + k) * 4;
        const ls = laneStride * 4;
        storeTransposed(dst + (k * R + l) * 4, R * 4, v128.load(s), v128.load(s + ls), v128.load(s + 2 * ls), v128.load(s + 3 * ls));
      }
    }
  }
  for (; k < kc; k++) {
    for (let l: usize = 0; l < R; l++) {
      store<f32>(dst + (k * R + l) * 4, l < lanes ? load<f32>(src + (l * laneStride + k * kStride) * 4) : 0);
    }
  }
}

/** Packs `count` lanes (rows of A or columns of B) into consecutive slivers of R lanes. */
function packPanel(src: usize, laneStride: usize, kStride: usize, count: usize, R: usize, kc: usize, dst: usize): void {
  for (let l: usize = 0; l < count; l += R) {
    packSliver(src + l * laneStride * 4, laneStride, kStride, min(R, count - l), R, kc, dst + l * kc * 4);
  }
}

/** the block size that cuts `count` into the fewest blocks of at most `most` (a multiple of `unit`), as evenly as `unit` allows */
function evenBlock(count: usize, most: usize, unit: usize): usize {
  const blocks = max<usize>(1, (count + most - 1) / most);
  const size = (count + blocks - 1) / blocks;
  return (size + unit - 1) / unit * unit;
}

/** C[M×N] = A[M×K]·B[K×N] (+ C when accumulate); see the header for the layouts */
export function gemm(M: usize, N: usize, K: usize, a: usize, rsA: usize, csA: usize, b: usize, rsB: usize, csB: usize,
  c: usize, ldc: usize, accumulate: bool, scratch: usize): void {
  if (K == 0 && !accumulate) {
    for (let i: usize = 0; i < M; i++) memory.fill(c + i * ldc * 4, 0, N * 4);
  }
  const packA = scratch;
  const packB = scratch + PACK_A_BYTES;
  const tile = packB + PACK_B_BYTES;
  // blocks of even size: K = 576 runs as 2 × 288, not 256 + 256 + 64
  const ncMost = evenBlock(N, NC, NR), kcMost = evenBlock(K, KC, 1), mcMost = evenBlock(M, MC, MR);
  for (let jc: usize = 0; jc < N; jc += ncMost) {
    const nc = min(ncMost, N - jc);
    for (let pc: usize = 0; pc < K; pc += kcMost) {
      const kc = min(kcMost, K - pc);
      packPanel(b + (pc * rsB + jc * csB) * 4, csB, rsB, nc, NR, kc, packB);
      const acc = accumulate || pc > 0;
      for (let ic: usize = 0; ic < M; ic += mcMost) {
        const mc = min(mcMost, M - ic);
        packPanel(a + (ic * rsA + pc * csA) * 4, rsA, csA, mc, MR, kc, packA);
        for (let jr: usize = 0; jr < nc; jr += NR) {
          for (let ir: usize = 0; ir < mc; ir += MR) {
            microKernel(kc, packA + ir * kc * 4, packB + jr * kc * 4, c + ((ic + ir) * ldc + jc + jr) * 4, ldc, acc,
              min(MR, mc - ir), min(NR, nc - jr), tile);
          }
        }
      }
    }
  }
}

/** For tap kx, the output columns [first, last) whose input column ox+kx-P is inside the image. */
// @ts-ignore: decorator
@inline function firstColumn(kx: i32, P: i32): i32 {
  return max(0, P - kx);
}
// @ts-ignore: decorator
@inline function lastColumn(kx: i32, P: i32, W: i32): i32 {
  return min(W, W + P - kx);
}

/** copies n floats from src to dst (any alignment), a f32x4 at a time */
// @ts-ignore: decorator
@inline function copyFloats(dst: usize, src: usize, n: usize): void {
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + i * 4, v128.load(src + i * 4));
  if (n - i >= 2) {
    store<u64>(dst + i * 4, load<u64>(src + i * 4));
    i += 2;
  }
  if (i < n) store<f32>(dst + i * 4, load<f32>(src + i * 4));
}

/**
 * col[C*k*k × rows*W] of output rows y0 .. y0+rows-1 of one image x[C, H, W]; see the header.
 * Row r of col starts at col + r*ldcol*4 (ldcol = rows*W when col holds this image alone;
 * more when the cols of several images sit side by side).
 *
 * Each channel's rows y0-P .. y0+rows+P-1 are first copied into a zero-bordered plane of
 * (rows+2P) × (W+2P) in the packed-B area of `scratch` (the calling thread's GEMM scratch,
 * free between GEMMs), so that every row of col is one plain copy of W floats, with no edge
 * cases: on 4×4 and 2×2 images a row is one or half a f32x4, where a memory.copy per row
 * (and fills for its edges) cost ten times the copy itself. A plane too big for the area
 * (a first layer of over ~510 × 510 pixels, whose band is the whole image) takes the
 * row-by-row path instead.
 */
export function im2col(x: usize, C: i32, H: i32, W: i32, k: i32, y0: i32, rows: i32, col: usize, ldcol: i32, scratch: usize): void {
  const P = (k - 1) / 2;
  const Wp = W + 2 * P, Rp = rows + 2 * P;
  if (<usize>(Rp * Wp) * 4 > PACK_B_BYTES) {
    im2colRows(x, C, H, W, k, y0, rows, col, ldcol);
    return;
  }
  const pad = scratch + PACK_A_BYTES;
  // the border, and rows outside the image, stay zero for every channel: fill once
  memory.fill(pad, 0, <usize>(Rp * Wp) * 4);
  const first = max(0, y0 - P), last = min(H, y0 + rows + P); // the image rows the band reads
  const rowBytes = <usize>Wp * 4, lineBytes = <usize>W * 4;
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let iy = first; iy < last; iy++) {
      copyFloats(pad + <usize>(iy - y0 + P) * rowBytes + <usize>P * 4, x + <usize>((c * H + iy) * W) * 4, <usize>W);
    }
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++, r++) {
        let dst = col + <usize>r * <usize>ldcol * 4;
        let src = pad + <usize>ky * rowBytes + <usize>kx * 4;
        for (let oy = 0; oy < rows; oy++, dst += lineBytes, src += rowBytes) copyFloats(dst, src, <usize>W);
      }
    }
  }
}

/** im2col row by row, the edges of each row filled with zeros: for planes too big to pad in scratch */
function im2colRows(x: usize, C: i32, H: i32, W: i32, k: i32, y0: i32, rows: i32, col: usize, ldcol: i32): void {
  const P = (k - 1) / 2;
  let r = 0;
  for (let c = 0; c < C; c++) {
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++, r++) {
        const first = firstColumn(kx, P), last = lastColumn(kx, P, W);
        let dst = col + <usize>r * <usize>ldcol * 4;
        for (let oy = y0; oy < y0 + rows; oy++, dst += <usize>W * 4) {
          const iy = oy + ky - P;
          if (iy < 0 || iy >= H || first >= last) {
            memory.fill(dst, 0, <usize>W * 4);
            continue;
          }
          memory.fill(dst, 0, <usize>first * 4);
          memory.copy(dst + <usize>first * 4, x + <usize>((c * H + iy) * W + first + kx - P) * 4, <usize>(last - first) * 4);
          memory.fill(dst + <usize>last * 4, 0, <usize>(W - last) * 4);
        }
      }
    }
  }
}

/**
 * Planes c0 .. c0+count-1 of g images src[g][C][P] side by side: dst[c][n*P + p] =
 * src[n][c][p] (dst is [C × g*P]), so that a GEMM runs over the pixels of g small images at once.
 */
export function batchPlanes(src: usize, g: i32, C: i32, P: i32, c0: i32, count: i32, dst: usize): void {
  const bytes = <usize>P * 4;
  for (let c = c0; c < c0 + count; c++) {
    for (let n = 0; n < g; n++) memory.copy(dst + <usize>(c * g + n) * bytes, src + <usize>(n * C + c) * bytes, bytes);
  }
}

/** batchPlanes' inverse, plus bias[c] when hasBias: dst[n][c][p] = src[c][n*P + p] (+ bias[c]) */
export function unbatchPlanes(src: usize, g: i32, C: i32, P: i32, c0: i32, count: i32, dst: usize, bias: usize, hasBias: bool): void {
  const bytes = <usize>P * 4;
  for (let c = c0; c < c0 + count; c++) {
    const b = hasBias ? load<f32>(bias + <usize>c * 4) : <f32>0;
    const bv = f32x4.splat(b);
    for (let n = 0; n < g; n++) {
      const from = src + <usize>(c * g + n) * bytes, to = dst + <usize>(n * C + c) * bytes;
      if (!hasBias) {
        memory.copy(to, from, bytes);
        continue;
      }
      let i: usize = 0;
      for (; i + 16 <= bytes; i += 16) v128.store(to + i, f32x4.add(v128.load(from + i), bv));
      for (; i < bytes; i += 4) store<f32>(to + i, load<f32>(from + i) + b);
    }
  }
}

/**
 * The filters of the gradient to the input as a forward convolution: out[ci][co][kk] =
 * w[co][ci][k*k-1-kk] (w: [Cout][Cin][k][k]; turned by 180°, in and out swapped), for
 * ci in [c0, c0+count).
 */
export function flipFilters(w: usize, Cout: i32, Cin: i32, k: i32, c0: i32, count: i32, out: usize): void {
  const kk = k * k;
  for (let ci = c0; ci < c0 + count; ci++) {
    for (let co = 0; co < Cout; co++) {
      const from = w + <usize>((co * Cin + ci) * kk) * 4, to = out + <usize>((ci * Cout + co) * kk) * 4;
      for (let t = 0; t < kk; t++) store<f32>(to + <usize>t * 4, load<f32>(from + <usize>(kk - 1 - t) * 4));
    }
  }
}

/** dx[C, H, W] += the col of output rows y0 .. y0+rows-1 scattered back (im2col's adjoint) */
export function col2imAdd(col: usize, C: i32, H: i32, W: i32, k: i32, y0: i32, rows: i32, dx: usize): void {
  const P = (k - 1) / 2;
  let src = col;
  for (let c = 0; c < C; c++) {
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++) {
        const first = firstColumn(kx, P), last = lastColumn(kx, P, W);
        for (let oy = y0; oy < y0 + rows; oy++, src += <usize>W * 4) {
          const iy = oy + ky - P;
          if (iy < 0 || iy >= H) continue;
          const from = src + <usize>first * 4;
          const to = dx + <usize>((c * H + iy) * W + first + kx - P) * 4;
          const n = <usize>max(0, last - first) * 4;
          let i: usize = 0;
          for (; i + 16 <= n; i += 16) v128.store(to + i, f32x4.add(v128.load(to + i), v128.load(from + i)));
          for (; i < n; i += 4) store<f32>(to + i, load<f32>(to + i) + load<f32>(from + i));
        }
      }
    }
  }
}
