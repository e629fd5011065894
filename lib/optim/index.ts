export { SGD } from './sgd.js';
export type { SgdOptions, SgdState } from './sgd.js';
export { ReduceLROnPlateau } from './schedule.js';
export type { PlateauOptions, PlateauState } from './schedule.js';
