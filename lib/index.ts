/**
 * verydeep: very deep convolutional networks (Simonyan & Zisserman 2014) from scratch.
 *
 *   import { Tensor, zeros, randn, setBackend, getBackend, noGrad, tidy, memory, ops } from 'verydeep';
 */
export { Tensor, zeros, ones, randn, noGrad, isGradEnabled, tidy, keep, memory, formatShape, shapeSize } from './tensor.js';
export type { Shape, GradNode } from './tensor.js';
export { setBackend, getBackend, getBackendInfo, MODES, MAX_KERNEL_ELEMENTS } from './backend.js';
export type { Mode, BackendRequest, BackendInfo } from './backend.js';
export { Rng } from './random.js';
export * as ops from './ops.js';
export { KERNEL_FAMILIES, MODE_CHECKS } from '../kernels/registry.js';
