/**
 * What the Node entry (index.ts) and the browser entry (browser.ts) both export: the
 * tensor core, the backends, ops, layers, optimisers, the VGG models, the paper's test
 * protocol and the kernel registry. None of it imports a Node module.
 */
export { VerydeepError, ShapeError, ValueError, NumericsError, DisposedError, BackendError, WeightsError, CheckpointError, DataError, LockError, UsageError } from './core/errors.js';
export { Tensor, zeros, ones, randn, noGrad, isGradEnabled, tidy, keep, memory, formatShape, shapeSize, checkNumerics } from './core/tensor.js';
export type { Shape, GradNode } from './core/tensor.js';
export { setBackend, getBackend, getBackendInfo, disposeBackend, setKernelProfiling, kernelProfile, MODES, MAX_KERNEL_ELEMENTS, LOOP_BUDGET } from './core/backend.js';
export type { Mode, BackendRequest, BackendInfo } from './core/backend.js';
export { Rng } from './core/random.js';
export { poolStats, setPoolLimit, clearPool, POOL_MIN_FLOATS } from '../kernels/pool.js';
export * as ops from './core/ops.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export { Vgg, VGG_CONFIGS } from './models/vgg.js';
export type { VggOptions, ConfigName, LayerSpec } from './models/vgg.js';
export * as evaluate from './eval/index.js';
export { KERNEL_FAMILIES, MODE_CHECKS } from '../kernels/registry.js';
