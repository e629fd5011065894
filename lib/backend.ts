/**
 * Backends: which gpu.js mode runs the kernels, and the one place that launches them.
 *
 * Every kernel in kernels/ is launched through `runKernel`, which enforces the rules that
 * keep gpu.js honest on every mode (see ../shared/GPUJS.md for the measured traps):
 *  - loop bounds come from `constants` only (an argument bound is silently capped at 1000);
 *  - an output and every array argument hold fewer than 2^24 elements, because gpu.js
 *    indices are float32 on webasm, GL and webgpu and go wrong past 2^24 (the launchers in
 *    kernels/ split bigger tensors into chunks themselves);
 *  - kernels are `immutable` and results are copied out, so no later call can overwrite a
 *    tensor's storage;
 *  - the mode that really runs is checked after a probe: gpu.js falls back silently
 *    (headlessgl without a display becomes webasm), so we throw instead.
 *
 * Storage: every tensor owns a host Float32Array. GL and WebGPU modes upload the arguments
 * and read the result back on each launch; keeping tensors resident on the device is later
 * work (the README says so).
 */
import gpujs from 'gpu.js';
import { allocate } from './pool.js';
import { BackendError, describeValue } from './errors.js';

// gpu.js is CommonJS: take what we need from its default export.
const { GPU, CPUKernel, WebAssemblyKernel, HeadlessGLKernel, WebGL2Kernel, WebGPUKernel } =
  gpujs as unknown as Record<string, any>;

/**
 * The modes: gpu.js's cpu, webasm, headlessgl, webgl2 and webgpu, and 'wasm', the CPU fast
 * path (Node): hand-written WebAssembly SIMD kernels on worker threads (kernels/wasm/) for
 * the convolutions, fully connected layers, ReLU, max-pool, dropout, the element-wise ops
 * and the SGD update, and gpu.js's cpu mode for the rest (softmax, cross-entropy, LRN).
 */
export type Mode = 'cpu' | 'webasm' | 'wasm' | 'headlessgl' | 'webgl2' | 'webgpu';
export type BackendRequest = Mode | 'auto';
export const MODES: readonly Mode[] = ['cpu', 'webasm', 'wasm', 'headlessgl', 'webgl2', 'webgpu'];

/** The hand-written kernels of the 'wasm' mode (kernels/wasm/fastpath.ts). */
export type FastPathKernels = typeof import('../kernels/wasm/fastpath.js');

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

/** What `getBackendInfo()` reports: the mode that really runs and why it was chosen. */
export interface BackendInfo {
  mode: Mode;
  requested: BackendRequest;
  reason: string;
}

/** the gpu.js mode that runs a mode's gpu.js kernels */
const GPUJS_MODE: Record<Mode, string> = { cpu: 'cpu', webasm: 'webasm', wasm: 'cpu', headlessgl: 'headlessgl', webgl2: 'webgl2', webgpu: 'webgpu' };

const KERNEL_CLASS: Record<Mode, () => unknown> = {
  cpu: () => CPUKernel,
  webasm: () => WebAssemblyKernel,
  wasm: () => CPUKernel,
  headlessgl: () => HeadlessGLKernel,
  webgl2: () => WebGL2Kernel,
  webgpu: () => WebGPUKernel,
};

/** webasm threads and webgpu readback only work under gpu.js's async contract. */
const ASYNC_MODES: ReadonlySet<Mode> = new Set<Mode>(['webasm', 'webgpu']);

interface BackendState {
  info: BackendInfo;
  gpu: any;
  kernels: Map<string, any>;
  /** the hand-written kernels, in the 'wasm' mode only */
  fast: FastPathKernels | null;
}

let current: BackendState | null = null;
const MAX_CACHED_KERNELS = 512;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

function probeKernelSource(this: any, a: number[]): number {
  return a[this.thread.x] * 2 + 1;
}

/** Creates a GPU for `mode` and proves that kernels really run there; throws otherwise. */
async function openBackend(mode: Mode, requested: BackendRequest, reason: string): Promise<BackendState> {
  if (!MODES.includes(mode)) {
    throw new BackendError(`setBackend: unknown mode ${describeValue(mode)}; expected one of ${[...MODES, 'auto'].join(', ')}`);
  }
  if (mode === 'webgpu' && !(await webgpuAvailable())) {
    throw new BackendError(`setBackend('webgpu'): no WebGPU adapter answered (navigator.gpu is ${typeof navigator !== 'undefined' && (navigator as any).gpu ? 'present' : 'missing'}); run in a browser with WebGPU enabled`);
  }
  if ((mode === 'webgl2') && isNode) {
    throw new BackendError(`setBackend('webgl2'): WebGL2 needs a browser; in Node use 'headlessgl' (the gl package, under a display) instead`);
  }
  let fast: FastPathKernels | null = null;
  if (mode === 'wasm') {
    if (!isNode) throw new BackendError(`setBackend('wasm'): the WebAssembly fast path runs in Node only; in a browser use 'webgpu', 'webgl2' or 'webasm'`);
    try {
      fast = await import('../kernels/wasm/fastpath.js');
      const info = await fast.initFastPath();
      reason += ` (${info.simd} SIMD, ${info.threads} thread${info.threads === 1 ? '' : 's'})`;
    } catch (e) {
      throw new BackendError(`setBackend('wasm'): the WebAssembly fast path cannot start: ${(e as Error).message}`, { cause: e });
    }
  }
  let gpu: any;
  try {
    gpu = new GPU({ mode: GPUJS_MODE[mode] });
  } catch (e) {
    throw new BackendError(`setBackend('${mode}'): gpu.js cannot start this mode here: ${(e as Error).message}`, { cause: e });
  }
  const state: BackendState = { info: { mode, requested, reason }, gpu, kernels: new Map(), fast };
  let probe: any;
  try {
    probe = gpu.createKernel(probeKernelSource, { output: [3], immutable: true, asyncMode: ASYNC_MODES.has(mode) });
    const out = await probe(Float32Array.of(1, 2, 3));
    const got = Array.from(out as Float32Array);
    if (got[0] !== 3 || got[1] !== 5 || got[2] !== 7) {
      throw new BackendError(`probe kernel returned [${got.join(', ')}], expected [3, 5, 7]`);
    }
  } catch (e) {
    gpu.destroy?.();
    throw new BackendError(`setBackend('${mode}'): a probe kernel failed: ${(e as Error).message}`, { cause: e });
  }
  const ran = probe.kernel;
  const expected = KERNEL_CLASS[mode]();
  if (!expected || !(ran instanceof (expected as any))) {
    const why = ran?.fallbackReason ? ` (${ran.fallbackReason})` : '';
    gpu.destroy?.();
    throw new BackendError(`setBackend('${mode}'): gpu.js silently ran the probe on '${ran?.constructor?.mode ?? ran?.constructor?.name}' instead${why}` +
      (mode === 'headlessgl' ? '; headless-gl needs the gl package built and a display: run under xvfb-run -a' : ''));
  }
  probe.destroy?.();
  return state;
}

async function webgpuAvailable(): Promise<boolean> {
  try {
    return !!(GPU.isWebGPUSupported && (await GPU.isWebGPUAvailable()));
  } catch {
    return false;
  }
}

/**
 * Whether headless-gl can make a context here, and whether a GPU device backs it. The gl
 * package's ANGLE reports only "ANGLE" as its renderer, so a GPU is recognised by its
 * device node (/dev/dri/renderD*, /dev/nvidia*); without one, GL runs in software (Mesa's
 * llvmpipe), which is no faster than webasm.
 */
async function headlessGL(): Promise<{ context: boolean; gpuDevice: string | null }> {
  if (!isNode) return { context: false, gpuDevice: null };
  // imported here, not at the top, so that browser bundles never load a Node module
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  let context = false;
  try {
    const ctx = (require('gl') as (w: number, h: number) => any)(1, 1);
    context = !!ctx;
    ctx?.getExtension('STACKGL_destroy_context')?.destroy();
  } catch {
    context = false;
  }
  let gpuDevice: string | null = null;
  try {
    const fs = require('node:fs') as typeof import('node:fs');
    const dri = fs.existsSync('/dev/dri') ? fs.readdirSync('/dev/dri').filter((f) => f.startsWith('renderD')) : [];
    const nvidia = fs.readdirSync('/dev').filter((f) => /^nvidia\d+$/.test(f));
    gpuDevice = [...dri.map((f) => `/dev/dri/${f}`), ...nvidia.map((f) => `/dev/${f}`)][0] ?? null;
  } catch {
    gpuDevice = null;
  }
  return { context, gpuDevice };
}

/**
 * `auto`: in a browser, webgpu, then webgl2, then webasm; in Node, headlessgl when a GPU
 * backs it, else the WebAssembly fast path ('wasm'), else webasm. A software GL (Mesa llvmpipe) is no faster than webasm, so auto
 * does not pick it; ask for 'headlessgl' explicitly to use it.
 */
async function openAuto(): Promise<BackendState> {
  const tried: string[] = [];
  const attempt = async (mode: Mode, reason: string): Promise<BackendState | null> => {
    try {
      return await openBackend(mode, 'auto', reason);
    } catch (e) {
      tried.push(`${mode}: ${(e as Error).message}`);
      return null;
    }
  };
  if (!isNode) {
    for (const mode of ['webgpu', 'webgl2'] as Mode[]) {
      const s = await attempt(mode, `auto: ${mode} is the fastest mode that answered in this browser`);
      if (s) return s;
    }
  } else {
    const gl = await headlessGL();
    if (gl.context && gl.gpuDevice) {
      const s = await attempt('headlessgl', `auto: headless-gl has a GL context and a GPU device (${gl.gpuDevice})`);
      if (s) return s;
    } else {
      tried.push(gl.context ? 'headlessgl: GL runs in software here (no GPU device node), no faster than webasm' : 'headlessgl: no GL context (gl not built, or no display)');
    }
  }
  if (isNode) {
    const s = await attempt('wasm', `auto: picked the WebAssembly fast path (${tried.join('; ') || 'no GPU mode'})`);
    if (s) return s;
  }
  const s = await attempt('webasm', `auto: picked webasm (${tried.join('; ') || 'no GPU mode'})`);
  if (s) return s;
  const cpu = await attempt('cpu', `auto: picked cpu (${tried.join('; ')})`);
  if (cpu) return cpu;
  throw new BackendError(`setBackend('auto'): no gpu.js mode could run: ${tried.join('; ')}`);
}

/**
 * Selects the mode that runs every kernel from now on. An explicit mode that cannot run
 * throws; nothing falls back silently. Tensors keep host storage, so they stay valid
 * across a change of backend.
 */
export async function setBackend(request: BackendRequest): Promise<BackendInfo> {
  if (request !== 'auto' && !MODES.includes(request as Mode)) {
    throw new BackendError(`setBackend: unknown mode ${describeValue(request)}; expected one of ${[...MODES, 'auto'].join(', ')}`);
  }
  const next = request === 'auto' ? await openAuto() : await openBackend(request, request, `explicit setBackend('${request}')`);
  disposeBackend();
  current = next;
  return { ...next.info };
}

/** The mode that really runs ('cpu', 'webasm', ...), or null before the first setBackend/op. */
export function getBackend(): Mode | null {
  return current ? current.info.mode : null;
}

/** The running mode, what was asked for, and why this mode was chosen. */
export function getBackendInfo(): BackendInfo | null {
  return current ? { ...current.info } : null;
}

let starting: Promise<BackendState> | null = null;

/** The backend ops run on, opened with 'auto' on first use. */
async function activeBackend(): Promise<BackendState> {
  if (current) return current;
  if (!starting) {
    starting = openAuto().then((s) => {
      if (!current) current = s;
      starting = null;
      return current;
    });
  }
  return starting;
}

/** The hand-written kernels when the 'wasm' mode runs, else null (the gpu.js kernels run). */
export async function fastPath(): Promise<FastPathKernels | null> {
  return (await activeBackend()).fast;
}

/** Frees the compiled kernels of the current backend (tests call it between modes). */
export function disposeBackend(): void {
  if (!current) return;
  for (const k of current.kernels.values()) k.destroy?.();
  current.kernels.clear();
  current.gpu.destroy?.();
  current = null;
}

let profile: Record<string, { calls: number; ms: number; elements: number }> | null = null;

/**
 * Starts (or with `false` stops) timing every kernel launch by kernel name; `kernelProfile()`
 * returns the totals since. For finding where a training step spends its time.
 */
export function setKernelProfiling(on: boolean): void {
  profile = on ? {} : null;
}

export function kernelProfile(): Record<string, { calls: number; ms: number; elements: number }> {
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
  const backend = await activeBackend();
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
      asyncMode: ASYNC_MODES.has(backend.info.mode),
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
    throw new BackendError(`${name}: kernel on ${backend.info.mode} returned ${array?.constructor?.name} of length ${array?.length}, expected Float32Array(${outputSize})`);
  }
  const copy = allocate(outputSize); // a copy the caller owns: gpu.js may reuse its own
  copy.set(array);
  return copy;
}
