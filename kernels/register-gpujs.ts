/**
 * The gpujs backend's kernels: the gpu.js launchers of every family, registered under the
 * registry's names (each family file exports its launchers under those names). They run
 * on whichever gpu.js mode the backend handed kernels/gpujs.ts (cpu, webasm, headlessgl,
 * webgl2, webgpu; and cpu for what the wasm backend lacks).
 */
import { registerKernels } from './registry.js';
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
  registerKernels('gpujs', { ...conv, ...pool, ...act, ...norm, ...fc, ...sm, ...drop, ...ew });
}
