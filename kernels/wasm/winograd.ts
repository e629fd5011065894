/**
 * Convolutions by Winograd's F(2×2, 3×3) (winograd.as) and F(4×4, 3×3) (winograd4.as),
 * forward and gradient to the input, and F(3×3, 2×2), gradient to the weights (winograd.as):
 * where they pay (useWinograd, tileFor, winogradWeightLayout), in which layout (bands of tile
 * rows, or small images four to the SIMD lanes), and the launchers' bodies that conv.ts's
 * entry points hand 3×3 convolutions to.
 *
 * F(4×4, 3×3): Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A on 6×6 input blocks, 36 GEMMs (one per element of
 * the transformed tile), 36 multiply-adds per 16 outputs and channel pair against F(2×2)'s 64
 * and a direct convolution's 144. Interpolation points 0, 1, -1, ½, -2 and ∞; the matrices
 * are in winograd4.as's header, derived in exact rationals by scripts/winograd-matrices.py,
 * which also simulates float32 against float64 over C summed channels: this set's error is
 * about half that of 0, ±1, ±2, ∞ or 0, ±1, ±½, ∞ (1.9e-6 against 4.1e-6 and 4.3e-6 at
 * C = 16; 7.0e-6 against 1.7e-5 and 1.6e-5 at C = 512), against F(2×2)'s 2.4e-7 and 1.1e-6.
 *
 * Normalized error measured here (max |got − ref| / max(1, max |ref|) against the float64
 * reference, inputs and filters uniform in [−1, 1] as in the tests; the tests' bound is 1e-5):
 *   - VGG's shapes at batch 1 (scripts/winograd-compare.mjs --errors), forward / grad input:
 *       64@224  F(4×4) 2.4e-6 / 2.8e-6   F(2×2) 3.3e-7 / 3.9e-7
 *       128@112        3.9e-6 / 4.2e-6          4.8e-7 / 6.8e-7
 *       256@56         5.0e-6 / 5.6e-6          6.9e-7 / 6.0e-7
 *       512@28         3.7e-6 / 5.4e-6          6.5e-7 / 6.2e-7
 *       512@14         3.4e-6 / 3.3e-6          6.1e-7 / 6.2e-7
 *   - every 3×3 shape of test/fastpath.test.ts with F(4×4) forced (largest of the forward, the
 *     grad input and the grad weight, both builds, 1 and 2 threads): 5.6e-8 (1 channel) to
 *     3.1e-6 (128 channels in, 16×16), all under 3.2e-6.
 * The error grows with the channels summed (the GEMMs' reduction), and at 512 leaves about
 * 2× of margin to 1e-5; so 'auto' takes F(4×4) only up to WINOGRAD4_MAX_CHANNELS = 512 summed
 * channels (all of VGG), and F(2×2) past it.
 *
 * The auto rule (tileFor): F(4×4) where it saves more multiply-adds than F(2×2) in the layout
 * F(2×2) would take, counting the tiles past the image's edge and the lanes left empty
 * (F(4×4) runs in the row layout only, four tiles of a row to the lanes: square images from
 * 9×9 up take it, 16×16 saving 4× against 2.25×; 8×8 and smaller keep F(2×2), whose quad
 * layout fills its lanes). The weight gradient keeps F(3×3, 2×2): F(3×3, 4×4) was not
 * written (not measured).
 *
 * Measured (scripts/winograd-compare.mjs --time, 2 threads, the two tiles alternating call by
 * call on a busy 2-core host, F(2×2) time / F(4×4) time, medians): VGG's rows at b1 and b8,
 * forward and grad input, 1.16–2.06× (64@224 to 512@28), 512@14 b1 1.00× (its 16 tiles give
 * thin GEMMs that read 2.25× more of U), b8 1.24×; CIFAR's 64→128 at 16×16 b64 1.22–1.27×.
 */
import { allocate } from '../pool.js';
import type { Conv2dDims } from '../dims.js';
import { type WinogradTile, WINOGRAD4_MAX_CHANNELS, WINOGRAD_BAND_FLOATS, WINOGRAD_MIN_CHANNELS, WINOGRAD_MIN_TILES, WINOGRAD_QUAD_BAND_FLOATS } from './module.js';
import type { Call } from './threads.js';
import { type FastPath, type Range, copyOut, gemm, place, reserve, runParts, split, threadsFor, view } from './runtime.js';
import { winogradFilters } from './filters.js';

/** the multiply-adds of a direct convolution: what threadsFor weighs, for Winograd's convolutions as well */
export function convMacs(d: Conv2dDims): number {
  return d.Cout * d.Cin * d.K * d.K * d.H * d.W;
}

/** the tiles of F(m×m, 3×3) over an H × W output (m = 2 unless given): th rows of tw, or of twp in the row layout (a multiple of 4: four tiles are transformed at once) */
function winogradTiles(H: number, W: number, m: WinogradTile = 2): { th: number; tw: number; twp: number } {
  const tw = Math.ceil(W / m);
  return { th: Math.ceil(H / m), tw, twp: Math.ceil(tw / 4) * 4 };
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

/** the multiply-adds that a Winograd convolution saves against a direct one: 9 per output against α² = (m + 2)² per tile of m × m */
function saving(d: Conv2dDims, tile: WinogradTile, tiles: number): number {
  return (9 * d.N * d.H * d.W) / ((tile + 2) ** 2 * tiles);
}

/** the tiles F(2×2, 3×3) runs for `d`: four images to the lanes in the quad layout, else the row layout's, th × twp an image */
function f2Tiles(fp: FastPath, d: Conv2dDims): number {
  if (quadLayout(fp, d)) return quadTiles(d);
  const { th, twp } = winogradTiles(d.H, d.W);
  return d.N * th * twp;
}

/**
 * Whether Winograd pays under 'auto' over `tiles` tiles (lanes included): at least
 * WINOGRAD_MIN_CHANNELS channels in and out, 2.25× fewer multiply-adds that still save 1.5×
 * after the tiles and lanes that hold no output, and at least WINOGRAD_MIN_TILES tiles to
 * pay for the filters' transform.
 */
function winogradPays(d: Conv2dDims, tiles: number): boolean {
  return d.Cin >= WINOGRAD_MIN_CHANNELS && d.Cout >= WINOGRAD_MIN_CHANNELS && saving(d, 2, tiles) >= 1.5 && tiles >= WINOGRAD_MIN_TILES;
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
export function useWinograd(fp: FastPath, d: Conv2dDims): boolean {
  if (d.K !== 3 || fp.conv3x3 === 'im2col') return false;
  if (fp.conv3x3 === 'winograd') return true;
  return winogradPays(d, f2Tiles(fp, d));
}

/**
 * The tile of a Winograd convolution that sums `reduction` channels (Cin forward, Cout for
 * the gradient to the input): winogradTile when forced, else under 'auto' F(4×4) (4) where
 * the reduction has at most WINOGRAD4_MAX_CHANNELS channels and it saves more multiply-adds
 * than F(2×2) in the layout F(2×2) would take, counting the tiles past the image's edge and
 * the lanes left empty (F(4×4) runs in the row layout only: 16×16 images save 4× against
 * F(2×2)'s 2.25×, 8×8 ones 2× against 2.25× in the quad layout), else F(2×2) (2).
 */
function tileFor(fp: FastPath, d: Conv2dDims, reduction: number): WinogradTile {
  if (fp.winogradTile !== 'auto') return fp.winogradTile;
  if (reduction > WINOGRAD4_MAX_CHANNELS) return 2;
  const four = winogradTiles(d.H, d.W, 4);
  return saving(d, 4, d.N * four.th * four.twp) > saving(d, 2, f2Tiles(fp, d)) ? 4 : 2;
}

/**
 * A stride-1 "same" 3×3 convolution by Winograd's F(2×2, 3×3) (see winograd.as) or F(4×4,
 * 3×3) (winograd4.as; tileFor picks), the latter in the row layout only: src
 * [N, cin, H, W] into [N, cout, H, W]. The forward pass convolves x with w [cout][cin] and
 * adds the bias; the gradient to the input (flip) convolves dy with w [cin][cout] turned
 * by 180°, in and out swapped (forwardFilters). Work runs in bands whose transformed input and GEMM results
 * fit WINOGRAD_BAND_FLOATS: several whole images when they are small (their tiles side by
 * side in the GEMMs' columns), else bands of one image's tile rows. Threads: the filters'
 * transform by output channels; then per band, the input's transform by channels, and the 16
 * GEMMs and the output's transform by output channels.
 */
export async function winogradConv(fp: FastPath, src: Float32Array, cin: number, cout: number, w: Float32Array, bias: Float32Array | null,
  flip: boolean, d: Conv2dDims): Promise<Float32Array> {
  const tile = tileFor(fp, d, cin);
  if (tile === 2 && quadLayout(fp, d)) return winogradQuadConv(fp, src, cin, cout, w, bias, flip, d);
  const { N, H, W } = d;
  const HW = H * W, inPer = cin * HW, outPer = cout * HW;
  const { th, twp } = winogradTiles(H, W, tile);
  const xis = (tile + 2) ** 2; // the GEMMs: one per element of the transformed tile
  const Hp = tile * th + 2, Wp = tile * twp + 2, padPer = cin * Hp * Wp;
  const fitRows = Math.max(1, Math.floor(WINOGRAD_BAND_FLOATS / (xis * (cin + cout) * twp)));
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
  const uAt = await winogradFilters(fp, w, cin, cout, flip, threads, tile);
  const [bAt, xAt, xpAt, vAt, mAt, yAt] = place(fp, bias?.length ?? 0, images * inPer, images * padPer, xis * cin * ld, xis * cout * ld, images * outPer);
  const input = (xp: number, c0: number, count: number, i: number, rows: number, v: number, scratch: number): Call => tile === 4
    ? ['winograd4Input', xp, c0, count, Hp, Wp, i, rows, twp, v, ld, cin * ld, scratch]
    : ['winogradInput', xp, c0, count, Hp, Wp, i, rows, twp, v, ld, cin * ld];
  const outputName = tile === 4 ? 'winograd4Output' : 'winogradOutput';
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
            input(xpAt, 0, cin, i0 + r.start, r.count, vAt + first * 4, fp.scratch[t]),
            ...winogradGemms({ start: 0, count: cout }, cols, first, cin, cout, uAt, vAt, mAt, ld, fp.scratch[t], xis),
            [outputName, mAt + first * 4, 0, cout, ld, cout * ld, i0 + r.start, r.count, twp, yAt, H, W, bAt, bias ? 1 : 0, fp.scratch[t]],
          ];
        }));
        continue;
      }
      const each = Array.from({ length: g }, (_, k) => k);
      const tileAt = (buffer: number, k: number) => buffer + k * rows * twp * 4; // image k's first tile in a band of V or M
      await runParts(fp, split(cin, threads).map((p, t): Call[] => each.flatMap((k): Call[] => [
        ...(i0 === 0 ? [['winogradPad', xAt + k * inPer * 4, p.start, p.count, H, W, xpAt + k * padPer * 4, Hp, Wp, 1] as Call] : []),
        input(xpAt + k * padPer * 4, p.start, p.count, i0, rows, tileAt(vAt, k), fp.scratch[t]),
      ])));
      await runParts(fp, split(cout, threads, 4).map((p, t): Call[] => [
        ...winogradGemms(p, g * rows * twp, 0, cin, cout, uAt, vAt, mAt, ld, fp.scratch[t], xis),
        ...each.map((k): Call => [outputName, tileAt(mAt, k), p.start, p.count, ld, cout * ld, i0, rows, twp, yAt + k * outPer * 4, H, W, bAt, bias ? 1 : 0, fp.scratch[t]]),
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
 * M[ξ] = U[ξ]·V[ξ] for ξ < xis (16 for F(2×2), 36 for F(4×4)), output channels `co` and `cols`
 * columns from column `first` of V and M (rows of ld floats): the GEMMs of a Winograd
 * convolution (U: [cout][xis][cin]).
 */
function winogradGemms(co: Range, cols: number, first: number, cin: number, cout: number, uAt: number, vAt: number, mAt: number, ld: number,
  scratch: number, xis = 16): Call[] {
  return Array.from({ length: xis }, (_, xi) => gemm(co.count, cols, cin, { at: uAt + (co.start * xis + xi) * cin * 4, rs: xis * cin, cs: 1 },
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
  const uAt = await winogradFilters(fp, w, cin, cout, flip, threads, 2);
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
export function winogradWeightLayout(fp: FastPath, d: Conv2dDims): 'quad' | 'rows' | null {
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
export async function winogradConvWeight(fp: FastPath, dy: Float32Array, x: Float32Array, d: Conv2dDims): Promise<Float32Array> {
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
export async function winogradRowsConvWeight(fp: FastPath, dy: Float32Array, x: Float32Array, d: Conv2dDims): Promise<Float32Array> {
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
