/**
 * verydeep for browsers: everything in the library that needs no Node module, bundled by
 * `npm run build:web` (esbuild, scripts/build-web.mjs) into dist/web/verydeep.browser.js.
 *
 *   import { setBackend, Vgg, ops, optim, data, evaluate, curvesSvg } from './verydeep.browser.js';
 *   await setBackend('auto');   // webgpu, then webgl2, then webasm, then cpu
 *
 * Left out, because they read or write files: the named datasets (mnist(), fashionMnist(),
 * image folders), safetensors I/O, the trainer's checkpoints and the CLI. The 'wasm' and
 * 'headlessgl' modes are Node's; in a browser setBackend says so.
 */
export { Tensor, zeros, ones, randn, noGrad, isGradEnabled, tidy, keep, memory, formatShape, shapeSize } from './tensor.js';
export type { Shape, GradNode } from './tensor.js';
export { setBackend, getBackend, getBackendInfo, disposeBackend, setKernelProfiling, kernelProfile, MODES, MAX_KERNEL_ELEMENTS, LOOP_BUDGET } from './backend.js';
export type { Mode, BackendRequest, BackendInfo } from './backend.js';
export { Rng } from './random.js';
export * as ops from './ops.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as transforms from './data/transforms.js';
export { ArrayDataset, permutation } from './data/array-dataset.js';
export type { Dataset, Sample } from './data/array-dataset.js';
export { DataLoader } from './data/loader.js';
export type { LoaderOptions, Batch } from './data/loader.js';
export { applyPreprocessing, checkPreprocessing, TORCHVISION_PREPROCESSING, CAFFE_VGG_PREPROCESSING } from './data/preprocess.js';
export type { Preprocessing } from './data/preprocess.js';
export { Vgg, VGG_CONFIGS } from './models/vgg.js';
export type { VggOptions, ConfigName, LayerSpec } from './models/vgg.js';
export * as evaluate from './eval/index.js';
export { curvesSvg } from './train/curves.js';
export type { EpochRecord, StepRecord } from './train/curves.js';
export { KERNEL_FAMILIES, MODE_CHECKS } from '../kernels/registry.js';
