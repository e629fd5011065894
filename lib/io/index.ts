export { writeSafetensors, readSafetensors, parseSafetensors, MAX_HEADER_BYTES } from './safetensors.js';
export type { NamedArray, SafetensorsFile } from './safetensors.js';
export type { WriteOptions } from './atomic.js';
export { writeFileAtomic, cleanStaleTemps } from './atomic.js';
export { saveSafetensors, loadSafetensors, preprocessingOf } from './model.js';
export type { Naming, SaveOptions, LoadOptions, LoadResult } from './model.js';
export { loadWeights, vggFromTorchvisionShapes, PREPROCESSING_PRESETS } from './weights.js';
export type { WeightsOptions } from './weights.js';
