/**
 * The one kernel registry, in the manner of tfjs-core's registerKernel / getKernel:
 *
 *  - the dispatch table, keyed by backend and kernel name. Each backend registers its
 *    implementations (kernels/register-gpujs.ts: the gpu.js launchers, which run on every
 *    gpu.js mode; kernels/wasm/register.ts: the WebAssembly fast path); lib/core/backend.ts
 *    maps the running mode to a backend and asks here for each kernel, falling back
 *    explicitly to gpujs for a kernel the backend lacks. Registering a kernel twice throws.
 *  - the catalogue of kernel families: which passes each family has, the entry point that
 *    is dispatched for it, the gpu.js kernels it launches, and how each mode is checked.
 *    The test suite checks every (family, pass) on every mode that runs on the machine,
 *    and the README's coverage table is generated from both parts
 *    (scripts/coverage-table.ts).
 *
 * This file imports nothing above kernels/ (types only, from the kernel files).
 */
import type { Conv2dDims, LinearDims, MapDims, SoftmaxDims } from './dims.js';
import type { LrnOptions } from './lrn.js';

type Values = Float32Array;
type Out = Promise<Float32Array>;

/** Every dispatched kernel and its signature: flat float32 arrays in, a fresh array out (the caller owns it). */
export interface KernelSet {
  conv2dForward(x: Values, w: Values, b: Values, d: Conv2dDims): Out;
  conv2dBackwardInput(dy: Values, w: Values, d: Conv2dDims): Out;
  conv2dBackwardWeight(dy: Values, x: Values, d: Conv2dDims): Out;
  conv2dBackwardBias(dy: Values, d: Conv2dDims): Out;
  maxPool2dForward(x: Values, d: MapDims): Out;
  maxPool2dBackward(dy: Values, x: Values, d: MapDims): Out;
  reluForward(x: Values): Out;
  reluBackward(dy: Values, x: Values): Out;
  lrnForward(x: Values, o: LrnOptions, d: MapDims): Out;
  lrnBackward(dy: Values, x: Values, o: LrnOptions, d: MapDims): Out;
  linearForward(x: Values, w: Values, b: Values, d: LinearDims): Out;
  linearBackwardInput(dy: Values, w: Values, d: LinearDims): Out;
  linearBackwardWeight(dy: Values, x: Values, d: LinearDims): Out;
  linearBackwardBias(dy: Values, d: LinearDims): Out;
  softmaxForward(x: Values, d: SoftmaxDims): Out;
  softmaxBackward(dy: Values, y: Values, d: SoftmaxDims): Out;
  crossEntropyRows(x: Values, labels: Values, d: SoftmaxDims): Out;
  crossEntropyBackward(x: Values, labels: Values, g: Values, d: SoftmaxDims): Out;
  dropoutForward(x: Values, p: number, seed: number): Out;
  dropoutBackward(dy: Values, p: number, seed: number): Out;
  add(a: Values, b: Values): Out;
  mul(a: Values, b: Values): Out;
  scale(a: Values, s: number): Out;
  sum(a: Values): Out;
  sgdUpdate(p: Values, g: Values, v: Values, o: { lr: number; momentum: number; weightDecay: number }): Promise<{ param: Values; velocity: Values }>;
}

export type KernelName = keyof KernelSet;

/** every kernel name, in the order the coverage table and getBackendInfo() list them */
export const KERNEL_NAMES = [
  'conv2dForward', 'conv2dBackwardInput', 'conv2dBackwardWeight', 'conv2dBackwardBias', 'maxPool2dForward', 'maxPool2dBackward',
  'reluForward', 'reluBackward', 'lrnForward', 'lrnBackward', 'linearForward', 'linearBackwardInput', 'linearBackwardWeight',
  'linearBackwardBias', 'softmaxForward', 'softmaxBackward', 'crossEntropyRows', 'crossEntropyBackward', 'dropoutForward',
  'dropoutBackward', 'add', 'mul', 'scale', 'sum', 'sgdUpdate',
] as const satisfies readonly KernelName[];
// every KernelSet member is listed above (a compile error names any that is not)
const listed: Record<Exclude<KernelName, (typeof KERNEL_NAMES)[number]>, never> = {};
void listed;

/** The backends that register kernels: 'gpujs' (every gpu.js mode) and 'wasm' (the fast path). */
export type KernelBackend = 'gpujs' | 'wasm';

const table = new Map<KernelBackend, Map<KernelName, KernelSet[KernelName]>>();

/** Registers `backend`'s implementation of `name`; a second registration of the same pair is a bug and throws. */
export function registerKernel<K extends KernelName>(backend: KernelBackend, name: K, impl: KernelSet[K]): void {
  let kernels = table.get(backend);
  if (!kernels) table.set(backend, (kernels = new Map()));
  if (kernels.has(name)) throw new Error(`registerKernel: '${name}' is already registered for the ${backend} backend`); // a bug, not a wrong use
  kernels.set(name, impl);
}

/**
 * Registers, for `backend`, every kernel that `source` has under its registry name (a
 * module's exports, say; other members are ignored). Once per backend: a second call
 * does nothing, so importing code may call it freely.
 */
export function registerKernels(backend: KernelBackend, source: Partial<KernelSet>): void {
  if (table.has(backend)) return;
  for (const name of KERNEL_NAMES) {
    const impl = source[name];
    if (impl) registerKernel(backend, name, impl as KernelSet[typeof name]);
  }
}

/** `backend`'s implementation of `name`, or undefined where it registered none. */
export function getKernel<K extends KernelName>(backend: KernelBackend, name: K): KernelSet[K] | undefined {
  return table.get(backend)?.get(name) as KernelSet[K] | undefined;
}

/** The kernels `backend` has registered, in registration order. */
export function registeredKernels(backend: KernelBackend): KernelName[] {
  return [...(table.get(backend)?.keys() ?? [])];
}

export interface KernelPass {
  pass: string;
  /** the registry's entry point that ops dispatch for this pass */
  entry: KernelName;
  /** names of the gpu.js kernels that this pass launches (as passed to runKernel) */
  kernels: string[];
}

export interface KernelFamily {
  family: string;
  file: string;
  /** the differentiable op in lib/core/ops.ts that uses it */
  op: string;
  passes: KernelPass[];
}

/** Every kernel family: its file, the op that uses it and its passes (the rows of the README's coverage table). */
export const KERNEL_FAMILIES: readonly KernelFamily[] = [
  {
    family: 'conv2d 3×3 and 1×1', file: 'kernels/conv2d.ts', op: 'ops.conv2d',
    passes: [
      { entry: 'conv2dForward', pass: 'forward', kernels: ['conv2dForward'] },
      { entry: 'conv2dBackwardInput', pass: 'backward input', kernels: ['conv2dBackwardInput'] },
      { entry: 'conv2dBackwardWeight', pass: 'backward weight', kernels: ['conv2dBackwardWeight'] },
      { entry: 'conv2dBackwardBias', pass: 'backward bias', kernels: ['conv2dBackwardBias'] },
    ],
  },
  {
    family: 'max-pool 2×2', file: 'kernels/maxpool2d.ts', op: 'ops.maxPool2d',
    passes: [
      { entry: 'maxPool2dForward', pass: 'forward', kernels: ['maxPool2dForward'] },
      { entry: 'maxPool2dBackward', pass: 'backward input', kernels: ['maxPool2dBackward'] },
    ],
  },
  {
    family: 'ReLU', file: 'kernels/relu.ts', op: 'ops.relu',
    passes: [
      { entry: 'reluForward', pass: 'forward', kernels: ['reluForward'] },
      { entry: 'reluBackward', pass: 'backward input', kernels: ['reluBackward'] },
    ],
  },
  {
    family: 'LRN (sum and mean α)', file: 'kernels/lrn.ts', op: 'ops.lrn',
    passes: [
      { entry: 'lrnForward', pass: 'forward', kernels: ['lrnForward'] },
      { entry: 'lrnBackward', pass: 'backward input', kernels: ['lrnBackward'] },
    ],
  },
  {
    family: 'fully connected', file: 'kernels/linear.ts', op: 'ops.linear',
    passes: [
      { entry: 'linearForward', pass: 'forward', kernels: ['linearForward'] },
      { entry: 'linearBackwardInput', pass: 'backward input', kernels: ['linearBackwardInput'] },
      { entry: 'linearBackwardWeight', pass: 'backward weight', kernels: ['linearBackwardWeight'] },
      { entry: 'linearBackwardBias', pass: 'backward bias', kernels: ['linearBackwardBias'] },
    ],
  },
  {
    family: 'softmax', file: 'kernels/softmax.ts', op: 'ops.softmax',
    passes: [
      { entry: 'softmaxForward', pass: 'forward', kernels: ['rowLogSumExp', 'softmaxFromLse'] },
      { entry: 'softmaxBackward', pass: 'backward input', kernels: ['rowDot', 'softmaxBackward'] },
    ],
  },
  {
    family: 'softmax cross-entropy', file: 'kernels/softmax.ts', op: 'ops.softmaxCrossEntropy',
    passes: [
      { entry: 'crossEntropyRows', pass: 'forward', kernels: ['rowLogSumExp', 'crossEntropyRow', 'sum', 'scale'] },
      { entry: 'crossEntropyBackward', pass: 'backward input', kernels: ['rowLogSumExp', 'crossEntropyBackward'] },
    ],
  },
  {
    family: 'dropout', file: 'kernels/dropout.ts', op: 'ops.dropout',
    passes: [
      { entry: 'dropoutForward', pass: 'forward', kernels: ['dropoutApply'] },
      { entry: 'dropoutBackward', pass: 'backward input', kernels: ['dropoutApply'] },
    ],
  },
  {
    family: 'add, mul, scale, sum', file: 'kernels/elementwise.ts', op: 'ops.add, ops.mul, ops.sum',
    passes: [
      { entry: 'add', pass: 'forward', kernels: ['add', 'mul', 'scale', 'sum'] },
      { entry: 'mul', pass: 'backward input', kernels: ['mul', 'scale'] },
    ],
  },
  {
    family: 'SGD momentum + weight decay', file: 'kernels/elementwise.ts', op: 'optimiser step',
    passes: [{ entry: 'sgdUpdate', pass: 'update', kernels: ['sgdVelocity', 'sgdParam'] }],
  },
];

/** How each mode is checked (by the mode names of lib/core/backend.ts); CI_MODES lists the ones that CI checks. */
export const MODE_CHECKS: Record<string, string> = {
  cpu: 'npm test (CI)',
  webasm: 'npm test (CI)',
  wasm: 'npm test (CI); conv, FC, ReLU, max-pool, add/mul/scale/sum, SGD, dropout, softmax, cross-entropy and LRN: every kernel on the hand-written WebAssembly SIMD kernels',
  headlessgl: 'npm test under xvfb-run, Mesa llvmpipe (CI)',
  webgl2: 'npm test, the browser suite: the same checks inside headless Chromium, SwiftShader standing in for a GPU (CI)',
  webgpu: 'npm test, the browser suite: the same checks inside headless Chromium, WebGPU on SwiftShader (CI)',
};

export const CI_MODES: readonly string[] = ['cpu', 'webasm', 'wasm', 'headlessgl', 'webgl2', 'webgpu'];
