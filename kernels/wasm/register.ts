/**
 * The wasm backend's kernels: the WebAssembly SIMD fast path, registered under the
 * registry's names. It has no softmax, cross-entropy or LRN kernel: for those the backend
 * falls back, explicitly, to the gpujs backend on gpu.js's cpu mode (getBackendInfo().kernels
 * says which runs where).
 */
import { registerKernel, registeredKernels } from '../registry.js';
import { dropoutMask } from '../dropout.js';
import * as fast from './fastpath.js';

/** Registers the fast path's kernels (once: a second call does nothing). */
export function registerWasmKernels(): void {
  if (registeredKernels('wasm').length) return;
  registerKernel('wasm', 'conv2dForward', fast.conv2dForward);
  registerKernel('wasm', 'conv2dBackwardInput', fast.conv2dBackwardInput);
  registerKernel('wasm', 'conv2dBackwardWeight', fast.conv2dBackwardWeight);
  registerKernel('wasm', 'conv2dBackwardBias', fast.conv2dBackwardBias);
  registerKernel('wasm', 'maxPool2dForward', fast.maxPool2dForward);
  registerKernel('wasm', 'maxPool2dBackward', fast.maxPool2dBackward);
  registerKernel('wasm', 'reluForward', fast.reluForward);
  registerKernel('wasm', 'reluBackward', fast.reluBackward);
  registerKernel('wasm', 'linearForward', fast.linearForward);
  registerKernel('wasm', 'linearBackwardInput', fast.linearBackwardInput);
  registerKernel('wasm', 'linearBackwardWeight', fast.linearBackwardWeight);
  registerKernel('wasm', 'linearBackwardBias', fast.linearBackwardBias);
  // the mask is drawn in JS (kernels/dropout.ts), the same bits on every backend
  registerKernel('wasm', 'dropoutForward', (x, p, seed) => fast.dropoutApply(x, dropoutMask(x.length, p, seed), p));
  registerKernel('wasm', 'dropoutBackward', (dy, p, seed) => fast.dropoutApply(dy, dropoutMask(dy.length, p, seed), p));
  registerKernel('wasm', 'add', fast.add);
  registerKernel('wasm', 'mul', fast.mul);
  registerKernel('wasm', 'scale', fast.scale);
  registerKernel('wasm', 'sum', fast.sum);
  registerKernel('wasm', 'sgdUpdate', fast.sgdUpdate);
}
