export { writeSafetensors, readSafetensors, parseSafetensors } from './safetensors.js';
export type { NamedArray, SafetensorsFile } from './safetensors.js';
export { writeFileAtomic } from './atomic.js';
export { saveSafetensors, loadSafetensors } from './model.js';
export type { Naming, SaveOptions } from './model.js';
