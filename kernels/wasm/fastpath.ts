/**
 * The CPU fast path: convolutions and fully connected layers as im2col + GEMM on the
 * WebAssembly SIMD kernels of gemm.as (built with pointwise.as by scripts/build-wasm.mjs into
 * dist/kernels/wasm/), on one or more threads. Node only (it reads the .wasm from disk and
 * runs worker_threads). The launchers take and return the same float32 layouts as the
 * gpu.js launchers of kernels/conv2d.ts and kernels/linear.ts:
 *
 *   conv  x [N, Cin, H, W]   w [Cout, Cin, K, K] = W[Cout × Cin·K·K]   y, dy [N, Cout, H, W]
 *     forward          y_n = W · col(x_n) + b          (col: im2col, [Cin·K·K × H·W])
 *     backward input   dx_n = col2im(Wᵀ · dy_n)
 *     backward weight  dW = Σ_n dy_n · col(x_n)ᵀ
 *     a 1×1 convolution uses x_n itself as col (no copy).
 *   linear  x [N, In]   w [Out, In]   y, dy [N, Out]
 *     y = x·wᵀ + b     dx = dy·w     dw = dyᵀ·x
 * Transposes are never made: the GEMM reads Wᵀ, col(x)ᵀ, wᵀ and dyᵀ through strides.
 * Where it saves (useWinograd, winogradWeightLayout), a 3×3 convolution runs Winograd's
 * F(2×2, 3×3) instead, forward and input gradient, and F(3×3, 2×2) for the weight
 * gradient (winograd.as); a linear layer at batch 1 runs gemv.
 * It also runs the memory-bound kernels of pointwise.as (ReLU, max-pool 2×2, add / mul /
 * scale / sum, the SGD update, dropout) with the same signatures and results as the
 * launchers of kernels/relu.ts, maxpool2d.ts, elementwise.ts and dropout.ts, on the
 * calling thread only (they are limited by memory bandwidth, not arithmetic), block by
 * block (FLAT_BLOCK).
 *
 * Memory: one shared WebAssembly.Memory, grown as needed, never shrunk. From the module's
 * heap base: one GEMM scratch area per thread (packed panels), then the buffers of the
 * call that runs (weights, one image's input and output, a col buffer per thread), placed
 * anew by each call. Inputs are copied in per image, outputs copied out. Work that would
 * need a big col buffer runs in bands of output rows (BAND_FLOATS), a big linear weight in
 * blocks of output features (WEIGHT_BLOCK_FLOATS), so memory stays near the size of one
 * image's activations.
 *
 * Threads: with T threads, the work of each image (each weight block) is cut into T parts
 * that write disjoint outputs: the forward by rows of the output image, the input and
 * weight gradients by input channels, linear layers by columns of the result. Part 0 runs
 * on the calling thread, the others on worker threads that share the memory; each part
 * is a list of calls of the module's exports, posted through a channel of shared memory
 * (Helper). Winograd's work splits by channels instead (its transforms, then its GEMMs),
 * or, for thin layers on big images, by tile rows (winogradConv).
 */
import { allocate, isSettled } from '../../lib/pool.js';
import type { Conv2dDims } from '../conv2d.js';
import type { LinearDims } from '../linear.js';
import type { PoolDims } from '../maxpool2d.js';
import {
  type GemmModule, BAND_FLOATS, BATCH_PIXELS, FEW_ROWS, WEIGHT_BLOCK_FLOATS, WINOGRAD_BAND_FLOATS, WINOGRAD_MIN_CHANNELS, WINOGRAD_MIN_TILES,
  WINOGRAD_QUAD_BAND_FLOATS,
} from './module.js';
import type { Call } from './threads.js';
import { type FastPath, type Operand, type Range, bands, copyOut, gemm, place, reserve, runParts, split, threadsFor, view, withFastPath } from './runtime.js';
import { forwardFilters, plainFilters, winogradFilters } from './filters.js';

export type { Conv3x3Algorithm, FastPathInfo, FastPathOptions, SimdBuild } from './module.js';
export { WINOGRAD_MIN_CHANNELS } from './module.js';
export { RESIDENT_BYTES } from './resident.js';
export { getFastPathInfo, initFastPath } from './runtime.js';

// ---------------------------------------------------------------------------------------
// Convolution (stride 1, same padding).

/** output rows per band, so that a band's col of `channels` input channels fits BAND_FLOATS (a 1×1 conv needs no col) */
function bandRows(d: Conv2dDims, channels: number): number {
  return d.K === 1 ? d.H : Math.max(1, Math.min(d.H, Math.floor(BAND_FLOATS / (channels * d.K * d.K * d.W))));
}

/** floats of the col buffer of `channels` input channels and `rows` output rows (none for a 1×1 conv) */
function colFloats(d: Conv2dDims, channels: number, rows: number): number {
  return d.K === 1 ? 0 : channels * d.K * d.K * rows * d.W;
}

/**
 * col(x) of channels [c0, c0+count) and output rows `rows`, as a GEMM operand [count·K·K × rows·W]:
 * the im2col buffer `col` (and the call that fills it), or x itself for a 1×1 conv.
 */
function colOf(d: Conv2dDims, x: number, c0: number, count: number, rows: Range, col: number, scratch: number): { calls: Call[]; op: Operand } {
  const HW = d.H * d.W;
  if (d.K === 1) return { calls: [], op: { at: x + (c0 * HW + rows.start * d.W) * 4, rs: HW, cs: 1 } };
  return {
    calls: [['im2col', x + c0 * HW * 4, count, d.H, d.W, d.K, rows.start, rows.count, col, rows.count * d.W, scratch]],
    op: { at: col, rs: rows.count * d.W, cs: 1 },
  };
}

function convMacs(d: Conv2dDims): number {
  return d.Cout * d.Cin * d.K * d.K * d.H * d.W;
}

/** the tiles of F(2×2, 3×3) over an H × W output: th rows of tw, or of twp in the row layout (a multiple of 4: four tiles are transformed at once) */
function winogradTiles(H: number, W: number): { th: number; tw: number; twp: number } {
  const tw = Math.ceil(W / 2);
  return { th: Math.ceil(H / 2), tw, twp: Math.ceil(tw / 4) * 4 };
}

/**
 * Whether Winograd takes a batch's images four at a time, one per SIMD lane (winograd.as's
 * winogradInputQuad), rather than four tiles of a row: for images under 7 columns, whose
 * rows have fewer than four tiles (a 4×4 image would leave half of the lanes empty).
 */
function quadLayout(fp: FastPath, d: Conv2dDims): boolean {
  return winogradTiles(d.H, d.W).tw < 4 && quadPlaneFits(fp, d);
}

/** whether the interleaved padded plane of one channel of four images (winogradInputQuad's `plane`) fits a thread's GEMM scratch */
function quadPlaneFits(fp: FastPath, d: Conv2dDims): boolean {
  const { th, tw } = winogradTiles(d.H, d.W);
  return (2 * th + 2) * (2 * tw + 2) * 16 <= fp.m.gemmScratchBytes();
}

/** tiles of a batch in the quad layout: its images rounded up to a multiple of four */
function quadTiles(d: Conv2dDims): number {
  const { th, tw } = winogradTiles(d.H, d.W);
  return Math.ceil(d.N / 4) * 4 * th * tw;
}

/**
 * Whether Winograd pays under 'auto' over `tiles` tiles (lanes included): at least
 * WINOGRAD_MIN_CHANNELS channels in and out, 2.25× fewer multiply-adds that still save 1.5×
 * after the tiles and lanes that hold no output, and at least WINOGRAD_MIN_TILES tiles to
 * pay for the filters' transform.
 */
function winogradPays(d: Conv2dDims, tiles: number): boolean {
  const saving = (2.25 * d.N * d.H * d.W) / (4 * tiles);
  return d.Cin >= WINOGRAD_MIN_CHANNELS && d.Cout >= WINOGRAD_MIN_CHANNELS && saving >= 1.5 && tiles >= WINOGRAD_MIN_TILES;
}

/**
 * Whether a convolution runs by Winograd's F(2×2, 3×3) (winograd.as) rather than im2col +
 * GEMM. Under 'auto': a 3×3 kernel with at least WINOGRAD_MIN_CHANNELS channels in and out,
 * where the 2.25× fewer multiply-adds still save 1.5× after the tiles that hang over the
 * image's edge or fill no lane (a 3×3 image fills half of its four tiles; in the quad layout,
 * a batch of 5 images takes 8 lanes), and with at least WINOGRAD_MIN_TILES tiles in the
 * batch to pay for the filters' transform (a 2×2 image needs a batch of 32).
 * The choice depends on the shape alone, never on what is resident, so that the same call
 * always gives the same result.
 */
function useWinograd(fp: FastPath, d: Conv2dDims): boolean {
  if (d.K !== 3 || fp.conv3x3 === 'im2col') return false;
  if (fp.conv3x3 === 'winograd') return true;
  const { th, twp } = winogradTiles(d.H, d.W);
  return winogradPays(d, quadLayout(fp, d) ? quadTiles(d) : d.N * th * twp);
}

/**
 * A stride-1 "same" 3×3 convolution by Winograd's F(2×2, 3×3) (see winograd.as): src
 * [N, cin, H, W] into [N, cout, H, W]. The forward pass convolves x with w [cout][cin] and
 * adds the bias; the gradient to the input (flip) convolves dy with w [cin][cout] turned
 * by 180°, in and out swapped (forwardFilters). Work runs in bands whose transformed input and GEMM results
 * fit WINOGRAD_BAND_FLOATS: several whole images when they are small (their tiles side by
 * side in the GEMMs' columns), else bands of one image's tile rows. Threads: the filters'
 * transform by output channels; then per band, the input's transform by channels, and the 16
 * GEMMs and the output's transform by output channels.
 */
async function winogradConv(fp: FastPath, src: Float32Array, cin: number, cout: number, w: Float32Array, bias: Float32Array | null,
  flip: boolean, d: Conv2dDims): Promise<Float32Array> {
  if (quadLayout(fp, d)) return winogradQuadConv(fp, src, cin, cout, w, bias, flip, d);
  const { N, H, W } = d;
  const HW = H * W, inPer = cin * HW, outPer = cout * HW;
  const { th, twp } = winogradTiles(H, W);
  const Hp = 2 * th + 2, Wp = 2 * twp + 2, padPer = cin * Hp * Wp;
  const fitRows = Math.max(1, Math.floor(WINOGRAD_BAND_FLOATS / (16 * (cin + cout) * twp)));
  const threads = threadsFor(fp, convMacs(d));
  let [images, bandRows] = fitRows >= th ? [Math.min(N, Math.floor(fitRows / th)), th] : [1, fitRows];
  // one image to a band, and fewer output channels than the band's tiles (64 or 128 channels at
  // 224² or 112²): the threads split the band's tile rows instead of the channels, each running
  // the input's transform, the 16 GEMMs (all output channels: the thin GEMM of half of 64
  // channels packs each sliver of V for 32 rows only) and the output's transform for its rows,
  // with no barrier between them; the padding comes first, for all channels. Bands of a
  // multiple of `threads` rows share evenly (9 rows went 4 + 5, and the second thread set the pace).
  const byRows = images === 1 && cout < bandRows * twp;
  if (byRows && bandRows < th) bandRows = Math.max(1, bandRows - (bandRows % threads));
  const ld = images * bandRows * twp;
  const uAt = await winogradFilters(fp, w, cin, cout, flip, threads);
  const [bAt, xAt, xpAt, vAt, mAt, yAt] = place(fp, bias?.length ?? 0, images * inPer, images * padPer, 16 * cin * ld, 16 * cout * ld, images * outPer);
  if (bias) view(fp, bAt, bias.length).set(bias);
  const y = allocate(N * outPer);
  for (let n0 = 0; n0 < N; n0 += images) {
    const g = Math.min(images, N - n0);
    view(fp, xAt, g * inPer).set(src.subarray(n0 * inPer, (n0 + g) * inPer));
    if (byRows) await runParts(fp, split(cin, threads).map((p): Call[] => [['winogradPad', xAt, p.start, p.count, H, W, xpAt, Hp, Wp, 1]]));
    for (let i0 = 0; i0 < th; i0 += bandRows) {
      const rows = Math.min(bandRows, th - i0);
      if (byRows) {
        await runParts(fp, split(rows, threads).map((r, t): Call[] => {
          const first = r.start * twp, cols = r.count * twp; // the thread's columns of V and M
          return [
            ['winogradInput', xpAt, 0, cin, Hp, Wp, i0 + r.start, r.count, twp, vAt + first * 4, ld, cin * ld],
            ...winogradGemms({ start: 0, count: cout }, cols, first, cin, cout, uAt, vAt, mAt, ld, fp.scratch[t]),
            ['winogradOutput', mAt + first * 4, 0, cout, ld, cout * ld, i0 + r.start, r.count, twp, yAt, H, W, bAt, bias ? 1 : 0, fp.scratch[t]],
          ];
        }));
        continue;
      }
      const each = Array.from({ length: g }, (_, k) => k);
      const tileAt = (buffer: number, k: number) => buffer + k * rows * twp * 4; // image k's first tile in a band of V or M
      await runParts(fp, split(cin, threads).map((p): Call[] => each.flatMap((k): Call[] => [
        ...(i0 === 0 ? [['winogradPad', xAt + k * inPer * 4, p.start, p.count, H, W, xpAt + k * padPer * 4, Hp, Wp, 1] as Call] : []),
        ['winogradInput', xpAt + k * padPer * 4, p.start, p.count, Hp, Wp, i0, rows, twp, tileAt(vAt, k), ld, cin * ld],
      ])));
      await runParts(fp, split(cout, threads, 4).map((p, t): Call[] => [
        ...winogradGemms(p, g * rows * twp, 0, cin, cout, uAt, vAt, mAt, ld, fp.scratch[t]),
        ...each.map((k): Call => ['winogradOutput', tileAt(mAt, k), p.start, p.count, ld, cout * ld, i0, rows, twp, yAt + k * outPer * 4, H, W, bAt, bias ? 1 : 0, fp.scratch[t]]),
      ]));
    }
    y.set(view(fp, yAt, g * outPer), n0 * outPer);
  }
  return y;
}

/**
 * The bands of the quad layout: `images` (a multiple of four) whose transforms of `channels`
 * channels in all (in and out) fit WINOGRAD_QUAD_BAND_FLOATS, ld = their tiles (V's and M's
 * row length), and for the band of g images from n0, each quad's first image, image count
 * and byte offset in a row of V or M (quad q's tiles take columns [q·4·tiles, (q+1)·4·tiles)).
 */
function quadBands(d: Conv2dDims, channels: number) {
  const { th, tw } = winogradTiles(d.H, d.W);
  const tiles = th * tw;
  const fit = Math.max(1, Math.floor(WINOGRAD_QUAD_BAND_FLOATS / (16 * channels * 4 * tiles))) * 4;
  const images = Math.min(fit, Math.ceil(d.N / 4) * 4);
  return {
    th, tw, images, ld: images * tiles,
    quads: (g: number) => Array.from({ length: Math.ceil(g / 4) }, (_, q) => ({ q, count: Math.min(4, g - 4 * q), col: q * 4 * tiles * 4 })),
    cols: (g: number) => Math.ceil(g / 4) * 4 * tiles,
  };
}

/**
 * M[ξ] = U[ξ]·V[ξ] for ξ < 16, output channels `co` and `cols` columns from column `first`
 * of V and M (rows of ld floats): the GEMMs of a Winograd convolution (U: [cout][16][cin]).
 */
function winogradGemms(co: Range, cols: number, first: number, cin: number, cout: number, uAt: number, vAt: number, mAt: number, ld: number, scratch: number): Call[] {
  return Array.from({ length: 16 }, (_, xi) => gemm(co.count, cols, cin, { at: uAt + (co.start * 16 + xi) * cin * 4, rs: 16 * cin, cs: 1 },
    { at: vAt + (xi * cin * ld + first) * 4, rs: ld, cs: 1 }, mAt + ((xi * cout + co.start) * ld + first) * 4, ld, false, scratch));
}

/**
 * winogradConv for small images, four to a SIMD lane each (quadLayout): a band holds a
 * multiple of four images whose transformed input and GEMM results fit
 * WINOGRAD_QUAD_BAND_FLOATS; in V and M, quad q's tiles take columns [q·4·tiles, (q+1)·4·tiles).
 * Threads as in winogradConv: the input's transform by channels, the 16 GEMMs and the
 * output's transform by output channels.
 */
async function winogradQuadConv(fp: FastPath, src: Float32Array, cin: number, cout: number, w: Float32Array, bias: Float32Array | null,
  flip: boolean, d: Conv2dDims): Promise<Float32Array> {
  const { N, H, W } = d;
  const HW = H * W, inPer = cin * HW, outPer = cout * HW;
  const { th, tw, images, ld, quads, cols } = quadBands(d, cin + cout);
  const threads = threadsFor(fp, convMacs(d));
  const uAt = await winogradFilters(fp, w, cin, cout, flip, threads);
  const [bAt, xAt, vAt, mAt, yAt] = place(fp, bias?.length ?? 0, images * inPer, 16 * cin * ld, 16 * cout * ld, images * outPer);
  if (bias) view(fp, bAt, bias.length).set(bias);
  const y = allocate(N * outPer);
  for (let n0 = 0; n0 < N; n0 += images) {
    const g = Math.min(images, N - n0), each = quads(g);
    view(fp, xAt, g * inPer).set(src.subarray(n0 * inPer, (n0 + g) * inPer));
    await runParts(fp, split(cin, threads).map((p, t): Call[] => each.map(({ q, count, col }): Call =>
      ['winogradInputQuad', xAt + q * 4 * inPer * 4, inPer, count, p.start, p.count, H, W, th, tw, vAt + col, ld, cin * ld, fp.scratch[t]])));
    await runParts(fp, split(cout, threads, 4).map((p, t): Call[] => [
      ...winogradGemms(p, cols(g), 0, cin, cout, uAt, vAt, mAt, ld, fp.scratch[t]),
      ...each.map(({ q, count, col }): Call => ['winogradOutputQuad', mAt + col, p.start, p.count, ld, cout * ld, th, tw,
        yAt + q * 4 * outPer * 4, outPer, count, H, W, bAt, bias ? 1 : 0, fp.scratch[t]]),
    ]));
    y.set(view(fp, yAt, g * outPer), n0 * outPer);
  }
  return y;
}

/**
 * Whether the weight gradient runs by Winograd's F(3×3, 2×2) (winograd.as) rather than
 * im2col + GEMM, and in which layout: 'quad' (four images to the lanes) where its plane fits
 * a thread's scratch and it leaves no more lanes empty than 'rows' (four tiles of a row, one
 * image at a time: for a batch of one, quad would fill a quarter of its lanes). Under 'auto':
 * as useWinograd, at least WINOGRAD_MIN_CHANNELS channels in and out, a saving of 1.5× after
 * the empty lanes and tiles, and WINOGRAD_MIN_TILES tiles; forced 'winograd' takes it always.
 */
function winogradWeightLayout(fp: FastPath, d: Conv2dDims): 'quad' | 'rows' | null {
  if (d.K !== 3 || fp.conv3x3 === 'im2col') return null;
  const { th, twp } = winogradTiles(d.H, d.W);
  const quad = quadTiles(d), rows = d.N * th * twp;
  const layout = quadPlaneFits(fp, d) && quad <= rows ? 'quad' : 'rows';
  if (fp.conv3x3 === 'winograd') return layout;
  return winogradPays(d, layout === 'quad' ? quad : rows) ? layout : null;
}

/**
 * The weight gradient's M [Cout][16][Cin] (as U), reserved first: the buffers placed after it
 * are reused once M is complete (gradientWeights places dW there). 4 floats more, for
 * winogradGradWeights reads a whole f32x4 past the last input channel.
 */
function reserveGradient(fp: FastPath, d: Conv2dDims): number {
  return reserve(fp, 16 * d.Cout * d.Cin + 4);
}

/** M[ξ] (+)= Y[ξ]·V[ξ]ᵀ for ξ < 16 over `K` tiles (V, Y: rows of ld floats), by output channels on the threads */
function gradientGemms(fp: FastPath, d: Conv2dDims, threads: number, K: number, yAt: number, vAt: number, ld: number, mAt: number, accumulate: boolean): Call[][] {
  const { Cin, Cout } = d;
  return split(Cout, threads, 4).map((p, t): Call[] => Array.from({ length: 16 }, (_, xi) =>
    gemm(p.count, Cin, K, { at: yAt + (xi * Cout + p.start) * ld * 4, rs: ld, cs: 1 }, { at: vAt + xi * Cin * ld * 4, rs: 1, cs: ld },
      mAt + (p.start * 16 + xi) * Cin * 4, 16 * Cin, accumulate, fp.scratch[t])));
}

/** dW = Gᵀ M G (winogradGradWeights), by output channels on the threads, copied out */
async function gradientWeights(fp: FastPath, d: Conv2dDims, threads: number, mAt: number): Promise<Float32Array> {
  const dwLength = d.Cout * d.Cin * 9;
  const [dwAt] = place(fp, dwLength);
  await runParts(fp, split(d.Cout, threads).map((p): Call[] => [['winogradGradWeights', mAt, d.Cout, d.Cin, p.start, p.count, dwAt]]));
  return copyOut(fp, dwAt, dwLength);
}

/**
 * dW by F(3×3, 2×2) (winograd.as) in the quad layout: per band of images (a multiple of four whose transforms
 * fit WINOGRAD_QUAD_BAND_FLOATS), V = the input's transform (as the forward's) and Y = dy's,
 * then M[ξ] (+)= Y[ξ]·V[ξ]ᵀ, 16 GEMMs over the band's tiles; at the end dW = Gᵀ M G.
 * Threads: the two transforms by channels (one barrier), the GEMMs and dW's transform by
 * output channels.
 */
async function winogradConvWeight(fp: FastPath, dy: Float32Array, x: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  const { N, H, W, Cin, Cout } = d;
  const HW = H * W, inPer = Cin * HW, outPer = Cout * HW;
  const { th, tw, images, ld, quads, cols } = quadBands(d, Cin + Cout);
  const threads = threadsFor(fp, convMacs(d));
  const mAt = reserveGradient(fp, d);
  const [xAt, dyAt, vAt, yAt] = place(fp, images * inPer, images * outPer, 16 * Cin * ld, 16 * Cout * ld);
  for (let n0 = 0; n0 < N; n0 += images) {
    const g = Math.min(images, N - n0), each = quads(g);
    view(fp, xAt, g * inPer).set(x.subarray(n0 * inPer, (n0 + g) * inPer));
    view(fp, dyAt, g * outPer).set(dy.subarray(n0 * outPer, (n0 + g) * outPer));
    const inChannels = split(Cin, threads), outChannels = split(Cout, threads);
    await runParts(fp, Array.from({ length: threads }, (_, t): Call[] => [
      ...(inChannels[t] ? each.map(({ q, count, col }): Call => ['winogradInputQuad', xAt + q * 4 * inPer * 4, inPer, count,
        inChannels[t].start, inChannels[t].count, H, W, th, tw, vAt + col, ld, Cin * ld, fp.scratch[t]]) : []),
      ...(outChannels[t] ? each.map(({ q, count, col }): Call => ['winogradGradQuad', dyAt + q * 4 * outPer * 4, outPer, count,
        outChannels[t].start, outChannels[t].count, H, W, th, tw, yAt + col, ld, Cout * ld, fp.scratch[t]]) : []),
    ]));
    await runParts(fp, gradientGemms(fp, d, threads, cols(g), yAt, vAt, ld, mAt, n0 > 0));
  }
  return gradientWeights(fp, d, threads, mAt);
}

/**
 * dW by F(3×3, 2×2) in the row layout, image by image: x and dy padded once per image
 * (winogradPad at 1 and at 0), then per band of tile rows (WINOGRAD_BAND_FLOATS) V and Y
 * (winogradInput, winogradGradInput) and M (+)= Y[ξ]·V[ξ]ᵀ; at the end dW = Gᵀ M G.
 * Threads as in winogradConvWeight.
 */
async function winogradRowsConvWeight(fp: FastPath, dy: Float32Array, x: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  const { N, H, W, Cin, Cout } = d;
  const HW = H * W, inPer = Cin * HW, outPer = Cout * HW;
  const { th, twp } = winogradTiles(H, W);
  const Hp = 2 * th + 2, Wp = 2 * twp + 2, Hy = 2 * th, Wy = 2 * twp;
  const bandRows = Math.max(1, Math.min(th, Math.floor(WINOGRAD_BAND_FLOATS / (16 * (Cin + Cout) * twp))));
  const ld = bandRows * twp;
  const threads = threadsFor(fp, convMacs(d));
  const mAt = reserveGradient(fp, d);
  const [xAt, dyAt, xpAt, ypAt, vAt, yAt] = place(fp, inPer, outPer, Cin * Hp * Wp, Cout * Hy * Wy, 16 * Cin * ld, 16 * Cout * ld);
  const inChannels = split(Cin, threads), outChannels = split(Cout, threads);
  let accumulate = false;
  for (let n = 0; n < N; n++) {
    view(fp, xAt, inPer).set(x.subarray(n * inPer, (n + 1) * inPer));
    view(fp, dyAt, outPer).set(dy.subarray(n * outPer, (n + 1) * outPer));
    for (let i0 = 0; i0 < th; i0 += bandRows) {
      const rows = Math.min(bandRows, th - i0);
      await runParts(fp, Array.from({ length: threads }, (_, t): Call[] => {
        const ci = inChannels[t], co = outChannels[t];
        return [
          ...(ci && i0 === 0 ? [['winogradPad', xAt, ci.start, ci.count, H, W, xpAt, Hp, Wp, 1] as Call] : []),
          ...(ci ? [['winogradInput', xpAt, ci.start, ci.count, Hp, Wp, i0, rows, twp, vAt, ld, Cin * ld] as Call] : []),
          ...(co && i0 === 0 ? [['winogradPad', dyAt, co.start, co.count, H, W, ypAt, Hy, Wy, 0] as Call] : []),
          ...(co ? [['winogradGradInput', ypAt, co.start, co.count, Hy, Wy, i0, rows, twp, yAt, ld, Cout * ld] as Call] : []),
        ];
      }));
      await runParts(fp, gradientGemms(fp, d, threads, rows * twp, yAt, vAt, ld, mAt, accumulate));
      accumulate = true;
    }
  }
  return gradientWeights(fp, d, threads, mAt);
}

/** the indices [r.start, r.start + r.count) */
const indices = (r: Range) => Array.from({ length: r.count }, (_, i) => r.start + i);

/** whether a convolution runs several images to a GEMM (more than one, and small images or a col of few rows; `channels`: the GEMM's input channels) */
function useBatched(d: Conv2dDims, channels: number): boolean {
  return d.N > 1 && (d.H * d.W <= BATCH_PIXELS || channels * d.K * d.K <= FEW_ROWS);
}

/** images per group of batchedConv / batchedConvWeight: their col of `channels` input channels fits BAND_FLOATS */
function groupSize(d: Conv2dDims, channels: number): number {
  return Math.max(1, Math.min(d.N, Math.floor(BAND_FLOATS / (channels * d.K * d.K * d.H * d.W))));
}

/**
 * A "same" convolution of small images, several to a GEMM: src [N, cin, H, W] into
 * [N, cout, H, W]. For a group of g images, col [cin·K·K × g·H·W] holds their cols side by
 * side (a 1×1 convolution: their planes), C = F·col, and C's rows are scattered back to
 * image-major planes (+ bias). The forward pass uses F = w; the gradient to the input (flip)
 * F = w turned by 180°, in and out swapped (flipFilters), over dy. Threads: the cols by
 * images (the planes by channels), then the GEMM and the scatter by output channels.
 */
async function batchedConv(fp: FastPath, src: Float32Array, cin: number, cout: number, w: Float32Array, bias: Float32Array | null,
  flip: boolean, d: Conv2dDims): Promise<Float32Array> {
  const { N, H, W, K } = d;
  const HW = H * W, KK = K * K, inPer = cin * HW, outPer = cout * HW;
  const g = groupSize(d, cin);
  const threads = threadsFor(fp, convMacs(d));
  const F = await forwardFilters(fp, w, cin, cout, K, flip, threads);
  const [bAt, xAt, colAt, cAt, yAt] = place(fp, bias?.length ?? 0, g * inPer, cin * KK * g * HW, cout * g * HW, g * outPer);
  if (bias) view(fp, bAt, bias.length).set(bias);
  const y = allocate(N * outPer);
  for (let n0 = 0; n0 < N; n0 += g) {
    const gg = Math.min(g, N - n0), cols = gg * HW;
    view(fp, xAt, gg * inPer).set(src.subarray(n0 * inPer, (n0 + gg) * inPer));
    await runParts(fp, K === 1
      ? split(cin, threads).map((p): Call[] => [['batchPlanes', xAt, gg, cin, HW, p.start, p.count, colAt]])
      : split(gg, threads).map((p, t): Call[] => indices(p).map((k): Call => ['im2col', xAt + k * inPer * 4, cin, H, W, K, 0, H, colAt + k * HW * 4, cols, fp.scratch[t]])));
    await runParts(fp, split(cout, threads, 4).map((p, t): Call[] => [
      gemm(p.count, cols, cin * KK, { at: F + p.start * cin * KK * 4, rs: cin * KK, cs: 1 }, { at: colAt, rs: cols, cs: 1 }, cAt + p.start * cols * 4, cols, false, fp.scratch[t]),
      ['unbatchPlanes', cAt, gg, cout, HW, p.start, p.count, yAt, bAt, bias ? 1 : 0],
    ]));
    y.set(view(fp, yAt, gg * outPer), n0 * outPer);
  }
  return y;
}

/**
 * dW = Σ_groups DY·colᵀ for small images, several to a GEMM: DY [Cout × g·H·W] holds the
 * group's dy planes side by side, col its cols (as in batchedConv), so the GEMM's inner
 * dimension runs over all their pixels. Threads: the cols by images and DY by channels,
 * then the GEMM by input channels (columns of dW).
 */
async function batchedConvWeight(fp: FastPath, dy: Float32Array, x: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  const { N, H, W, K, Cin, Cout } = d;
  const HW = H * W, KK = K * K, inPer = Cin * HW, outPer = Cout * HW, dwLength = Cout * Cin * KK;
  const g = groupSize(d, Cin);
  const [dwAt, dyAt, xAt, colAt, dyBatchAt] = place(fp, dwLength, g * outPer, g * inPer, Cin * KK * g * HW, Cout * g * HW);
  view(fp, dwAt, dwLength).fill(0);
  const threads = threadsFor(fp, convMacs(d));
  for (let n0 = 0; n0 < N; n0 += g) {
    const gg = Math.min(g, N - n0), cols = gg * HW;
    view(fp, dyAt, gg * outPer).set(dy.subarray(n0 * outPer, (n0 + gg) * outPer));
    view(fp, xAt, gg * inPer).set(x.subarray(n0 * inPer, (n0 + gg) * inPer));
    const images = split(gg, threads), inChannels = split(Cin, threads), outChannels = split(Cout, threads);
    await runParts(fp, Array.from({ length: threads }, (_, t): Call[] => [
      ...(K === 1
        ? (inChannels[t] ? [['batchPlanes', xAt, gg, Cin, HW, inChannels[t].start, inChannels[t].count, colAt] as Call] : [])
        : (images[t] ? indices(images[t]).map((k): Call => ['im2col', xAt + k * inPer * 4, Cin, H, W, K, 0, H, colAt + k * HW * 4, cols, fp.scratch[t]]) : [])),
      ...(outChannels[t] ? [['batchPlanes', dyAt, gg, Cout, HW, outChannels[t].start, outChannels[t].count, dyBatchAt] as Call] : []),
    ]));
    await runParts(fp, split(Cin, threads).map((p, t): Call[] => [
      gemm(Cout, p.count * KK, cols, { at: dyBatchAt, rs: cols, cs: 1 }, { at: colAt + p.start * KK * cols * 4, rs: 1, cs: cols },
        dwAt + p.start * KK * 4, Cin * KK, true, fp.scratch[t]),
    ]));
  }
  return copyOut(fp, dwAt, dwLength);
}

/** y_n = W·col(x_n) + b; threads take bands of output rows */
export function conv2dForward(x: Float32Array, w: Float32Array, b: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  return withFastPath(async (fp) => {
    if (useWinograd(fp, d)) return winogradConv(fp, x, d.Cin, d.Cout, w, b, false, d);
    if (useBatched(d, d.Cin)) return batchedConv(fp, x, d.Cin, d.Cout, w, b, false, d);
    const HW = d.H * d.W, KK = d.K * d.K, inPer = d.Cin * HW, outPer = d.Cout * HW;
    const parts = split(d.H, threadsFor(fp, convMacs(d)));
    const band = bandRows(d, d.Cin);
    const wAt = await plainFilters(fp, w);
    const [xAt, yAt, ...cols] = place(fp, inPer, outPer, ...parts.map((p) => colFloats(d, d.Cin, Math.min(band, p.count))));
    const A: Operand = { at: wAt, rs: d.Cin * KK, cs: 1 };
    const y = allocate(d.N * outPer);
    for (let n = 0; n < d.N; n++) {
      view(fp, xAt, inPer).set(x.subarray(n * inPer, (n + 1) * inPer));
      const yv = view(fp, yAt, outPer);
      for (let co = 0; co < d.Cout; co++) yv.fill(b[co], co * HW, (co + 1) * HW);
      await runParts(fp, parts.map((p, t) => bands(p, band).flatMap((rows) => {
        const col = colOf(d, xAt, 0, d.Cin, rows, cols[t], fp.scratch[t]);
        return [...col.calls, gemm(d.Cout, rows.count * d.W, d.Cin * KK, A, col.op, yAt + rows.start * d.W * 4, HW, true, fp.scratch[t])];
      })));
      y.set(view(fp, yAt, outPer), n * outPer);
    }
    return y;
  });
}

/** dx_n = col2im(Wᵀ·dy_n); threads take input channels */
export function conv2dBackwardInput(dy: Float32Array, w: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  return withFastPath(async (fp) => {
    if (useWinograd(fp, d)) return winogradConv(fp, dy, d.Cout, d.Cin, w, null, true, d);
    if (useBatched(d, d.Cout)) return batchedConv(fp, dy, d.Cout, d.Cin, w, null, true, d);
    const HW = d.H * d.W, KK = d.K * d.K, inPer = d.Cin * HW, outPer = d.Cout * HW;
    const parts = split(d.Cin, threadsFor(fp, convMacs(d)));
    const bandOf = parts.map((p) => bandRows(d, p.count));
    const wAt = await plainFilters(fp, w);
    const [dyAt, dxAt, ...cols] = place(fp, outPer, inPer, ...parts.map((p, t) => colFloats(d, p.count, bandOf[t])));
    const dx = allocate(d.N * inPer);
    for (let n = 0; n < d.N; n++) {
      view(fp, dyAt, outPer).set(dy.subarray(n * outPer, (n + 1) * outPer));
      view(fp, dxAt, inPer).fill(0);
      await runParts(fp, parts.map((p, t) => {
        const WT: Operand = { at: wAt + p.start * KK * 4, rs: 1, cs: d.Cin * KK }; // rows of Wᵀ for these channels
        const dxPart = dxAt + p.start * HW * 4;
        if (d.K === 1) return [gemm(p.count, HW, d.Cout, WT, { at: dyAt, rs: HW, cs: 1 }, dxPart, HW, false, fp.scratch[t])];
        return bands({ start: 0, count: d.H }, bandOf[t]).flatMap((rows): Call[] => [
          gemm(p.count * KK, rows.count * d.W, d.Cout, WT, { at: dyAt + rows.start * d.W * 4, rs: HW, cs: 1 }, cols[t], rows.count * d.W, false, fp.scratch[t]),
          ['col2imAdd', cols[t], p.count, d.H, d.W, d.K, rows.start, rows.count, dxPart],
        ]);
      }));
      dx.set(view(fp, dxAt, inPer), n * inPer);
    }
    return dx;
  });
}

/** dW = Σ_n dy_n·col(x_n)ᵀ; threads take input channels (columns of dW) */
export function conv2dBackwardWeight(dy: Float32Array, x: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  return withFastPath(async (fp) => {
    const layout = winogradWeightLayout(fp, d);
    if (layout === 'quad') return winogradConvWeight(fp, dy, x, d);
    if (layout === 'rows') return winogradRowsConvWeight(fp, dy, x, d);
    if (useBatched(d, d.Cin)) return batchedConvWeight(fp, dy, x, d);
    const HW = d.H * d.W, KK = d.K * d.K, inPer = d.Cin * HW, outPer = d.Cout * HW;
    const parts = split(d.Cin, threadsFor(fp, convMacs(d)));
    const bandOf = parts.map((p) => bandRows(d, p.count));
    const dwLength = d.Cout * d.Cin * KK;
    const [dwAt, dyAt, xAt, ...cols] = place(fp, dwLength, outPer, inPer, ...parts.map((p, t) => colFloats(d, p.count, bandOf[t])));
    view(fp, dwAt, dwLength).fill(0);
    for (let n = 0; n < d.N; n++) {
      view(fp, dyAt, outPer).set(dy.subarray(n * outPer, (n + 1) * outPer));
      view(fp, xAt, inPer).set(x.subarray(n * inPer, (n + 1) * inPer));
      await runParts(fp, parts.map((p, t) => bands({ start: 0, count: d.H }, bandOf[t]).flatMap((rows) => {
        const col = colOf(d, xAt, p.start, p.count, rows, cols[t], fp.scratch[t]);
        const colT: Operand = { at: col.op.at, rs: col.op.cs, cs: col.op.rs }; // colᵀ [rows·W × count·K·K]
        return [...col.calls, gemm(d.Cout, p.count * KK, rows.count * d.W, { at: dyAt + rows.start * d.W * 4, rs: HW, cs: 1 }, colT,
          dwAt + p.start * KK * 4, d.Cin * KK, true, fp.scratch[t])];
      })));
    }
    return copyOut(fp, dwAt, dwLength);
  });
}

/** db[co] = Σ_n Σ_pixels dy[n, co] */
export async function conv2dBackwardBias(dy: Float32Array, d: Conv2dDims): Promise<Float32Array> {
  const HW = d.H * d.W;
  const db = new Float32Array(d.Cout);
  for (let co = 0; co < d.Cout; co++) {
    let s = 0;
    for (let n = 0; n < d.N; n++) {
      const base = (n * d.Cout + co) * HW;
      for (let p = 0; p < HW; p++) s += dy[base + p];
    }
    db[co] = s;
  }
  return db;
}

// ---------------------------------------------------------------------------------------
// Fully connected. The weight moves through the memory in blocks of output features.

/** blocks of rows of w [Out, In] of at most WEIGHT_BLOCK_FLOATS */
function weightBlocks(d: LinearDims): Range[] {
  return bands({ start: 0, count: d.Out }, Math.max(1, Math.floor(WEIGHT_BLOCK_FLOATS / Math.max(1, d.In))));
}

/**
 * Where the weight w [Out, In] of a linear layer is read from, block by block: resident
 * (kept between calls, one block) when it is settled and fits, else copied in per call, in
 * blocks of at most WEIGHT_BLOCK_FLOATS into one buffer. Call before placing buffers.
 */
async function linearWeights(fp: FastPath, w: Float32Array, d: LinearDims): Promise<{ blocks: Range[]; floats: number; at: (ob: Range, buffer: number) => number }> {
  if (isSettled(w) && w.length * 4 <= fp.residentBytes) {
    const wAt = await plainFilters(fp, w);
    return { blocks: d.Out ? [{ start: 0, count: d.Out }] : [], floats: 0, at: () => wAt };
  }
  const blocks = weightBlocks(d);
  return {
    blocks, floats: (blocks[0]?.count ?? 0) * d.In,
    at: (ob, buffer) => {
      view(fp, buffer, ob.count * d.In).set(w.subarray(ob.start * d.In, (ob.start + ob.count) * d.In));
      return buffer;
    },
  };
}

/** y = x·wᵀ + b; threads take columns of y (output features); one row of x is a matrix-vector product (gemv) */
export function linearForward(x: Float32Array, w: Float32Array, b: Float32Array, d: LinearDims): Promise<Float32Array> {
  return withFastPath(async (fp) => {
    const weights = await linearWeights(fp, w, d);
    const [xAt, yAt, bufferAt] = place(fp, d.N * d.In, d.N * d.Out, weights.floats);
    view(fp, xAt, d.N * d.In).set(x);
    const yv = view(fp, yAt, d.N * d.Out);
    for (let n = 0; n < d.N; n++) yv.set(b, n * d.Out);
    for (const ob of weights.blocks) {
      const wAt = weights.at(ob, bufferAt);
      const parts = split(ob.count, threadsFor(fp, d.N * ob.count * d.In), 8);
      await runParts(fp, parts.map((p, t): Call[] => [d.N === 1
        ? ['gemv', p.count, d.In, xAt, wAt + p.start * d.In * 4, yAt + (ob.start + p.start) * 4]
        : gemm(d.N, p.count, d.In, { at: xAt, rs: d.In, cs: 1 }, { at: wAt + p.start * d.In * 4, rs: 1, cs: d.In }, yAt + (ob.start + p.start) * 4, d.Out, true, fp.scratch[t])]));
    }
    return copyOut(fp, yAt, d.N * d.Out);
  });
}

/** dx = dy·w, summed over the weight blocks; threads take columns of dx (input features) */
export function linearBackwardInput(dy: Float32Array, w: Float32Array, d: LinearDims): Promise<Float32Array> {
  return withFastPath(async (fp) => {
    const weights = await linearWeights(fp, w, d);
    const [dyAt, dxAt, bufferAt] = place(fp, d.N * d.Out, d.N * d.In, weights.floats);
    view(fp, dyAt, d.N * d.Out).set(dy);
    view(fp, dxAt, d.N * d.In).fill(0);
    for (const ob of weights.blocks) {
      const wAt = weights.at(ob, bufferAt);
      const parts = split(d.In, threadsFor(fp, d.N * ob.count * d.In), 8);
      await runParts(fp, parts.map((p, t) => [gemm(d.N, p.count, ob.count, { at: dyAt + ob.start * 4, rs: d.Out, cs: 1 },
        { at: wAt + p.start * 4, rs: d.In, cs: 1 }, dxAt + p.start * 4, d.In, true, fp.scratch[t])]));
    }
    return copyOut(fp, dxAt, d.N * d.In);
  });
}

/** dw = dyᵀ·x, one weight block at a time; threads take columns of dw (input features) */
export function linearBackwardWeight(dy: Float32Array, x: Float32Array, d: LinearDims): Promise<Float32Array> {
  return withFastPath(async (fp) => {
    const blocks = weightBlocks(d);
    const [dyAt, xAt, dwAt] = place(fp, d.N * d.Out, d.N * d.In, (blocks[0]?.count ?? 0) * d.In);
    view(fp, dyAt, d.N * d.Out).set(dy);
    view(fp, xAt, d.N * d.In).set(x);
    const dw = allocate(d.Out * d.In);
    for (const ob of blocks) {
      const parts = split(d.In, threadsFor(fp, d.N * ob.count * d.In), 8);
      await runParts(fp, parts.map((p, t) => [gemm(ob.count, p.count, d.N, { at: dyAt + ob.start * 4, rs: 1, cs: d.Out },
        { at: xAt + p.start * 4, rs: d.In, cs: 1 }, dwAt + p.start * 4, d.In, false, fp.scratch[t])]));
      dw.set(view(fp, dwAt, ob.count * d.In), ob.start * d.In);
    }
    return dw;
  });
}

/** db[o] = Σ_n dy[n, o] */
export async function linearBackwardBias(dy: Float32Array, d: LinearDims): Promise<Float32Array> {
  const db = new Float32Array(d.Out);
  for (let o = 0; o < d.Out; o++) {
    let s = 0;
    for (let n = 0; n < d.N; n++) s += dy[n * d.Out + o];
    db[o] = s;
  }
  return db;
}

// ---------------------------------------------------------------------------------------
// Memory-bound kernels (pointwise.as), on the calling thread, block by block.

/** The most floats of one buffer of a memory-bound kernel's block (128 KiB: the block's buffers stay in L2). */
const FLAT_BLOCK = 1 << 15;

/** an input of `blockwise`: the array, and its floats per item */
interface Stream {
  data: Float32Array;
  per: number;
}

/**
 * Runs a memory-bound kernel over `items` items (elements; planes of a pooling) in blocks
 * of whole items, at most FLAT_BLOCK floats per buffer (one item when an item is bigger):
 * copies each input's block into the memory, calls `kernel(module, [...input addresses,
 * ...output addresses], items in the block)`, and copies each output's block (`outputs[i]` floats
 * per item) out. Returns the outputs.
 */
function blockwise(items: number, inputs: Stream[], outputs: number[], kernel: (m: GemmModule, at: number[], count: number) => void): Promise<Float32Array[]> {
  return withFastPath(async (fp) => {
    const widest = Math.max(1, ...inputs.map((s) => s.per), ...outputs);
    const block = Math.max(1, Math.min(items, Math.floor(FLAT_BLOCK / widest)));
    const at = place(fp, ...inputs.map((s) => block * s.per), ...outputs.map((per) => block * per));
    const results = outputs.map((per) => allocate(items * per));
    for (let start = 0; start < items; start += block) {
      const count = Math.min(block, items - start);
      inputs.forEach((s, i) => view(fp, at[i], count * s.per).set(s.data.subarray(start * s.per, (start + count) * s.per)));
      kernel(fp.m, at, count);
      outputs.forEach((per, i) => results[i].set(view(fp, at[inputs.length + i], count * per), start * per));
    }
    return results;
  });
}

/** y = max(x, 0) */
export async function reluForward(x: Float32Array): Promise<Float32Array> {
  const [y] = await blockwise(x.length, [{ data: x, per: 1 }], [1], (m, [xAt, yAt], n) => m.reluForward(xAt, yAt, n));
  return y;
}

/** dx = dy · [x > 0] */
export async function reluBackward(dy: Float32Array, x: Float32Array): Promise<Float32Array> {
  const [dx] = await blockwise(x.length, [{ data: dy, per: 1 }, { data: x, per: 1 }], [1], (m, [dyAt, xAt, dxAt], n) => m.reluBackward(dyAt, xAt, dxAt, n));
  return dx;
}

/** y [N, C, H/2, W/2] = the maximum of each 2×2 window of x [N, C, H, W]; blocks of whole planes */
export async function maxPool2dForward(x: Float32Array, d: PoolDims): Promise<Float32Array> {
  const HW = d.H * d.W, out = Math.floor(d.H / 2) * Math.floor(d.W / 2);
  const [y] = await blockwise(d.N * d.C, [{ data: x, per: HW }], [out], (m, [xAt, yAt], planes) => m.maxPool2dForward(xAt, planes, d.H, d.W, yAt));
  return y;
}

/** dx: each window's dy to its first maximum (row-major), 0 elsewhere; blocks of whole planes */
export async function maxPool2dBackward(dy: Float32Array, x: Float32Array, d: PoolDims): Promise<Float32Array> {
  const HW = d.H * d.W, out = Math.floor(d.H / 2) * Math.floor(d.W / 2);
  const [dx] = await blockwise(d.N * d.C, [{ data: dy, per: out }, { data: x, per: HW }], [HW],
    (m, [dyAt, xAt, dxAt], planes) => m.maxPool2dBackward(dyAt, xAt, planes, d.H, d.W, dxAt));
  return dx;
}

/** a + b */
export async function add(a: Float32Array, b: Float32Array): Promise<Float32Array> {
  const [y] = await blockwise(a.length, [{ data: a, per: 1 }, { data: b, per: 1 }], [1], (m, [aAt, bAt, yAt], n) => m.add(aAt, bAt, yAt, n));
  return y;
}

/** a · b */
export async function mul(a: Float32Array, b: Float32Array): Promise<Float32Array> {
  const [y] = await blockwise(a.length, [{ data: a, per: 1 }, { data: b, per: 1 }], [1], (m, [aAt, bAt, yAt], n) => m.mul(aAt, bAt, yAt, n));
  return y;
}

/** a · s, the product in float64 */
export async function scale(a: Float32Array, s: number): Promise<Float32Array> {
  const [y] = await blockwise(a.length, [{ data: a, per: 1 }], [1], (m, [aAt, yAt], n) => m.scale(aAt, s, yAt, n));
  return y;
}

/** Σ a, added in float64, as one float32 */
export async function sum(a: Float32Array): Promise<Float32Array> {
  let total = 0;
  await blockwise(a.length, [{ data: a, per: 1 }], [], (m, [aAt], n) => { total += m.sum(aAt, n); });
  return Float32Array.of(total);
}

/** SGD with momentum and weight decay: v = momentum·v + g + weightDecay·p;  p = p − lr·v (kernels/elementwise.ts) */
export async function sgdUpdate(p: Float32Array, g: Float32Array, v: Float32Array, o: { lr: number; momentum: number; weightDecay: number }) {
  const [param, velocity] = await blockwise(p.length, [{ data: p, per: 1 }, { data: g, per: 1 }, { data: v, per: 1 }], [1, 1],
    (m, [pAt, gAt, vAt, paramAt, velocityAt], n) => m.sgdUpdate(pAt, gAt, vAt, paramAt, velocityAt, n, o.lr, o.momentum, o.weightDecay));
  return { param, velocity };
}

/** a · keep / (1 − p), keep ∈ {0, 1} made on the host (kernels/dropout.ts) */
export async function dropoutApply(a: Float32Array, keep: Float32Array, p: number): Promise<Float32Array> {
  const [y] = await blockwise(a.length, [{ data: a, per: 1 }, { data: keep, per: 1 }], [1], (m, [aAt, keepAt, yAt], n) => m.dropoutApply(aAt, keepAt, 1 / (1 - p), yAt, n));
  return y;
}
