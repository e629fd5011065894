export { Module } from './module.js';
export type { PredictInput } from './module.js';
export { Conv2d, MaxPool2d, ReLU, LocalResponseNorm, Linear, Dropout, Flatten, Softmax, Sequential, crossEntropy } from './layers.js';
export { initWeight, initBias, PAPER_INIT_STD } from './init.js';
export type { InitOptions, InitScheme } from './init.js';
