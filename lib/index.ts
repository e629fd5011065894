/**
 * verydeep: very deep convolutional networks (Simonyan & Zisserman 2014) from scratch.
 *
 *   import { Tensor, zeros, randn, setBackend, getBackend, noGrad, tidy, memory, ops } from 'verydeep';
 */
export { Tensor, zeros, ones, randn, noGrad, isGradEnabled, tidy, keep, memory, formatShape, shapeSize } from './tensor.js';
export type { Shape, GradNode } from './tensor.js';
export { setBackend, getBackend, getBackendInfo, setKernelProfiling, kernelProfile, MODES, MAX_KERNEL_ELEMENTS, LOOP_BUDGET } from './backend.js';
export type { Mode, BackendRequest, BackendInfo } from './backend.js';
export { Rng } from './random.js';
export * as ops from './ops.js';
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as data from "./data/index.js";
export { Vgg, VGG_CONFIGS } from "./models/vgg.js";
export type { VggOptions, ConfigName, LayerSpec } from "./models/vgg.js";
export * as train from "./train/index.js";
export * as evaluate from "./eval/index.js";
export * as io from "./io/index.js";
export { KERNEL_FAMILIES, MODE_CHECKS } from '../kernels/registry.js';
export * as reference from './reference.js';
export * as viz from './viz.js';
