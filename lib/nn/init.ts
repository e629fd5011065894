/**
 * Parameter initialisation: the one place that decides it (§3.1 of the paper).
 *
 * 'paper'  weights ~ N(0, std²) with std = 0.01, biases 0. The paper writes "zero mean
 *          and 10⁻² variance", which read literally is std 0.1; torchvision's VGG and the
 *          authors' Caffe models use std 0.01, and so do we. `std` is an option.
 * 'glorot' weights ~ U(−a, a), a = √(6 / (fanIn + fanOut)) (Glorot & Bengio 2010, the
 *          paper's §3.1 footnote), biases 0. fanIn = Cin·k·k, fanOut = Cout·k·k for a
 *          convolution; in and out for a fully connected layer.
 * Bare layers default to 'glorot'. Every draw comes from a seeded generator.
 */
import { Tensor, shapeSize, type Shape } from '../tensor.js';
import { Rng, normalRandom } from '../random.js';

export type InitScheme = 'paper' | 'glorot';

export interface InitOptions {
  init?: InitScheme;
  /** standard deviation of the 'paper' init (0.01) */
  std?: number;
  /** seed of this layer's draws; by default, the next seed of a process-wide sequence */
  seed?: number;
}

export const PAPER_INIT_STD = 0.01;

let nextDefaultSeed = 1;

export function initWeight(shape: Shape, fanIn: number, fanOut: number, options: InitOptions = {}): Tensor {
  const { init = 'glorot', std = PAPER_INIT_STD } = options;
  const seed = options.seed ?? nextDefaultSeed++;
  const n = shapeSize(shape);
  let values: Float32Array;
  if (init === 'paper') {
    if (!(std > 0)) throw new Error(`init 'paper': expected std > 0, got ${std}`);
    values = normalRandom(n, seed, 0, std);
  } else if (init === 'glorot') {
    const a = Math.sqrt(6 / (fanIn + fanOut));
    const rng = new Rng(seed);
    values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = (2 * rng.uniform() - 1) * a;
  } else {
    throw new Error(`init: expected 'paper' or 'glorot', got '${String(init)}'`);
  }
  return new Tensor(shape, Promise.resolve(values), true);
}

export function initBias(n: number): Tensor {
  return Tensor.from(new Float32Array(n), [n], { requiresGrad: true });
}
