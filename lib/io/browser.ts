/**
 * The io namespace of the browser bundle (lib/browser.ts): what works on a file's bytes, with
 * no Node module. A page fetches a `model.safetensors` (or takes it from a file picker) and
 * builds the VGG it holds:
 *
 *   const bytes = new Uint8Array(await (await fetch('model.safetensors')).arrayBuffer());
 *   const { model, preprocessing, classes } = io.loadWeightsFromBytes(bytes, { name: 'model.safetensors' });
 *
 * Node's io (lib/io/index.ts) has these too, and the functions that read and write files.
 */
export { parseSafetensors, parseSafetensorsHeader, encodeSafetensors, MAX_HEADER_BYTES } from './safetensors-bytes.js';
export type { NamedArray, SafetensorsFile, SafetensorsHeader } from './safetensors-bytes.js';
export { loadWeightsFromBytes, vggFromTorchvisionShapes, PREPROCESSING_PRESETS } from './weights-bytes.js';
export type { WeightsOptions, BytesWeightsOptions, LoadedWeights } from './weights-bytes.js';
export { encodeWeights, preprocessingOf, classesOf } from './model-parse.js';
export type { Naming, SaveOptions, LoadResult } from './model-parse.js';
