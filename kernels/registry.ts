/**
 * The registry of kernel families: which passes each family has, the gpu.js kernels that
 * implement them, and on which modes they are checked. The test suite checks every
 * (family, pass) on every mode that runs on the machine and fails if one is missing; the
 * README's coverage table is generated from this list (scripts/coverage-table.ts).
 */
import type { Mode } from '../lib/backend.js';

export interface KernelPass {
  pass: string;
  /** names of the gpu.js kernels that this pass launches (as passed to runKernel) */
  kernels: string[];
}

export interface KernelFamily {
  family: string;
  file: string;
  /** the differentiable op in lib/ops.ts that uses it */
  op: string;
  passes: KernelPass[];
}

export const KERNEL_FAMILIES: readonly KernelFamily[] = [
  {
    family: 'conv2d 3×3 and 1×1', file: 'kernels/conv2d.ts', op: 'ops.conv2d',
    passes: [
      { pass: 'forward', kernels: ['conv2dForward'] },
      { pass: 'backward input', kernels: ['conv2dBackwardInput'] },
      { pass: 'backward weight', kernels: ['conv2dBackwardWeight'] },
      { pass: 'backward bias', kernels: ['conv2dBackwardBias'] },
    ],
  },
  {
    family: 'max-pool 2×2', file: 'kernels/maxpool2d.ts', op: 'ops.maxPool2d',
    passes: [
      { pass: 'forward', kernels: ['maxPool2dForward'] },
      { pass: 'backward input', kernels: ['maxPool2dBackward'] },
    ],
  },
  {
    family: 'ReLU', file: 'kernels/relu.ts', op: 'ops.relu',
    passes: [
      { pass: 'forward', kernels: ['reluForward'] },
      { pass: 'backward input', kernels: ['reluBackward'] },
    ],
  },
  {
    family: 'LRN (sum and mean α)', file: 'kernels/lrn.ts', op: 'ops.lrn',
    passes: [
      { pass: 'forward', kernels: ['lrnForward'] },
      { pass: 'backward input', kernels: ['lrnBackward'] },
    ],
  },
  {
    family: 'fully connected', file: 'kernels/linear.ts', op: 'ops.linear',
    passes: [
      { pass: 'forward', kernels: ['linearForward'] },
      { pass: 'backward input', kernels: ['linearBackwardInput'] },
      { pass: 'backward weight', kernels: ['linearBackwardWeight'] },
      { pass: 'backward bias', kernels: ['linearBackwardBias'] },
    ],
  },
  {
    family: 'softmax', file: 'kernels/softmax.ts', op: 'ops.softmax',
    passes: [
      { pass: 'forward', kernels: ['rowLogSumExp', 'softmaxFromLse'] },
      { pass: 'backward input', kernels: ['rowDot', 'softmaxBackward'] },
    ],
  },
  {
    family: 'softmax cross-entropy', file: 'kernels/softmax.ts', op: 'ops.softmaxCrossEntropy',
    passes: [
      { pass: 'forward', kernels: ['rowLogSumExp', 'crossEntropyRow', 'sum', 'scale'] },
      { pass: 'backward input', kernels: ['rowLogSumExp', 'crossEntropyBackward'] },
    ],
  },
  {
    family: 'dropout', file: 'kernels/dropout.ts', op: 'ops.dropout',
    passes: [
      { pass: 'forward', kernels: ['dropoutApply'] },
      { pass: 'backward input', kernels: ['dropoutApply'] },
    ],
  },
  {
    family: 'add, mul, scale, sum', file: 'kernels/elementwise.ts', op: 'ops.add, ops.mul, ops.sum',
    passes: [
      { pass: 'forward', kernels: ['add', 'mul', 'scale', 'sum'] },
      { pass: 'backward input', kernels: ['mul', 'scale'] },
    ],
  },
  {
    family: 'SGD momentum + weight decay', file: 'kernels/elementwise.ts', op: 'optimiser step',
    passes: [{ pass: 'update', kernels: ['sgdVelocity', 'sgdParam'] }],
  },
];

/** How each mode is checked; CI_MODES lists the ones that CI checks. */
export const MODE_CHECKS: Record<Mode, string> = {
  cpu: 'npm test (CI)',
  webasm: 'npm test (CI)',
  wasm: 'npm test (CI); conv, FC, ReLU, max-pool, add/mul/scale/sum, SGD and dropout on the hand-written WebAssembly SIMD kernels, softmax and LRN on gpu.js cpu',
  headlessgl: 'npm test under xvfb-run, Mesa llvmpipe (CI)',
  webgl2: 'npm test, the browser suite: the same checks inside headless Chromium, SwiftShader standing in for a GPU (CI)',
  webgpu: 'npm test, the browser suite: the same checks inside headless Chromium, WebGPU on SwiftShader (CI)',
};

export const CI_MODES: readonly Mode[] = ['cpu', 'webasm', 'wasm', 'headlessgl', 'webgl2', 'webgpu'];
