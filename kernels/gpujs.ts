/**
 * The gpu.js launcher: compiles and runs one kernel function over a 1-D output, with the
 * limits every launcher splits its work below (2^24 elements, the loop budget), a cache of
 * compiled kernels, and a profiler. Also: four outputs per thread (register blocking:
 * LaunchOptions.vec4, where vec4Outputs says so), arguments in groups of four (vec4Inputs:
 * the GL modes), and sums of several launches kept on the GPU in pipeline mode
 * (runKernelSum); each read back once, into a host array the caller owns. Tensors
 * themselves stay in host arrays (lib/core/backend.ts). The backend (lib/core/backend.ts) hands it the GPU object
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
  /** whether kernels returning four values per thread give the right numbers here (probed once, see vec4Outputs) */
  vec4?: Promise<boolean>;
  /** whether arguments of four-value groups read right here (probed once, see vec4Inputs) */
  vec4In?: Promise<boolean>;
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

/**
 * A gpu.js kernel function: `this.thread.x` is the flat output index of the launch (a
 * number), or with `{ vec4: true }` the index of a group of four consecutive outputs,
 * which the thread returns as `[a, b, c, d]`.
 */
export type KernelSource = (this: any, ...args: any[]) => number | number[];

/**
 * A kernel argument: a flat array, a number, or the result of an earlier launch left on
 * the GPU (runKernelOnGpu: a texture on GL; one made with `vec4` reads four values at once).
 */
export type KernelArg = Float32Array | number | GpuResult;

/** a launch's result left on the GPU (pipeline mode): a gpu.js texture (GL) or buffer (webgpu); free it with delete() */
export interface GpuResult {
  /** reads the values back (to a fresh array, or an array of four-value groups) */
  toArray(): any;
  /** frees the texture or buffer */
  delete?(): void;
}

/** How a launch runs (runKernel's last argument). */
export interface LaunchOptions {
  /**
   * Register blocking: each thread computes four consecutive outputs and returns them as
   * one `[a, b, c, d]` (gpu.js's 'Array(4)' return type: one RGBA texel on GL, a vec4 on
   * WebGPU). `outputSize` still counts outputs and must be a multiple of 4. Only where
   * vec4Outputs() says the mode gets them right.
   */
  vec4?: boolean;
}

function vec4ProbeKernel(this: any, a: number[]): number[] {
  const i = this.thread.x * 4;
  return [a[i] * 2, a[i + 1] * 2 + 1, a[i + 2] * 2 + 2, a[i + 3] * 2 + 3];
}

/**
 * Whether the active mode runs kernels that return four values per thread correctly
 * (runKernel's `vec4`): a probe kernel, once per GPU. gpu.js supports the 'Array(4)'
 * return type on cpu, webasm, the GL modes and webgpu; a mode whose probe throws or
 * returns wrong numbers makes the launchers keep their one-output kernels.
 */
export async function vec4Outputs(): Promise<boolean> {
  const backend = active ?? (await activeGpu());
  backend.vec4 ??= (async () => {
    const a = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    try {
      const got = await runKernel('vec4Probe', vec4ProbeKernel, 12, {}, [a], { vec4: true });
      return got.every((v, i) => v === a[i] * 2 + (i % 4));
    } catch {
      return false;
    }
  })();
  return backend.vec4;
}

function packProbeKernel(this: any, a: number[]): number[] {
  const i = this.thread.x * 4;
  return [a[i], a[i + 1], a[i + 2], a[i + 3]];
}

function vec4InputProbeKernel(this: any, a: number[][], b: number[][]): number {
  const u = a[this.thread.x];
  const v = b[this.thread.x];
  return u[0] * v[0] + u[1] * v[1] + u[2] * v[2] + u[3] * v[3];
}

/** GL modes: where a four-value result (a texture of RGBA texels) read by the next kernel yields four values per read */
const VEC4_INPUT_MODES = new Set(['headlessgl', 'webgl', 'webgl2']);

/**
 * Whether kernels may read four values at once from an earlier launch's four-value result
 * left on the GPU (runKernelOnGpu with `vec4`): on the GL modes, where gpu.js reads such a
 * texture as one RGBA texel, and only if a probe chain (pack, then read) gets the right
 * numbers there. Once per GPU.
 */
export async function vec4Inputs(): Promise<boolean> {
  const backend = active ?? (await activeGpu());
  if (!VEC4_INPUT_MODES.has(backend.mode)) return false;
  backend.vec4In ??= (async () => {
    const flat = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    let packed: GpuResult | null = null;
    try {
      packed = await runKernelOnGpu('packProbe', packProbeKernel, 12, {}, [flat], { vec4: true });
      const got = await runKernel('vec4InputProbe', vec4InputProbeKernel, 3, {}, [packed, packed]);
      return got[0] === 30 && got[1] === 174 && got[2] === 446;
    } catch {
      return false;
    } finally {
      packed?.delete?.();
    }
  })();
  return backend.vec4In;
}

/** The values of an 'Array(4)' result (an array of four-element arrays, or one flat array) in one Float32Array of `size`. */
function flattenVec4(result: any, size: number): Float32Array | null {
  if (result instanceof Float32Array) return result.length === size ? result : null;
  if (!Array.isArray(result) || result.length * 4 !== size) return null;
  const first = result[0], last = result[result.length - 1];
  // GL and webasm hand out subarrays of one buffer: view it without copying
  if (first instanceof Float32Array && last instanceof Float32Array && first.buffer === last.buffer &&
      last.byteOffset === first.byteOffset + 16 * (result.length - 1) && first.byteOffset + size * 4 <= first.buffer.byteLength) {
    return new Float32Array(first.buffer, first.byteOffset, size);
  }
  const out = new Float32Array(size);
  for (let i = 0; i < result.length; i++) {
    const v = result[i];
    out[4 * i] = v[0]; out[4 * i + 1] = v[1]; out[4 * i + 2] = v[2]; out[4 * i + 3] = v[3];
  }
  return out;
}

/** a compiled kernel and its launch, for runKernel and runKernelSum */
async function launch(
  name: string,
  source: KernelSource,
  outputSize: number,
  constants: Record<string, number>,
  args: KernelArg[],
  options: LaunchOptions & { pipeline?: boolean },
): Promise<{ result: any; backend: ActiveGpu; threads: number }> {
  const vec4 = options.vec4 === true;
  const pipeline = options.pipeline === true;
  // the float32 index limit is on threads (this.thread.x, a texel of the result): four outputs per thread may reach 4·2^24
  const limit = vec4 ? 4 * MAX_KERNEL_ELEMENTS : MAX_KERNEL_ELEMENTS;
  if (!Number.isInteger(outputSize) || outputSize <= 0 || outputSize >= limit) {
    throw new BackendError(`${name}: kernel output of ${outputSize} elements is outside 1..${vec4 ? '4·2^24-4' : '2^24-1'}; the launcher must split it`);
  }
  if (vec4 && outputSize % 4 !== 0) {
    throw new BackendError(`${name}: a kernel with four outputs per thread needs a multiple of 4 outputs, got ${outputSize}`);
  }
  const kind = (a: KernelArg) => (typeof a === 'number' ? 'n' : a instanceof Float32Array ? 'a' : 't');
  args.forEach((a, i) => {
    if (a instanceof Float32Array && a.length >= MAX_KERNEL_ELEMENTS) {
      throw new BackendError(`${name}: kernel argument ${i} has ${a.length} elements (>= 2^24); the launcher must split it`);
    }
  });
  const backend = active ?? (await activeGpu());
  const threads = vec4 ? outputSize / 4 : outputSize;
  const key = `${name}|${vec4 ? 'v4' : 's'}${pipeline ? 'p' : ''}|${outputSize}|${JSON.stringify(constants)}|${args.map(kind).join('')}`;
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
      output: [threads],
      constants,
      ...(vec4 ? { returnType: 'Array(4)' } : {}),
      // pipeline: the result stays on the GPU (a texture or buffer) for the next launch;
      // immutable: each launch makes a new one, never overwriting the last (GPUJS.md trap 3)
      ...(pipeline ? { pipeline: true } : {}),
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
  return { result, backend, threads };
}


/** the modes whose pipeline results stay on the GPU (cpu and webasm hand back arrays: their sums stay on the host) */
const PIPELINE_MODES = new Set(['headlessgl', 'webgl', 'webgl2', 'webgpu']);

function addKernel(this: any, a: number[], b: number[]): number {
  return a[this.thread.x] + b[this.thread.x];
}

/**
 * Runs several launches of one kernel over the same 1-D output and returns the sum of their
 * results (the partial sums of a reduction split into blocks: weight and bias gradients,
 * long FC rows). On the GL and WebGPU modes the partial results stay on the GPU (pipeline
 * mode) and are added there, each into the running sum, in launch order; only the total is
 * read back. Elsewhere each result is read and added on the host, in the same order: the
 * same float32 sums either way.
 */
export async function runKernelSum(
  name: string,
  source: KernelSource,
  outputSize: number,
  launches: { constants: Record<string, number>; args: KernelArg[] }[],
): Promise<Float32Array> {
  const backend = active ?? (await activeGpu());
  if (launches.length === 1 || !PIPELINE_MODES.has(backend.mode)) {
    let total: Float32Array | null = null;
    for (const l of launches) {
      const part = await runKernel(name, source, outputSize, l.constants, l.args);
      if (total) {
        for (let i = 0; i < outputSize; i++) total[i] += part[i];
      } else {
        total = part;
      }
    }
    if (!total) throw new BackendError(`${name}: a sum of no launches`);
    return total;
  }
  let total: GpuResult | null = null;
  const live = new Set<GpuResult>(); // what this sum made and has not freed: freed on the way out, errors included
  const free = (r: GpuResult) => {
    if (live.delete(r)) r.delete?.();
  };
  try {
    for (const l of launches) {
      const part = (await launch(name, source, outputSize, l.constants, l.args, { pipeline: true })).result as GpuResult;
      live.add(part);
      if (total) {
        const sum = (await launch(`${name} (sum)`, addKernel, outputSize, {}, [total, part], { pipeline: true })).result as GpuResult;
        live.add(sum);
        free(total);
        free(part);
        total = sum;
      } else {
        total = part;
      }
    }
    return readBack(name, backend, await total!.toArray(), outputSize, false, outputSize);
  } finally {
    for (const r of [...live]) free(r);
  }
}

/**
 * Launches one kernel like runKernel but leaves its result on the GPU (pipeline mode) for
 * the next launch to read as an argument, with no readback; the caller frees it with
 * delete(). For the GL modes (vec4Inputs); on cpu and webasm gpu.js returns host arrays.
 */
export async function runKernelOnGpu(
  name: string,
  source: KernelSource,
  outputSize: number,
  constants: Record<string, number>,
  args: KernelArg[],
  options: LaunchOptions = {},
): Promise<GpuResult> {
  return (await launch(name, source, outputSize, constants, args, { ...options, pipeline: true })).result as GpuResult;
}

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
  options: LaunchOptions = {},
): Promise<Float32Array> {
  const vec4 = options.vec4 === true;
  const { result, backend, threads } = await launch(name, source, outputSize, constants, args, options);
  const raw = (result && typeof result.toArray === 'function') ? await result.toArray() : result;
  return readBack(name, backend, raw, outputSize, vec4, threads);
}

/** a launch's values as a fresh array that the caller owns (gpu.js may reuse its own) */
function readBack(name: string, backend: ActiveGpu, raw: any, outputSize: number, vec4: boolean, threads: number): Float32Array {
  const array = vec4 ? flattenVec4(raw, outputSize) : raw;
  if (!(array instanceof Float32Array) || array.length !== outputSize) {
    throw new BackendError(`${name}: kernel on ${backend.mode} returned ${raw?.constructor?.name} of length ${raw?.length}, expected ${vec4 ? `${threads} groups of 4` : `Float32Array(${outputSize})`}`);
  }
  const copy = allocate(outputSize); // a copy the caller owns: gpu.js may reuse its own
  copy.set(array);
  return copy;
}
