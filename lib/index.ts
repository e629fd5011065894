/**
 * verydeep: very deep convolutional networks (Simonyan & Zisserman 2014) from scratch.
 *
 *   import { Tensor, zeros, randn, setBackend, getBackend, noGrad, tidy, memory, ops } from 'verydeep';
 *
 * The Node entry: everything in exports.ts, plus the namespaces that read and write files
 * (data's named datasets, train's checkpoints, io), the float64 references and viz.
 */
export * from './exports.js';
export * as data from './data/index.js';
export * as train from './train/index.js';
export * as io from './io/index.js';
export * as reference from './core/reference.js';
export * as viz from './viz/index.js';
