/**
 * Shapes and host-side values, below the Tensor: shape arithmetic, the checked allocation
 * of float32 arrays (a size too large is a ValueError naming the function, not V8's
 * RangeError), numbers checked as numbers, and checkNumerics (the NaN/Inf check of every
 * op's output, which the tensor core runs when it is on).
 */
import type { NdArray } from 'ndarray';
import { NumericsError, ShapeError, ValueError, describeValue as describe } from './errors.js';

/** A tensor's dimensions, outermost first: [N, C, H, W] for images, [N, K] for logits. */
export type Shape = readonly number[];

/** The number of values a tensor of `shape` holds: the product of its dimensions (1 for []). */
export function shapeSize(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** `shape` as the messages print it: '[2, 3, 224, 224]'. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function checkShape(where: string, shape: Shape): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${where}: expected a shape of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

/** the most float32 values one array holds here (V8's typed-array limit, 2^32 − 1; memory usually runs out first) */
const MAX_ELEMENTS = 2 ** 32 - 1;

/**
 * `make(n)` for the n values of `shape`, after checking the shape; too large a shape is a
 * ValueError naming `where` and the size, rather than V8's RangeError.
 */
export function allocating<T>(where: string, shape: Shape, make: (n: number) => T): T {
  checkShape(where, shape);
  const n = shapeSize(shape);
  const tooLarge = (reason: string) => new ValueError(`${where}: cannot allocate shape ${formatShape(shape)}: ${n.toExponential(3)} float32 values (${formatBytes(4 * n)}); ${reason}`);
  if (n > MAX_ELEMENTS) throw tooLarge(`one array holds at most ${MAX_ELEMENTS} values`);
  try {
    return make(n);
  } catch (e) {
    if (e instanceof RangeError) throw tooLarge(`the allocation failed (${e.message})`);
    throw e;
  }
}

/** A zeroed float32 array for `shape` (see allocating). */
export function newValues(where: string, shape: Shape): Float32Array {
  return allocating(where, shape, (n) => new Float32Array(n));
}

/** `data` as float32, refusing anything but numbers (Float32Array.from turns 'a' into NaN). */
export function numbersOf(where: string, data: ArrayLike<number>): Float32Array {
  if (data === null || typeof data !== 'object' || typeof (data as { length?: unknown }).length !== 'number') {
    throw new ValueError(`${where}: expected an array or typed array of numbers, got ${describe(data)}`);
  }
  if (!ArrayBuffer.isView(data)) {
    for (let i = 0; i < data.length; i++) {
      if (typeof data[i] !== 'number') throw new ValueError(`${where}: expected numbers, got ${describe(data[i])} at index ${i}`);
    }
  } else if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    throw new ValueError(`${where}: expected numbers, got a ${data.constructor.name}`);
  }
  return allocating(where, [data.length], () => Float32Array.from(data));
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let i = 0;
  while (bytes >= 1000 && i < units.length - 1) {
    bytes /= 1000;
    i++;
  }
  return `${i ? bytes.toFixed(1) : bytes} ${units[i]}`;
}

// ---------------------------------------------------------------------------------------
// checkNumerics: every op's output checked for NaN and Inf (tfjs's debug mode)

let numericsChecked = false;

/**
 * Turns the check of every op's output for NaN and ±Inf on or off (off by default: it reads
 * every output once more), and returns whether it is on. With it on, an op whose output
 * holds a non-finite value fails with a NumericsError naming the op, the first bad index
 * and its value; so do `Tensor.from` and optimiser updates (`assign`). Also on with the
 * environment variable VERYDEEP_CHECK_NUMERICS=1.
 */
export function checkNumerics(enabled?: boolean): boolean {
  if (enabled !== undefined) numericsChecked = !!enabled;
  return numericsChecked;
}

if ((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.VERYDEEP_CHECK_NUMERICS === '1') numericsChecked = true;

/** Throws a NumericsError if `values` (of `shape`) hold NaN or ±Inf. */
export function expectFinite(where: string, values: Float32Array, shape: Shape): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) { // false only for NaN and ±Inf
      const index: number[] = [];
      let rest = i;
      for (let d = shape.length - 1; d >= 0; d--) {
        index.unshift(rest % shape[d]);
        rest = Math.floor(rest / shape[d]);
      }
      throw new NumericsError(`${where}: checkNumerics: expected finite values, got ${v} at index ${i} (element [${index.join(', ')}] of shape ${formatShape(shape)})`);
    }
  }
}

/** Whether `v` is an ndarray (any rank): what every function that takes an image or an ndarray checks first. */
export function isNdarray(v: unknown): v is NdArray {
  return !!v && Array.isArray((v as NdArray).shape) && typeof (v as NdArray).get === 'function';
}
