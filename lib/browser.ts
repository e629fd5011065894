/**
 * verydeep for browsers: everything in the library that needs no Node module, bundled by
 * `npm run build:web` (esbuild, scripts/build-web.mjs) into dist/web/verydeep.browser.js.
 *
 *   import { setBackend, Vgg, ops, optim, train, curvesSvg } from './verydeep.browser.js';
 *   await setBackend('auto');   // the fastest of wasm, webgpu, webgl2, webasm, measured once per page
 *   await train.fit({ model, trainSet, validationSet, epochs, batchSize, onStep, signal });
 *
 * The 'wasm' mode (the WebAssembly SIMD fast path) runs here too: it loads gemm.wasm or
 * gemm-relaxed.wasm and starts wasm-worker.js, both beside this bundle (dist/web/), and
 * runs on every core where the page is cross-origin isolated (COOP/COEP headers), on one
 * thread where it is not (getBackendInfo().reason says which).
 * Left out, because they read or write files: the named datasets (mnist(), fashionMnist(),
 * image folders), reading and writing safetensors files (io here works on their bytes),
 * the trainer's output folder (train.fit's outDir and resume: a ValueError here) and the
 * CLI. The 'headlessgl' mode is Node's; in a browser setBackend says so.
 */
export * from './exports.js';
export * as transforms from './data/transforms.js';
export { ArrayDataset, permutation } from './data/array-dataset.js';
export type { Dataset, Sample } from './data/array-dataset.js';
export { DataLoader } from './data/loader.js';
export type { LoaderOptions, Batch } from './data/loader.js';
export { applyPreprocessing, checkPreprocessing, TORCHVISION_PREPROCESSING, CAFFE_VGG_PREPROCESSING } from './data/preprocess.js';
export type { Preprocessing } from './data/preprocess.js';
export { curvesSvg } from './train/curves.js';
export type { EpochRecord, StepRecord } from './train/curves.js';
export * as train from './train/browser.js';
// issue #17: weights in the page. io: safetensors bytes parsed and encoded, and a VGG built
// from a CLI-trained model.safetensors (io.loadWeightsFromBytes), with no Node module.
export * as io from './io/browser.js';
