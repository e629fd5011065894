/**
 * Convolutions (stride 1, same padding) by im2col + GEMM (gemm.as): image by image in bands
 * of output rows, or small images several to a GEMM (batchedConv, batchedConvWeight); and
 * the entry points, which hand 3×3 convolutions to winograd.ts where it pays.
 */
import { allocate } from '../pool.js';
import type { Conv2dDims } from '../dims.js';
import { BAND_FLOATS, BATCH_PIXELS, FEW_ROWS } from './module.js';
import type { Call } from './threads.js';
import { type FastPath, type Operand, type Range, bands, copyOut, gemm, place, runParts, split, threadsFor, view, withFastPath } from './runtime.js';
import { forwardFilters, plainFilters } from './filters.js';
import { convMacs, useWinograd, winogradConv, winogradConvWeight, winogradRowsConvWeight, winogradWeightLayout } from './winograd.js';

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
