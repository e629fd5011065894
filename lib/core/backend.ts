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
import { BackendError, describeValue } from './errors.js';
import { useGpu, openOnDemand } from '../../kernels/gpujs.js';
import { getKernel, KERNEL_NAMES, type KernelBackend, type KernelName, type KernelSet } from '../../kernels/registry.js';
import { registerGpujsKernels } from '../../kernels/register-gpujs.js';

export { MAX_KERNEL_ELEMENTS, LOOP_BUDGET, setKernelProfiling, kernelProfile } from '../../kernels/gpujs.js';
export type { KernelName } from '../../kernels/registry.js';

// gpu.js is CommonJS: take what we need from its default export.
const { GPU, CPUKernel, WebAssemblyKernel, HeadlessGLKernel, WebGL2Kernel, WebGPUKernel } =
  gpujs as unknown as Record<string, any>;

/**
 * The modes: gpu.js's cpu, webasm, headlessgl, webgl2 and webgpu, and 'wasm', the CPU fast
 * path (Node): hand-written WebAssembly SIMD kernels on worker threads (kernels/wasm/) for
 * every kernel: the convolutions, fully connected layers, ReLU, max-pool, dropout, LRN,
 * softmax, cross-entropy, the element-wise ops and the SGD update.
 */
export type Mode = 'cpu' | 'webasm' | 'wasm' | 'headlessgl' | 'webgl2' | 'webgpu';
/** What setBackend() takes: a mode, or 'auto' (the fastest mode that works here, GPU first). */
export type BackendRequest = Mode | 'auto';
/** Every mode, in the order of the Mode type; not all of them run on every machine. */
export const MODES: readonly Mode[] = ['cpu', 'webasm', 'wasm', 'headlessgl', 'webgl2', 'webgpu'];

/** The registry's backend that runs a mode's kernels; what it lacks runs on gpujs (explicitly: BackendInfo.kernels). */
const KERNEL_BACKEND: Record<Mode, KernelBackend> = { cpu: 'gpujs', webasm: 'gpujs', wasm: 'wasm', headlessgl: 'gpujs', webgl2: 'gpujs', webgpu: 'gpujs' };

// the gpujs backend registers every kernel: the fallback of every other backend
registerGpujsKernels();

/** What `getBackendInfo()` reports: the mode that really runs and why it was chosen. */
export interface BackendInfo {
  /** The mode that runs. */
  mode: Mode;
  /** What setBackend() was asked for ('auto' or a mode). */
  requested: BackendRequest;
  /** Why this mode runs: the request, or what 'auto' found (and which modes failed, and why). */
  reason: string;
  /** which backend of the registry runs each kernel here: 'wasm', or 'gpujs (<gpu.js mode>)' */
  kernels: Record<KernelName, string>;
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
  /** each kernel's implementation on this mode, resolved once when the mode opens */
  impls: Map<KernelName, KernelSet[KernelName]>;
}

let current: BackendState | null = null;
const isNode = typeof process !== 'undefined' && !!process.versions?.node;

function probeKernelSource(this: any, a: number[]): number {
  return a[this.thread.x] * 2 + 1;
}

/** Creates a GPU for `mode` and proves that kernels really run there; throws otherwise. */
async function openBackend(mode: Mode, requested: BackendRequest, reason: string): Promise<BackendState> {
  if (mode === 'webgpu' && !(await webgpuAvailable())) {
    throw new BackendError(`setBackend('webgpu'): no WebGPU adapter answered (navigator.gpu is ${typeof navigator !== 'undefined' && (navigator as any).gpu ? 'present' : 'missing'}); run in a browser with WebGPU enabled`);
  }
  if ((mode === 'webgl2') && isNode) {
    throw new BackendError(`setBackend('webgl2'): WebGL2 needs a browser; in Node use 'headlessgl' (the gl package, under a display) instead`);
  }
  if (mode === 'wasm') {
    if (!isNode) throw new BackendError(`setBackend('wasm'): the WebAssembly fast path runs in Node only; in a browser use 'webgpu', 'webgl2' or 'webasm'`);
    try {
      const fast = await import('../../kernels/wasm/fastpath.js');
      (await import('../../kernels/wasm/register.js')).registerWasmKernels();
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
    throw new BackendError(`setBackend('${mode}'): gpu.js cannot start this mode here: ${(e as Error).message}` +
      (mode === 'headlessgl' ? `; ${await headlessGLHelp()}` : ''), { cause: e });
  }
  const impls = new Map<KernelName, KernelSet[KernelName]>();
  const kernels = {} as Record<KernelName, string>;
  for (const name of KERNEL_NAMES) {
    const own = getKernel(KERNEL_BACKEND[mode], name);
    impls.set(name, own ?? getKernel('gpujs', name)!);
    kernels[name] = own ? KERNEL_BACKEND[mode] + (KERNEL_BACKEND[mode] === 'gpujs' ? ` (${GPUJS_MODE[mode]})` : '') : `gpujs (${GPUJS_MODE[mode]}), as ${mode} has no ${name}`;
  }
  const state: BackendState = { info: { mode, requested, reason, kernels }, gpu, impls };
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
      (mode === 'headlessgl' ? `; ${await headlessGLHelp()}` : ''));
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
 * How to build headless-gl. The gl package is an optional dependency of gpu.js: npm skips it
 * where its native build fails (no compiler or X11 headers; no root is needed to install
 * verydeep), so a user meets its absence only here.
 */
const GL_HOW_TO =
  'its build needs python3, make, a C++ compiler and the X11 and GL headers (Debian, as root: apt-get install ' +
  'build-essential python3 pkg-config libx11-dev libxext-dev libxi-dev mesa-common-dev libgl1-mesa-dri xvfb xauth), ' +
  'then `npm rebuild gl` (in a verydeep checkout, whose package.json denies gl\'s install script: ' +
  '`npm run setup -- --for test`); then run under a display (xvfb-run -a)';

/** Why headless-gl made no context here (gl missing, not built, or no display), and how to get it. */
async function headlessGLHelp(): Promise<string> {
  if (!isNode) return 'headless-gl runs in Node only; in a browser use webgl2 or webgpu';
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  try {
    require.resolve('gl');
  } catch {
    return `the npm package gl (headless-gl, an optional dependency of gpu.js) is not installed: ${GL_HOW_TO}`;
  }
  try {
    require('gl');
  } catch (e) {
    return `the npm package gl (headless-gl) is installed but does not load (${(e as Error).message.split('\n')[0]}): ${GL_HOW_TO}`;
  }
  return 'the npm package gl (headless-gl) loads but made no GL context: it needs a display; run under xvfb-run -a ' +
    '(Debian: xvfb, xauth and libgl1-mesa-dri)';
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
  activate(next);
  return { ...next.info };
}

/** The mode that really runs ('cpu', 'webasm', ...), or null before the first setBackend/op. */
export function getBackend(): Mode | null {
  return current ? current.info.mode : null;
}

/** The running mode, what was asked for, and why this mode was chosen. */
export function getBackendInfo(): BackendInfo | null {
  return current ? { ...current.info, kernels: { ...current.info.kernels } } : null;
}

/** Makes `state` the running backend, and hands its GPU to the gpu.js launcher. */
function activate(state: BackendState): void {
  current = state;
  useGpu({ gpu: state.gpu, mode: GPUJS_MODE[state.info.mode], asyncMode: ASYNC_MODES.has(state.info.mode) });
}

let starting: Promise<BackendState> | null = null;

/** The backend ops run on, opened with 'auto' on first use. */
async function activeBackend(): Promise<BackendState> {
  if (current) return current;
  if (!starting) {
    starting = openAuto().then((s) => {
      if (!current) activate(s);
      starting = null;
      return current!;
    });
  }
  return starting;
}

openOnDemand(async () => {
  await activeBackend();
});

/**
 * Runs kernel `name` of the registry on the running mode (opened with 'auto' on first
 * use): the mode's own implementation, or gpujs's where it has none. lib/core/ops.ts and the
 * optimiser reach every kernel through this.
 */
export async function runRegistered<K extends KernelName>(name: K, ...args: Parameters<KernelSet[K]>): Promise<Awaited<ReturnType<KernelSet[K]>>> {
  const impl = (current ?? (await activeBackend())).impls.get(name) as (...a: Parameters<KernelSet[K]>) => ReturnType<KernelSet[K]>;
  return impl(...args) as Promise<Awaited<ReturnType<KernelSet[K]>>>;
}

/** Frees the compiled kernels of the current backend (tests call it between modes). */
export function disposeBackend(): void {
  if (!current) return;
  useGpu(null);
  current.gpu.destroy?.();
  current = null;
}

