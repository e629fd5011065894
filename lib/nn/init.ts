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
import { Tensor, shapeSize, type Shape } from '../core/tensor.js';
import { Rng, normalRandom } from '../core/random.js';
import { ValueError, describeValue } from '../core/errors.js';

/**
 * 'paper': weights ~ N(0, std²), std 0.01 (§3.1); 'glorot': U(−a, a), a = √(6 / (fanIn + fanOut)). Biases are 0 in both.
 */
export type InitScheme = 'paper' | 'glorot';

/** How a layer draws its weights (see InitScheme); checked where the layer is made. */
export interface InitOptions {
  /** the scheme ('glorot' for a bare layer; Vgg chooses per its `init` option) */
  init?: InitScheme;
  /** standard deviation of the 'paper' init (0.01) */
  std?: number;
  /** seed of this layer's draws; by default, the next seed of a process-wide sequence */
  seed?: number;
}

/**
 * The standard deviation of the paper's N(0, std²) init: 0.01, as torchvision and the authors' Caffe models (§3.1).
 */
export const PAPER_INIT_STD = 0.01;

let nextDefaultSeed = 1;

const INIT_KEYS = ['init', 'std', 'seed'];

/**
 * Checks a layer's init options where the layer is made (`where` names it), so that
 * `new Conv2d(3, 8, 3, 'paper')` or a misspelt key fails there instead of silently
 * drawing Glorot weights.
 */
export function checkInitOptions(where: string, options: InitOptions): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValueError(`${where}: expected init options { init, std, seed }, got ${describeValue(options)}`);
  }
  const unknown = Object.keys(options).filter((k) => !INIT_KEYS.includes(k));
  if (unknown.length) throw new ValueError(`${where}: unknown init option '${unknown[0]}'; expected ${INIT_KEYS.join(', ')}`);
  const { init = 'glorot', std = PAPER_INIT_STD, seed } = options;
  if (init !== 'paper' && init !== 'glorot') throw new ValueError(`${where}: expected init 'paper' or 'glorot', got ${describeValue(init)}`);
  if (typeof std !== 'number' || !(std > 0) || !Number.isFinite(std)) throw new ValueError(`${where}: expected init std to be a finite number > 0, got ${describeValue(std)}`);
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isFinite(seed))) throw new ValueError(`${where}: expected init seed to be a finite number, got ${describeValue(seed)}`);
}

/**
 * A weight Tensor of `shape` (requiresGrad) drawn by `options`; `fanIn`, `fanOut` set Glorot's bound.
 * A ValueError naming initWeight for bad options.
 */
export function initWeight(shape: Shape, fanIn: number, fanOut: number, options: InitOptions = {}): Tensor {
  checkInitOptions('initWeight', options);
  const { init = 'glorot', std = PAPER_INIT_STD } = options;
  const seed = options.seed ?? nextDefaultSeed++;
  const n = shapeSize(shape);
  let values: Float32Array;
  if (init === 'paper') {
    values = normalRandom(n, seed, 0, std);
  } else {
    const a = Math.sqrt(6 / (fanIn + fanOut));
    const rng = new Rng(seed);
    values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = (2 * rng.uniform() - 1) * a;
  }
  return new Tensor(shape, Promise.resolve(values), true);
}

/** A zero bias of length `n` (requiresGrad), as both schemes use. */
export function initBias(n: number): Tensor {
  return Tensor.from(new Float32Array(n), [n], { requiresGrad: true });
}
