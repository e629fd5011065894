/**
 * The gpu.js launcher: compiles and runs one kernel function over a 1-D output, with the
 * limits every launcher splits its work below (2^24 elements, the loop budget), a cache of
 * compiled kernels, and a profiler. The backend (lib/core/backend.ts) hands it the GPU object
 * of the mode it opened (`useGpu`), and how to open one on demand (`openOnDemand`): this
 * file knows no mode and imports nothing above kernels/.
 */
import { allocate } from './pool.js';
import { BackendError } from './errors.js';

/** gpu.js indices are float32: an output or array argument must stay below this many elements. */
export const MAX_KERNEL_ELEMENTS = 1 << 24;

/**
 * The most loop iterations, summed over every loop it runs, that one kernel thread may do.
 * Mesa's llvmpipe (the software GL behind headlessgl in CI) silently stops a shader
 * invocation's loops after 65,535 iterations in total (measured here: a 250,000-term sum
 * came back as 65,535). Kernels whose reductions can be longer (the conv and FC weight and
 * bias gradients, long FC rows) split them into launches of at most this many iterations
 * and add the partial sums.
 */
export const LOOP_BUDGET = 65000;

/** The GPU that kernels run on: gpu.js's GPU object, the mode it runs, and whether it needs gpu.js's async contract. */
export interface GpuHandle {
  gpu: any;
  /** gpu.js's mode name ('cpu', 'webasm', 'headlessgl', ...), for messages */
  mode: string;
  /** webasm threads and webgpu readback only work under gpu.js's async contract */
  asyncMode: boolean;
}

interface ActiveGpu extends GpuHandle {
  /** compiled kernels, least recently used first */
  kernels: Map<string, any>;
}

let active: ActiveGpu | null = null;
let openOnDemandFn: (() => Promise<void>) | null = null;
const MAX_CACHED_KERNELS = 512;

/** Runs kernels on `handle` from now on (null: none); the kernels compiled for the previous GPU are freed. */
export function useGpu(handle: GpuHandle | null): void {
  if (active) {
    for (const k of active.kernels.values()) k.destroy?.();
    active.kernels.clear();
  }
  active = handle ? { ...handle, kernels: new Map() } : null;
}

/** How to open a GPU when a kernel runs before any was handed over (the backend's 'auto'). */
export function openOnDemand(open: () => Promise<void>): void {
  openOnDemandFn = open;
}

async function activeGpu(): Promise<ActiveGpu> {
  if (!active && openOnDemandFn) await openOnDemandFn();
  if (!active) throw new BackendError('runKernel: expected a backend, got none: call setBackend() first');
  return active;
}

let profile: Record<string, { calls: number; ms: number; elements: number }> | null = null;

/**
 * Starts (or with `false` stops) timing every kernel launch by kernel name; `kernelProfile()`
 * returns the totals since. For finding where a training step spends its time.
 */
export function setKernelProfiling(on: boolean): void {
  profile = on ? {} : null;
}

/**
 * The totals per kernel name since setKernelProfiling(true): launches, milliseconds and
 * output elements; an empty object while profiling is off.
 */
export function kernelProfile(): Record<string, {
  /** launches */
  calls: number;
  /** wall time of the launches, milliseconds */
  ms: number;
  /** output elements computed, summed over the launches */
  elements: number;
}> {
  return { ...(profile ?? {}) };
}

/** A gpu.js kernel function: `this.thread.x` is the flat output index of the launch. */
export type KernelSource = (this: any, ...args: any[]) => number;

export type KernelArg = Float32Array | number;

/**
 * Launches one kernel over a 1-D output of `outputSize` elements and returns a fresh
 * Float32Array that the caller owns. Kernels are compiled once per (name, size, constants).
 */
export async function runKernel(
  name: string,
  source: KernelSource,
  outputSize: number,
  constants: Record<string, number>,
  args: KernelArg[],
): Promise<Float32Array> {
  if (!Number.isInteger(outputSize) || outputSize <= 0 || outputSize >= MAX_KERNEL_ELEMENTS) {
    throw new BackendError(`${name}: kernel output of ${outputSize} elements is outside 1..2^24-1; the launcher must split it`);
  }
  args.forEach((a, i) => {
    if (typeof a !== 'number' && a.length >= MAX_KERNEL_ELEMENTS) {
      throw new BackendError(`${name}: kernel argument ${i} has ${a.length} elements (>= 2^24); the launcher must split it`);
    }
  });
  const backend = active ?? (await activeGpu());
  const key = `${name}|${outputSize}|${JSON.stringify(constants)}|${args.map((a) => (typeof a === 'number' ? 'n' : 'a')).join('')}`;
  let kernel = backend.kernels.get(key);
  if (kernel) {
    backend.kernels.delete(key); // re-insert: the map's order is least recently used first
  } else {
    if (backend.kernels.size >= MAX_CACHED_KERNELS) {
      const [oldKey, oldKernel] = backend.kernels.entries().next().value as [string, any];
      backend.kernels.delete(oldKey);
      oldKernel.destroy?.();
    }
    kernel = backend.gpu.createKernel(source, {
      output: [outputSize],
      constants,
      immutable: true,
      precision: 'single',
      asyncMode: backend.asyncMode,
      tactic: 'precision', // GL: highp floats and ints in the shaders

    });
  }
  backend.kernels.set(key, kernel);
  const t0 = profile ? performance.now() : 0;
  const result = await kernel(...args);
  if (profile) {
    const entry = (profile[name] ??= { calls: 0, ms: 0, elements: 0 });
    entry.calls++;
    entry.ms += performance.now() - t0;
    entry.elements += outputSize;
  }
  const array = (result && typeof result.toArray === 'function') ? await result.toArray() : result;
  if (!(array instanceof Float32Array) || array.length !== outputSize) {
    throw new BackendError(`${name}: kernel on ${backend.mode} returned ${array?.constructor?.name} of length ${array?.length}, expected Float32Array(${outputSize})`);
  }
  const copy = allocate(outputSize); // a copy the caller owns: gpu.js may reuse its own
  copy.set(array);
  return copy;
}
