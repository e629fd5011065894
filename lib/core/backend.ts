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
import type { Conv2dDims } from '../../kernels/dims.js';
import { getKernel, KERNEL_NAMES, type KernelBackend, type KernelName, type KernelSet } from '../../kernels/registry.js';
import { registerGpujsKernels } from '../../kernels/register-gpujs.js';

export { MAX_KERNEL_ELEMENTS, LOOP_BUDGET, setKernelProfiling, kernelProfile } from '../../kernels/gpujs.js';
export type { KernelName } from '../../kernels/registry.js';

// gpu.js is CommonJS: take what we need from its default export.
const { GPU, CPUKernel, WebAssemblyKernel, HeadlessGLKernel, WebGL2Kernel, WebGPUKernel } =
  gpujs as unknown as Record<string, any>;

/**
 * The modes: gpu.js's cpu, webasm, headlessgl, webgl2 and webgpu, and 'wasm', the CPU fast
 * path (Node and browsers): hand-written WebAssembly SIMD kernels on worker threads (kernels/wasm/) for
 * every kernel: the convolutions, fully connected layers, ReLU, max-pool, dropout, LRN,
 * softmax, cross-entropy, the element-wise ops and the SGD update.
 */
export type Mode = 'cpu' | 'webasm' | 'wasm' | 'headlessgl' | 'webgl2' | 'webgpu';
/** What setBackend() takes: a mode, or 'auto' (the fastest mode here: measured in a browser, by rule in Node; see openAuto). */
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
  /**
   * What 'auto' measured in a browser: milliseconds of its probe (a small convolution, forward
   * and both backwards, warm, the best of up to 5 runs) on each mode that opened; measured once per page, then reused.
   * Absent in Node and for an explicit mode.
   */
  measured?: Partial<Record<Mode, number>>;
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
    try {
      const fast = await import('../../kernels/wasm/fastpath.js');
      (await import('../../kernels/wasm/register.js')).registerWasmKernels();
      const info = await fast.initFastPath();
      reason += ` (${info.simd} SIMD, ${info.threads} thread${info.threads === 1 ? '' : 's'}${info.threadsNote ? `: ${info.threadsNote}` : ''})`;
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

/** The probe of 'auto' in a browser: a 3×3 convolution, 8 → 8 channels, on 4 images of 16×16. */
const PROBE_DIMS: Conv2dDims = { N: 4, Cin: 8, Cout: 8, H: 16, W: 16, K: 3 };
/** the probe's timed runs on each mode: at most this many ... */
const PROBE_RUNS = 5;
/** ... and no more once they have taken this long (a GPU mode on SwiftShader: 1 or 2 runs) */
const PROBE_BUDGET_MS = 150;
/**
 * the modes 'auto' measures in a browser; a tie goes to the first. Not cpu: gpu.js's JavaScript
 * is ~9× slower than webasm on the probe (69 against 7.5 ms here) and its probe costs 0.3 s;
 * it runs only where none of these opens.
 */
const BROWSER_PROBE_MODES: readonly Mode[] = ['wasm', 'webgpu', 'webgl2', 'webasm'];

/** What the browser's probe found: its milliseconds per mode that opened, and why the others did not. */
interface ProbeFigures {
  ms: Partial<Record<Mode, number>>;
  failed: string[];
  /** what opening every mode and probing it took */
  seconds: number;
}

/** The probe's figures, measured once per page (the module's life) and reused by every later 'auto'. */
let browserProbe: ProbeFigures | null = null;

/**
 * Milliseconds of the probe on `state` (its GPU handed to the gpu.js launcher by the caller):
 * the forward pass and both gradients of PROBE_DIMS, the best of up to PROBE_RUNS runs (until
 * PROBE_BUDGET_MS is spent) after one that compiles the kernels (shaders, gpu.js's
 * JavaScript). One run is not enough: on a busy machine a single wasm run once took 10.9 ms
 * against its usual 0.4–0.8, and auto picked webasm (9.5 ms), which trains 25× slower.
 * Measured in headless Chromium on SwiftShader, opening and probing webgpu and webgl2 take
 * ~1 s each, wasm and webasm ~0.2 s.
 */
async function timeProbe(state: BackendState): Promise<number> {
  const d = PROBE_DIMS;
  const filled = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 17) / 17 - 0.5);
  const x = filled(d.N * d.Cin * d.H * d.W), w = filled(d.Cout * d.Cin * d.K * d.K), b = filled(d.Cout), dy = filled(d.N * d.Cout * d.H * d.W);
  const kernel = <K extends KernelName>(name: K) => state.impls.get(name) as KernelSet[K];
  const run = async () => {
    const t0 = performance.now();
    await kernel('conv2dForward')(x, w, b, d);
    await kernel('conv2dBackwardInput')(dy, w, d);
    await kernel('conv2dBackwardWeight')(dy, x, d);
    return performance.now() - t0;
  };
  await run();
  let best = Infinity;
  for (let i = 0, spent = 0; i < PROBE_RUNS && spent < PROBE_BUDGET_MS; i++) {
    const ms = await run();
    best = Math.min(best, ms);
    spent += ms;
  }
  return best;
}

/** "wasm 0.52 ms, webgl2 31.0 ms, ..." */
const formatProbe = (ms: Partial<Record<Mode, number>>) =>
  Object.entries(ms).map(([mode, t]) => `${mode} ${t! < 10 ? t!.toFixed(2) : t!.toFixed(1)} ms`).join(', ');

/** The fastest mode of the figures (the first of BROWSER_PROBE_MODES on a tie), or null if none ran. */
function fastestOf(ms: Partial<Record<Mode, number>>): Mode | null {
  let best: Mode | null = null;
  for (const mode of BROWSER_PROBE_MODES) if (ms[mode] !== undefined && (best === null || ms[mode]! < ms[best]!)) best = mode;
  return best;
}

/**
 * The browser's 'auto': opens every mode of BROWSER_PROBE_MODES, times the probe on each,
 * keeps the fastest open and frees the others. The figures are kept for the page's life: a
 * later 'auto' opens the mode they name at once, and its reason says so.
 */
async function openAutoByMeasurement(tried: string[]): Promise<BackendState | null> {
  const probe = `a 3×3 convolution ${PROBE_DIMS.Cin}→${PROBE_DIMS.Cout} on ${PROBE_DIMS.N} images of ${PROBE_DIMS.H}×${PROBE_DIMS.W}, forward and both backwards`;
  if (browserProbe) {
    const mode = fastestOf(browserProbe.ms);
    if (!mode) return null;
    const failed = browserProbe.failed.length ? `; ${browserProbe.failed.join('; ')}` : '';
    const s = await openBackend(mode, 'auto', `auto: ${mode} was the fastest of ${probe} (${formatProbe(browserProbe.ms)}${failed}), measured once for this page (cached)`)
      .catch((e: Error) => (tried.push(`${mode}: ${e.message}`), null));
    if (s) s.info.measured = { ...browserProbe.ms };
    return s;
  }
  const started = performance.now();
  const opened = new Map<Mode, BackendState>();
  const figures: ProbeFigures = { ms: {}, failed: [], seconds: 0 };
  for (const mode of BROWSER_PROBE_MODES) {
    let s: BackendState;
    try {
      s = await openBackend(mode, 'auto', '');
    } catch (e) {
      figures.failed.push(`${mode}: ${(e as Error).message}`);
      continue;
    }
    opened.set(mode, s);
    try {
      useGpu(gpuHandle(s));
      figures.ms[mode] = await timeProbe(s);
    } catch (e) {
      figures.failed.push(`${mode}: the probe failed: ${(e as Error).message}`);
    }
  }
  // the launcher goes back to the backend that ran before the probe; setBackend switches it after
  useGpu(current && gpuHandle(current));
  figures.seconds = (performance.now() - started) / 1000;
  browserProbe = figures;
  const best = fastestOf(figures.ms);
  for (const [mode, s] of opened) if (mode !== best) s.gpu.destroy?.();
  tried.push(...figures.failed);
  if (!best) return null;
  const winner = opened.get(best)!;
  const failed = figures.failed.length ? `; ${figures.failed.join('; ')}` : '';
  winner.info.reason = `auto: ${best} was the fastest of ${probe}, measured on each mode in ${figures.seconds.toFixed(1)} s ` +
    `(${formatProbe(figures.ms)}${failed})` + winner.info.reason;
  winner.info.measured = { ...figures.ms };
  return winner;
}

/**
 * `auto`. In a browser, by measurement (openAutoByMeasurement): every mode that opens (wasm,
 * webgpu, webgl2, webasm; cpu only where none does) runs a small convolution forward and
 * backward, and the fastest wins; the figures are measured once per page (~3 s in headless
 * Chromium on SwiftShader on this busy 2-core machine, mostly compiling the GPU modes' shaders) and reused.
 * A browser's GPU may be real or software (SwiftShader here, where wasm wins by ~50×), which
 * no rule can tell. In Node, by rule: headlessgl when a GPU device backs it, else the
 * WebAssembly fast path ('wasm'), else webasm. Node's modes need no measuring: a GPU device
 * node is the one case where GL can win, and software GL (Mesa llvmpipe) is no faster than
 * webasm, so auto does not pick it; ask for 'headlessgl' explicitly to use it.
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
    const s = (await openAutoByMeasurement(tried)) ?? (await attempt('cpu', `auto: picked cpu, as no other mode ran (${tried.join('; ')})`));
    if (s) return s;
    throw new BackendError(`setBackend('auto'): no mode could run here: ${tried.join('; ')}`);
  }
  const gl = await headlessGL();
  if (gl.context && gl.gpuDevice) {
    const s = await attempt('headlessgl', `auto: headless-gl has a GL context and a GPU device (${gl.gpuDevice})`);
    if (s) return s;
  } else {
    tried.push(gl.context ? 'headlessgl: GL runs in software here (no GPU device node), no faster than webasm' : 'headlessgl: no GL context (gl not built, or no display)');
  }
  const wasm = await attempt('wasm', `auto: picked the WebAssembly fast path (${tried.join('; ') || 'no GPU mode'})`);
  if (wasm) return wasm;
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
  useGpu(gpuHandle(state));
}

/** what the gpu.js launcher needs of a backend */
const gpuHandle = (state: BackendState) => ({ gpu: state.gpu, mode: GPUJS_MODE[state.info.mode], asyncMode: ASYNC_MODES.has(state.info.mode) });

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

