/**
 * Splitting work so that no gpu.js launch sees 2^24 elements or more (its indices are
 * float32: ../shared/GPUJS.md, trap 2). VGG needs this: FC6's weight has 102,760,448
 * elements and a batch of 8 first-layer activations 25.7 M.
 *
 * Launchers split along the batch axis (each chunk a contiguous `subarray`, no copy), or
 * along the output features of a fully connected layer.
 */
import { MAX_KERNEL_ELEMENTS } from './gpujs.js';
import { BackendError } from './errors.js';

export interface Chunk {
  start: number;
  count: number;
}

/**
 * Splits `total` items into contiguous chunks whose `perItem` elements (the largest tensor
 * that a chunk's launch touches, per item) stay below 2^24 in total, and of at most
 * `maxCount` items (when a kernel loops over them: LOOP_BUDGET).
 */
export function chunksOf(total: number, perItem: number, where: string, limit = MAX_KERNEL_ELEMENTS - 1, maxCount = Infinity): Chunk[] {
  if (perItem > limit) {
    throw new BackendError(`${where}: one item needs ${perItem} elements in a single kernel launch, more than the 2^24-1 that gpu.js indexes exactly`);
  }
  const step = Math.max(1, Math.min(maxCount, Math.floor(limit / Math.max(1, perItem))));
  const chunks: Chunk[] = [];
  for (let start = 0; start < total; start += step) chunks.push({ start, count: Math.min(step, total - start) });
  return chunks;
}

/** Adds b into a, in place (partial sums of chunked reductions). */
export function addInto(a: Float32Array, b: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
  return a;
}

/** Runs `launch` on each chunk of a flat array and concatenates the results. */
export async function mapFlatChunks(
  size: number,
  where: string,
  launch: (start: number, count: number) => Promise<Float32Array>,
  limit?: number,
): Promise<Float32Array> {
  const out = new Float32Array(size);
  for (const { start, count } of chunksOf(size, 1, where, limit)) out.set(await launch(start, count), start);
  return out;
}
