/**
 * The gpujs backend's kernels: the gpu.js launchers of every family, registered under the
 * registry's names. They run on whichever gpu.js mode the backend handed kernels/gpujs.ts
 * (cpu, webasm, headlessgl, webgl2, webgpu; and cpu for what the wasm backend lacks).
 */
import { registerKernel, registeredKernels } from './registry.js';
import * as conv from './conv2d.js';
import * as pool from './maxpool2d.js';
import * as act from './relu.js';
import * as norm from './lrn.js';
import * as fc from './linear.js';
import * as sm from './softmax.js';
import * as drop from './dropout.js';
import * as ew from './elementwise.js';

/** Registers the gpu.js kernels (once: a second call does nothing). */
export function registerGpujsKernels(): void {
  if (registeredKernels('gpujs').length) return;
  registerKernel('gpujs', 'conv2dForward', conv.conv2dForward);
  registerKernel('gpujs', 'conv2dBackwardInput', conv.conv2dBackwardInput);
  registerKernel('gpujs', 'conv2dBackwardWeight', conv.conv2dBackwardWeight);
  registerKernel('gpujs', 'conv2dBackwardBias', conv.conv2dBackwardBias);
  registerKernel('gpujs', 'maxPool2dForward', pool.maxPool2dForward);
  registerKernel('gpujs', 'maxPool2dBackward', pool.maxPool2dBackward);
  registerKernel('gpujs', 'reluForward', act.reluForward);
  registerKernel('gpujs', 'reluBackward', act.reluBackward);
  registerKernel('gpujs', 'lrnForward', norm.lrnForward);
  registerKernel('gpujs', 'lrnBackward', norm.lrnBackward);
  registerKernel('gpujs', 'linearForward', fc.linearForward);
  registerKernel('gpujs', 'linearBackwardInput', fc.linearBackwardInput);
  registerKernel('gpujs', 'linearBackwardWeight', fc.linearBackwardWeight);
  registerKernel('gpujs', 'linearBackwardBias', fc.linearBackwardBias);
  registerKernel('gpujs', 'softmaxForward', sm.softmaxForward);
  registerKernel('gpujs', 'softmaxBackward', sm.softmaxBackward);
  registerKernel('gpujs', 'crossEntropyRows', sm.crossEntropyRows);
  registerKernel('gpujs', 'crossEntropyBackward', sm.crossEntropyBackward);
  registerKernel('gpujs', 'dropoutForward', drop.dropoutForward);
  registerKernel('gpujs', 'dropoutBackward', drop.dropoutBackward);
  registerKernel('gpujs', 'add', ew.add);
  registerKernel('gpujs', 'mul', ew.mul);
  registerKernel('gpujs', 'scale', ew.scale);
  registerKernel('gpujs', 'sum', ew.sum);
  registerKernel('gpujs', 'sgdUpdate', ew.sgdUpdate);
}
