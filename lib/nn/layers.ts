/**
 * The layers: thin classes over the functional ops in lib/core/ops.ts, with PyTorch's
 * constructor shapes. A layer's parameters are `layer.weight` and `layer.bias`.
 */
import { Tensor, formatShape, type Shape } from '../core/tensor.js';
import * as ops from '../core/ops.js';
import { Rng } from '../core/random.js';
import { Module } from './module.js';
import { initWeight, initBias, checkInitOptions, type InitOptions } from './init.js';
import { ShapeError, ValueError, describeValue } from '../core/errors.js';

function expectInput(layer: string, shape: Shape, rank: number, layout: string): void {
  if (!Array.isArray(shape)) throw new ValueError(`${layer}: expected an input shape ${layout}, got ${describeValue(shape)}`);
  if (shape.length !== rank) throw new ShapeError(`${layer}: expected input of rank ${rank} ${layout}, got shape ${formatShape(shape)}`);
}

function expectPositiveInteger(layer: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValueError(`${layer}: expected ${name} to be a positive integer, got ${describeValue(v)}`);
}

/**
 * 2-D convolution, stride 1, same-size padding (k−1)/2: VGG's 3×3 (pad 1) and 1×1 (pad 0).
 * x [N, inChannels, H, W] → [N, outChannels, H, W]; weight [out, in, k, k], bias [out].
 */
export class Conv2d extends Module {
  /** the weight, [out, in, k, k] (a parameter) */
  weight: Tensor;
  /** the bias, [out] (a parameter) */
  bias: Tensor;

  /**
   * @param inChannels C of the input [N, C, H, W]
   * @param outChannels the number of filters: C of the output
   * @param kernelSize odd: 3 (VGG's 3×3, padding 1) or 1 (configuration C's 1×1); other odd sizes pad (k−1)/2
   * @param init the initialisation (nn.InitOptions; a bare layer defaults to 'glorot'); a ValueError for a bad one
   */
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: 1 | 3 | number = 3, init: InitOptions = {}) {
    super();
    expectPositiveInteger('Conv2d', 'inChannels', inChannels);
    expectPositiveInteger('Conv2d', 'outChannels', outChannels);
    if (typeof kernelSize !== 'number' || !Number.isInteger(kernelSize) || kernelSize % 2 !== 1) {
      throw new ValueError(`Conv2d: expected an odd kernelSize (3 or 1), got ${describeValue(kernelSize)}`);
    }
    checkInitOptions('Conv2d', init);
    const k = kernelSize;
    this.weight = this.registerParameter('weight', initWeight([outChannels, inChannels, k, k], inChannels * k * k, outChannels * k * k, init));
    this.bias = this.registerParameter('bias', initBias(outChannels));
  }

  /** Re-draws the parameters (the model's init policy calls this). */
  resetParameters(init: InitOptions): void {
    const k = this.kernelSize;
    this.replaceParameter('weight', (this.weight = initWeight(this.weight.shape, this.inChannels * k * k, this.outChannels * k * k, init)));
    this.replaceParameter('bias', (this.bias = initBias(this.outChannels)));
  }

  forward(x: Tensor): Tensor {
    this.expectLive('forward');
    return ops.conv2d(x, this.weight, this.bias);
  }

  outputShape(s: Shape): number[] {
    expectInput('Conv2d', s, 4, '[N, C, H, W]');
    if (s[1] !== this.inChannels) throw new ShapeError(`Conv2d: expected ${this.inChannels} input channels, got shape ${formatShape(s)}`);
    return [s[0], this.outChannels, s[2], s[3]];
  }

  override describe(): string {
    return `Conv2d(${this.inChannels}, ${this.outChannels}, ${this.kernelSize}×${this.kernelSize})`;
  }
}

/**
 * 2×2 max-pooling, stride 2 (odd sizes drop the last row/column). The constructor takes
 * PyTorch's arguments, `new MaxPool2d(2)` or `(2, 2)`, and refuses any other window,
 * which would otherwise be pooled 2×2 without a word.
 */
export class MaxPool2d extends Module {
  constructor(kernelSize = 2, stride: number = kernelSize) {
    super();
    if (kernelSize !== 2 || stride !== 2) {
      throw new ValueError(`MaxPool2d: only VGG's 2×2 window with stride 2 is implemented; expected kernelSize 2 and stride 2, got kernelSize ${describeValue(kernelSize)}, stride ${describeValue(stride)}`);
    }
  }

  forward(x: Tensor): Tensor {
    return ops.maxPool2d(x);
  }

  outputShape(s: Shape): number[] {
    expectInput('MaxPool2d', s, 4, '[N, C, H, W]');
    if (s[2] < 2 || s[3] < 2) throw new ShapeError(`MaxPool2d: expected H and W of at least 2, got shape ${formatShape(s)}`);
    return [s[0], s[1], Math.floor(s[2] / 2), Math.floor(s[3] / 2)];
  }

  override describe(): string {
    return 'MaxPool2d(2×2, stride 2)';
  }
}

/** max(0, x), elementwise: the rectification after every conv and hidden fully-connected layer (§2.1). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return ops.relu(x);
  }

  outputShape(s: Shape): number[] {
    return [...s];
  }
}

/** Local response normalisation across channels; see kernels/lrn.ts for the α conventions. */
export class LocalResponseNorm extends Module {
  /** The options in effect: the given ones over the paper's defaults (size 5, α 1e-4, β 0.75, k 2). */
  readonly options: Required<ops.LrnOptions>;

  /** Checked here, where the net is defined, rather than at its first forward pass. */
  constructor(options: ops.LrnOptions = {}) {
    super();
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new ValueError(`LocalResponseNorm: expected options { size, alpha, beta, k, alphaMode }, got ${describeValue(options)}`);
    }
    const unknown = Object.keys(options).filter((key) => !(key in ops.LRN_PAPER_DEFAULTS));
    if (unknown.length) throw new ValueError(`LocalResponseNorm: unknown option '${unknown[0]}'; expected ${Object.keys(ops.LRN_PAPER_DEFAULTS).join(', ')}`);
    const o = (this.options = { ...ops.LRN_PAPER_DEFAULTS, ...options });
    expectPositiveInteger('LocalResponseNorm', 'size', o.size);
    const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
    if (!finite(o.alpha) || o.alpha < 0) throw new ValueError(`LocalResponseNorm: expected alpha to be a finite number >= 0, got ${describeValue(o.alpha)}`);
    if (!finite(o.beta)) throw new ValueError(`LocalResponseNorm: expected beta to be a finite number, got ${describeValue(o.beta)}`);
    if (!finite(o.k) || o.k <= 0) throw new ValueError(`LocalResponseNorm: expected k to be a finite number > 0 (it keeps the denominator positive), got ${describeValue(o.k)}`);
    if (o.alphaMode !== 'sum' && o.alphaMode !== 'mean') throw new ValueError(`LocalResponseNorm: expected alphaMode 'sum' or 'mean', got ${describeValue(o.alphaMode)}`);
  }

  forward(x: Tensor): Tensor {
    return ops.lrn(x, this.options);
  }

  outputShape(s: Shape): number[] {
    expectInput('LocalResponseNorm', s, 4, '[N, C, H, W]');
    return [...s];
  }

  override describe(): string {
    const o = this.options;
    return `LocalResponseNorm(size ${o.size}, α ${o.alpha}, β ${o.beta}, k ${o.k}, α ${o.alphaMode})`;
  }
}

/** y = x·weightᵀ + bias; x [N, inFeatures] → [N, outFeatures]. */
export class Linear extends Module {
  /** the weight, [outFeatures, inFeatures] (a parameter) */
  weight: Tensor;
  /** the bias, [outFeatures] (a parameter) */
  bias: Tensor;

  /**
   * @param inFeatures the length of each input row
   * @param outFeatures the length of each output row
   * @param init the initialisation (nn.InitOptions; a bare layer defaults to 'glorot')
   */
  constructor(readonly inFeatures: number, readonly outFeatures: number, init: InitOptions = {}) {
    super();
    expectPositiveInteger('Linear', 'inFeatures', inFeatures);
    expectPositiveInteger('Linear', 'outFeatures', outFeatures);
    checkInitOptions('Linear', init);
    this.weight = this.registerParameter('weight', initWeight([outFeatures, inFeatures], inFeatures, outFeatures, init));
    this.bias = this.registerParameter('bias', initBias(outFeatures));
  }

  /** Re-draws the parameters (the model's init policy calls this). */
  resetParameters(init: InitOptions): void {
    this.replaceParameter('weight', (this.weight = initWeight(this.weight.shape, this.inFeatures, this.outFeatures, init)));
    this.replaceParameter('bias', (this.bias = initBias(this.outFeatures)));
  }

  forward(x: Tensor): Tensor {
    this.expectLive('forward');
    return ops.linear(x, this.weight, this.bias);
  }

  outputShape(s: Shape): number[] {
    expectInput('Linear', s, 2, '[N, in]');
    if (s[1] !== this.inFeatures) throw new ShapeError(`Linear: expected ${this.inFeatures} input features, got shape ${formatShape(s)}`);
    return [s[0], this.outFeatures];
  }

  override describe(): string {
    return `Linear(${this.inFeatures}, ${this.outFeatures})`;
  }
}

/**
 * Inverted dropout, active in training mode only. Each forward draws a fresh mask seed
 * from the layer's generator, whose state checkpoints save (`rng.state`).
 */
export class Dropout extends Module {
  /** The generator that draws each forward pass's mask seed; its `state` is saved in checkpoints. */
  readonly rng: Rng;

  /**
   * @param p the probability of zeroing a value, in [0, 1) (the paper's 0.5, §3.1); kept values are scaled by 1/(1−p)
   * @param seed the seed of the mask generator
   */
  constructor(readonly p = 0.5, seed = 0) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new ValueError(`Dropout: expected p in [0, 1), got ${describeValue(p)}`);
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new ValueError(`Dropout: expected a finite seed, got ${describeValue(seed)}`);
    this.rng = new Rng(seed);
  }

  forward(x: Tensor): Tensor {
    // ops.mul would name itself, not the layer
    if (!(x instanceof Tensor)) throw new ValueError(`Dropout.forward: expected a Tensor, got ${describeValue(x)}`);
    if (!this.training || this.p === 0) return ops.mul(x, 1);
    return ops.dropout(x, this.p, this.rng.int(2 ** 31));
  }

  outputShape(s: Shape): number[] {
    return [...s];
  }

  override describe(): string {
    return `Dropout(p=${this.p})`;
  }
}

/** [N, ...] → [N, product of the rest] */
export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return ops.flatten(x);
  }

  outputShape(s: Shape): number[] {
    if (!Array.isArray(s)) throw new ValueError(`Flatten: expected an input shape [N, ...], got ${describeValue(s)}`);
    if (s.length < 1) throw new ShapeError('Flatten: expected input of rank >= 1 [N, ...], got shape []');
    return [s[0], s.slice(1).reduce((a, b) => a * b, 1)];
  }
}

/**
 * Soft-max over the classes of logits [N, K] → probabilities [N, K]: the paper's last
 * layer (Table 1), kept out of Vgg so that training takes the logits (crossEntropy fuses
 * the two). Models read from ONNX graphs that end in a Softmax get one after the net.
 */
export class Softmax extends Module {
  forward(x: Tensor): Tensor {
    return ops.softmax(x);
  }

  outputShape(s: Shape): number[] {
    expectInput('Softmax', s, 2, '[N, K]');
    return [...s];
  }
}

/** Runs its layers in order; they are named '0', '1', ... as in PyTorch. */
export class Sequential extends Module {
  /** The layers, in the order forward() runs them (layer i is the child named 'i'). */
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) {
        throw new ValueError(`Sequential: expected layer ${i} to be a Module, got ${describeValue(l)}` +
          (Array.isArray(l) ? '; pass the layers as separate arguments: new Sequential(a, b, c)' : ''));
      }
      this.registerModule(String(i), l);
    });
    this.layers = layers;
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) h = layer.forward(h);
    return h;
  }

  outputShape(s: Shape): number[] {
    return this.layers.reduce<number[]>((shape, l) => l.outputShape(shape), [...s]);
  }
}

/** Mean softmax cross-entropy of logits [N, K] against integer labels. */
export function crossEntropy(logits: Tensor, labels: number[] | Int32Array): Tensor {
  return ops.softmaxCrossEntropy(logits, labels);
}
