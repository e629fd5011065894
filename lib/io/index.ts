export { writeSafetensors, readSafetensors, parseSafetensors } from './safetensors.js';
export type { NamedArray, SafetensorsFile } from './safetensors.js';
export { writeFileAtomic } from './atomic.js';
export { saveSafetensors, loadSafetensors, preprocessingOf } from './model.js';
export type { Naming, SaveOptions, LoadResult } from './model.js';
