/**
 * The storage pool: the float32 arrays of disposed tensors, handed to the next op that
 * needs an array of the same length.
 *
 * Why: the first write to a fresh array page-faults, once per 4 KiB page. On this
 * project's 2-core VM that costs about 12 µs a page: filling a new 98 MiB array takes
 * ~300 ms, filling it again 4 ms (bench/README.md, "What limits it"). A VGG-16 forward pass
 * makes ~120 MB of activations, and each SGD step a new copy of every parameter and
 * velocity, so fresh arrays cost as much as the arithmetic. PyTorch's caching allocator
 * and tfjs's texture manager reuse memory for the same reason.
 *
 * Safety is the tensor core's job (lib/core/storage.ts): an array comes back here only when the
 * tensor that owns it is disposed or re-assigned, no op is still reading it, and it was
 * never handed out raw. Only arrays that `allocate` made come back, so an array that a
 * user passed in (Tensor.from copies anyway) is never reused behind their back.
 *
 * Arrays of fewer than POOL_MIN_FLOATS values are not pooled: V8 makes small arrays on its
 * own heap without a page fault, so pooling them would save nothing.
 */
import { ValueError, describeValue } from './errors.js';

/** arrays below this many floats (16 KiB) are left to the garbage collector */
export const POOL_MIN_FLOATS = 4096;

let limitBytes = 1 << 30;
/** arrays made by allocate(): the only ones that may come back */
const born = new WeakSet<Float32Array>();
/** free arrays by length, most recently released last */
const free = new Map<number, Float32Array[]>();
/** every free array, oldest release first: what goes when the pool is over its limit */
const order = new Set<Float32Array>();
const stats = { bytes: 0, hits: 0, misses: 0, released: 0 };

/**
 * A float32 array of `length` values whose contents are undefined (a reused array holds
 * an earlier tensor's values): for outputs that the caller writes in full.
 */
export function allocate(length: number): Float32Array {
  if (length >= POOL_MIN_FLOATS) {
    const stack = free.get(length);
    const reused = stack?.pop();
    if (reused) {
      order.delete(reused);
      stats.bytes -= reused.byteLength;
      stats.hits++;
      return reused;
    }
    stats.misses++;
  }
  const fresh = new Float32Array(length);
  if (length >= POOL_MIN_FLOATS) born.add(fresh);
  return fresh;
}

/** A float32 array of `length` zeros (a reused array is cleared). */
export function allocateZeros(length: number): Float32Array {
  const a = allocate(length);
  if (born.has(a)) a.fill(0);
  return a;
}

/**
 * Gives an array back for reuse. The caller guarantees that nothing reads or writes it
 * any more. Arrays that allocate() did not make, and arrays already free, are ignored.
 */
export function release(a: Float32Array): void {
  if (!born.has(a) || order.has(a)) return;
  settled.delete(a);
  for (const fn of releaseListeners) fn(a);
  if (limitBytes === 0) return;
  let stack = free.get(a.length);
  if (!stack) free.set(a.length, (stack = []));
  stack.push(a);
  order.add(a);
  stats.bytes += a.byteLength;
  stats.released++;
  trim();
}

/** drops the oldest free arrays until the pool is within its limit */
function trim(): void {
  for (const oldest of order) {
    if (stats.bytes <= limitBytes) break;
    drop(oldest);
  }
}

function drop(a: Float32Array): void {
  order.delete(a);
  const stack = free.get(a.length)!;
  stack.splice(stack.indexOf(a), 1);
  if (stack.length === 0) free.delete(a.length);
  stats.bytes -= a.byteLength;
}

/**
 * The most bytes of free arrays the pool keeps (default 1 GiB); beyond it the oldest are
 * left to the garbage collector. 0 turns the pool off and empties it.
 */
export function setPoolLimit(bytes: number): void {
  if (typeof bytes !== 'number' || !(bytes >= 0) || !Number.isFinite(bytes)) throw new ValueError(`setPoolLimit: expected a finite number of bytes >= 0, got ${describeValue(bytes)}`);
  limitBytes = bytes;
  trim();
}

/**
 * Settled arrays: the values of a resolved tensor, which nothing writes while a tensor holds
 * them. Kernels may keep what they derive from one (the fast path keeps a parameter's
 * filters in its memory between calls) until it is released to the pool.
 */
const settled = new WeakSet<Float32Array>();
const releaseListeners: ((a: Float32Array) => void)[] = [];

/** Marks an array whose values will not change until it is released (the tensor core calls it). */
export function settle(a: Float32Array): void {
  settled.add(a);
}

export function isSettled(a: Float32Array): boolean {
  return settled.has(a);
}

/** Calls `fn` with each array given back to the pool: whatever was derived from its values is stale. */
export function onRelease(fn: (a: Float32Array) => void): void {
  releaseListeners.push(fn);
}

/** Empties the pool: its arrays go to the garbage collector. */
export function clearPool(): void {
  for (const a of [...order]) drop(a);
}

/** The pool now: free arrays and their bytes, and since the start, allocations it served (hits) and could not (misses). */
export function poolStats(): {
  /** free arrays held now */
  arrays: number;
  /** their bytes */
  bytes: number;
  /** the most bytes it holds (setPoolLimit; 1 GiB by default) */
  limitBytes: number;
  /** allocations served from the pool */
  hits: number;
  /** allocations it could not serve */
  misses: number;
  /** arrays given back to it */
  released: number;
} {
  return { arrays: order.size, bytes: stats.bytes, limitBytes, hits: stats.hits, misses: stats.misses, released: stats.released };
}
