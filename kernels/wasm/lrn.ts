/**
 * The fast path's LRN forward and backward (softmax-lrn.as), with the signatures and
 * results of the gpu.js launchers of kernels/lrn.ts. Images are copied into the memory in
 * blocks of whole images (at most LRN_BLOCK_FLOATS per buffer, one image when an image is
 * bigger); each block is shared out between the threads by images, or, when it has fewer
 * images than threads (inference at batch 1), by ranges of pixels, which are independent
 * since the window runs across channels only.
 */
import { allocate } from '../pool.js';
import { lrnWindow, type LrnOptions } from '../lrn.js';
import type { MapDims } from '../dims.js';
import type { Call } from './threads.js';
import { place, reserve, runParts, split, threadsFor, view, withFastPath } from './runtime.js';

/** The most floats of one buffer of a block of images (16 MiB: a 64-channel 224² image is 3.2 M floats). */
const LRN_BLOCK_FLOATS = 1 << 22;
/** softmax-lrn.as's LRN_PIXELS: the pixels of one block of its backward's work buffer */
const LRN_PIXELS = 64;

/** the kernels' scalar arguments: lo, hi (the window), k, α' (α or α/n), β */
function scalars(o: LrnOptions): number[] {
  const { lo, hi, alpha } = lrnWindow(o);
  return [lo, hi, o.k, alpha, o.beta];
}

/**
 * Copies `inputs` (each [N, C, H, W]) in block by block, runs `call(at, images, p0, p1,
 * work)` for each thread's part (at: the inputs' and the output's addresses of its first
 * image; work: the thread's `workFloats` floats, its GEMM scratch where that is big
 * enough), and copies the output out.
 */
function perImageBlocks(inputs: Float32Array[], o: LrnOptions, d: MapDims, workFloats: number,
  call: (at: number[], images: number, p0: number, p1: number, work: number) => Call): Promise<Float32Array> {
  return withFastPath(async (fp) => {
    const HW = d.H * d.W, per = d.C * HW;
    const work = workFloats * 4 <= fp.m.gemmScratchBytes() ? fp.scratch : fp.scratch.map(() => reserve(fp, workFloats));
    const block = Math.max(1, Math.min(d.N, Math.floor(LRN_BLOCK_FLOATS / Math.max(1, per))));
    const at = place(fp, ...inputs.map(() => block * per), block * per);
    const out = allocate(d.N * per);
    for (let start = 0; start < d.N; start += block) {
      const count = Math.min(block, d.N - start);
      inputs.forEach((a, i) => view(fp, at[i], count * per).set(a.subarray(start * per, (start + count) * per)));
      // ~(n + 40) flops an element: the window's squares, then a log and an exp
      const threads = threadsFor(fp, count * per * (o.size + 40));
      const parts: Call[][] = count >= threads
        ? split(count, threads).map((r, t) => [call(at.map((a) => a + r.start * per * 4), r.count, 0, HW, work[t])])
        : split(HW, threads, 4).map((r, t) => [call(at, count, r.start, r.start + r.count, work[t])]);
      await runParts(fp, parts);
      out.set(view(fp, at[inputs.length], count * per), start * per);
    }
    return out;
  });
}

/** y = x · (k + α'·Σ_window x²)^−β */
export function lrnForward(x: Float32Array, o: LrnOptions, d: MapDims): Promise<Float32Array> {
  const s = scalars(o), HW = d.H * d.W;
  return perImageBlocks([x], o, d, 0, ([xAt, yAt], images, p0, p1) => ['lrnForward', xAt, yAt, images, d.C, HW, p0, p1, ...s]);
}

/** dx by the formula of kernels/lrn.ts */
export function lrnBackward(dy: Float32Array, x: Float32Array, o: LrnOptions, d: MapDims): Promise<Float32Array> {
  const s = scalars(o), HW = d.H * d.W;
  return perImageBlocks([dy, x], o, d, 2 * d.C * LRN_PIXELS,
    ([dyAt, xAt, dxAt], images, p0, p1, work) => ['lrnBackward', dyAt, xAt, dxAt, images, d.C, HW, p0, p1, ...s, work]);
}
