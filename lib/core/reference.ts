/**
 * The float64 reference of every kernel family: the plain loop nests beside the gpu.js
 * kernels in kernels/*.ts, which read like the math and which the test suite checks every
 * kernel against (and against finite differences). Public so that a kernel of your own can
 * be checked the same way (notebooks/02-writing-a-kernel.ipynb does it for a 3×3 conv).
 */
export { conv2dForwardRef, conv2dBackwardRef } from '../../kernels/conv2d.js';
export type { Conv2dDims, LinearDims, SoftmaxDims, MapDims } from '../../kernels/dims.js';
export { maxPool2dForwardRef, maxPool2dBackwardRef } from '../../kernels/maxpool2d.js';
export { reluForwardRef, reluBackwardRef } from '../../kernels/relu.js';
export { lrnForwardRef, lrnBackwardRef } from '../../kernels/lrn.js';
export type { LrnOptions } from '../../kernels/lrn.js';
export { linearForwardRef, linearBackwardRef } from '../../kernels/linear.js';
export { softmaxForwardRef, softmaxBackwardRef, crossEntropyRef, crossEntropyBackwardRef } from '../../kernels/softmax.js';
export { dropoutRef } from '../../kernels/dropout.js';
export { addRef, mulRef, scaleRef, sumRef, sgdUpdateRef } from '../../kernels/elementwise.js';

import type { MapDims } from '../../kernels/dims.js';
/** max-pooling's sizes: the same as MapDims (kept for code written against earlier versions) */
export type PoolDims = MapDims;
/** LRN's sizes: the same as MapDims (kept for code written against earlier versions) */
export type LrnDims = MapDims;
