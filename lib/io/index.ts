export { writeSafetensors, readSafetensors, parseSafetensors } from './safetensors.js';
export type { NamedArray, SafetensorsFile } from './safetensors.js';
export { writeFileAtomic } from './atomic.js';
export { saveSafetensors, loadSafetensors, preprocessingOf } from './model.js';
export type { Naming, SaveOptions, LoadResult } from './model.js';
export { loadWeights, describeWeights, vggFromTorchvisionShapes, PREPROCESSING_PRESETS } from './weights.js';
export type { WeightsOptions } from './weights.js';
