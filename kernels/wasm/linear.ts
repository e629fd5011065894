/**
 * Fully connected layers: y = x·wᵀ + b and its gradients as GEMMs on the threads (at batches
 * up to GEMV_MAX_BATCH the forward streams the weight through gemv.as instead), the weight
 * resident or copied in block by block.
 */
import { allocate, isSettled } from '../pool.js';
import type { LinearDims } from '../dims.js';
import { WEIGHT_BLOCK_FLOATS } from './module.js';
import type { Call } from './threads.js';
import { type FastPath, type Range, bands, copyOut, gemm, place, runParts, split, threadsFor, view, withFastPath } from './runtime.js';
import { plainFilters } from './filters.js';

// ---------------------------------------------------------------------------------------
// Fully connected. The weight moves through the memory in blocks of output features.

/**
 * The largest batch whose forward streams w through gemv.as rather than the GEMM: below it
 * the layer is memory-bound, and the GEMM's packing of w (a transposed copy, read again)
 * triples the traffic. gemvBatch reads w once per 4 rows of x (measured in the report of
 * this change: FC6 b4 and b8).
 */
export const GEMV_MAX_BATCH = 4;

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

/** y = x·wᵀ + b; threads take columns of y (output features); up to GEMV_MAX_BATCH rows of x stream w (gemv.as) */
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
        ? ['gemvStream', p.count, d.In, xAt, wAt + p.start * d.In * 4, yAt + (ob.start + p.start) * 4]
        : d.N <= GEMV_MAX_BATCH
          ? ['gemvBatch', d.N, p.count, d.In, xAt, wAt + p.start * d.In * 4, yAt + (ob.start + p.start) * 4, d.Out]
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
