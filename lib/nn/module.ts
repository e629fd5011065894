/**
 * Module: the base of every layer and model (PyTorch's nn.Module, in small).
 *
 * A module owns parameters (Tensors with requiresGrad) and child modules, both named, so
 * `namedParameters()` gives PyTorch's dotted names ('features.0.weight'). `forward(x)`
 * returns a Tensor at once (ops compute as data arrives); `outputShape(inputShape)` infers
 * shapes without computing, which is how `summary()` prints a full-size VGG-E instantly.
 * `predict(x)` is inference as a user wants it: class probabilities, in eval mode, without
 * a graph, from a batch tensor or from images (ndarrays [C, H, W], as lib/data makes them).
 */
import type { NdArray } from 'ndarray';
import { Tensor, formatShape, noGrad, tidy, type Shape } from '../core/tensor.js';
import * as ops from '../core/ops.js';
import { isNdarray } from '../core/values.js';
import { DisposedError, ShapeError, ValueError, describeValue } from '../core/errors.js';

/**
 * What predict() takes: a Tensor [N, C, H, W]; one image, an ndarray [C, H, W]; an ndarray
 * batch [N, C, H, W]; or an array of images [C, H, W] of one shape (lib/data's Image type).
 */
export type PredictInput = Tensor | NdArray | NdArray[];

/**
 * The base of every layer and model: named parameters and child modules, train/eval mode,
 * shape inference, summary() and predict(). A subclass registers its parameters and children
 * in its constructor and implements forward() and outputShape().
 */
export abstract class Module {
  /** training mode: dropout is active; eval() turns it off */
  training = true;
  /** set by dispose(): the parameters are freed, and forward() throws a DisposedError */
  isDisposed = false;
  private readonly params: [string, Tensor][] = [];
  private readonly children: [string, Module][] = [];

  /**
   * The module's computation: the output Tensor for input `x` (throws a ShapeError naming the layer for a shape it does not take).
   */
  abstract forward(x: Tensor): Tensor;

  /** the shape forward() returns for an input of `inputShape` (throws as forward would) */
  abstract outputShape(inputShape: Shape): number[];

  /** a one-line description for summaries: 'Conv2d(3, 64, kernel 3×3)' */
  describe(): string {
    return this.constructor.name;
  }

  /** Makes `t` a parameter named `name` (sets requiresGrad); for a subclass's constructor. Returns `t`. */
  protected registerParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this.params.push([name, t]);
    return t;
  }

  /**
   * Swaps the parameter `name` for `t`, disposing the old one (how weights are loaded into a live module).
   */
  protected replaceParameter(name: string, t: Tensor): void {
    const entry = this.params.find(([n]) => n === name);
    if (!entry) throw new Error(`${this.describe()}: no parameter named '${name}'`); // a bug, not a wrong use
    entry[1].dispose();
    t.requiresGrad = true;
    entry[1] = t;
  }

  /** Makes `m` a child module named `name`, so its parameters get the prefix `name.`; returns `m`. */
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.children.push([name, m]);
    return m;
  }

  /** The direct children with their names, in registration order (a copy). */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** every parameter of this module and its descendants, with dotted names, in order */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = this.params.map(([n, t]) => [prefix + n, t]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  /** Every parameter of the tree, in the order of namedParameters() (what an optimiser takes). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** The number of parameter values (floats) in the tree: 138,357,544 for VGG-16 at full size. */
  parameterCount(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** the modules of the tree, depth first, with dotted names ('' for this one) */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** Sets training mode (`mode` true: dropout active) on this module and every descendant; returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Eval mode: train(false), so dropout passes its input through; returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Frees every parameter (and its gradient); this module and its descendants can no longer run. */
  dispose(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.dispose();
    }
    for (const [, m] of this.namedModules()) m.isDisposed = true;
  }

  /** Throws a DisposedError naming the module when it was disposed (forward() calls it first). */
  protected expectLive(where: string): void {
    if (this.isDisposed) {
      throw new DisposedError(`${this.describe()}.${where}: expected a live module, got one whose parameters dispose() freed; make a new one (or load weights into one)`);
    }
  }

  /** the input shape that summary() and String(model) use when none is given */
  defaultInputShape(): Shape | null {
    return null;
  }

  /**
   * A table as torchinfo and Keras print it: one row per layer (the leaves of the tree)
   * with its output shape and parameter count, then the totals.
   */
  summary(inputShape: Shape | null = this.defaultInputShape()): string {
    if (inputShape !== null && !Array.isArray(inputShape)) throw new ValueError(`${this.describe()}.summary: expected an input shape such as [1, 3, 224, 224] (or null), got ${describeValue(inputShape)}`);
    const rows: [string, string, string][] = [];
    let shape: number[] | null = inputShape ? [...inputShape] : null;
    const leaves = this.namedModules().filter(([, m]) => m.children.length === 0);
    for (const [name, m] of leaves) {
      if (shape) shape = m.outputShape(shape);
      const count = m.params.reduce((n, [, t]) => n + t.size, 0);
      rows.push([`${name || '(self)'}: ${m.describe()}`, shape ? formatShape(shape) : '?', count.toLocaleString('en-US')]);
    }
    const header: [string, string, string] = ['Layer', 'Output shape', 'Param #'];
    const widths = [0, 1, 2].map((i) => Math.max(header[i].length, ...rows.map((r) => r[i].length)));
    const line = (r: [string, string, string]) => `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(widths[2])}`;
    const rule = '='.repeat(widths[0] + widths[1] + widths[2] + 4);
    const total = this.parameterCount();
    const trainable = this.parameters().filter((p) => p.requiresGrad).reduce((n, t) => n + t.size, 0);
    return [
      `${this.describe()}${inputShape ? ` on input ${formatShape(inputShape)}` : ''}`,
      rule, line(header), rule, ...rows.map(line), rule,
      `Total params: ${total.toLocaleString('en-US')}`,
      `Trainable params: ${trainable.toLocaleString('en-US')}`,
      `Parameter memory: ${(total * 4 / 2 ** 20).toFixed(2)} MiB (float32)`,
    ].join('\n');
  }

  /** The summary() table, for the default input shape. */
  toString(): string {
    return this.summary();
  }

  /**
   * Class probabilities: softmax of the logits, a Tensor [N, K] (row n sums to 1), as
   * PyTorch's `model(x).softmax(1)` under `model.eval()` and `torch.no_grad()`. Runs in
   * eval mode (dropout off) and records no graph; every module's training/eval mode is
   * restored afterwards, also when it throws. Read it with `await p.data()` and free it
   * with `p.dispose()`.
   *
   * `x` is a Tensor [N, C, H, W], or images as lib/data makes them: one ndarray [C, H, W]
   * (then N = 1), an ndarray [N, C, H, W], or an array of ndarrays [C, H, W] of one shape.
   * Images are taken as they are: apply the preprocessing the net was trained with first
   * (data.applyPreprocessing, data.subtractMean, ...). A given Tensor is not disposed.
   *
   * Bad input is a ValueError (not a tensor or images) or a ShapeError (a wrong rank, images
   * of different shapes, a shape the model does not take) naming `predict`.
   */
  predict(x: PredictInput): Tensor {
    const where = `${this.describe()}.predict`;
    this.expectLive('predict');
    const modes = this.namedModules().map(([, m]) => [m, m.training] as const);
    this.eval();
    try {
      // forward() returns at once: eval mode and noGrad only need to hold while it builds the ops
      return tidy(() => noGrad(() => {
        const batch = batchOf(where, x);
        let logits: Tensor;
        try {
          logits = this.forward(batch);
        } catch (e) {
          // the layer's own message, under the name of the function the user called
          if (e instanceof ShapeError) throw new ShapeError(`${where}: the input does not fit the model: ${e.message}`, { cause: e });
          throw e;
        }
        if (logits.shape.length !== 2) {
          throw new ShapeError(`${where}: expected forward() to return logits [N, K], got ${formatShape(logits.shape)}; predict needs a classifier (add a Flatten and a Linear)`);
        }
        return ops.softmax(logits);
      }));
    } finally {
      // each module's own mode, not one for all: a frozen part may have been set apart
      for (const [m, training] of modes) m.training = training;
    }
  }
}

/** predict()'s input as a batch Tensor [N, C, H, W]: a given Tensor as it is, images copied into a new one. */
function batchOf(where: string, x: PredictInput): Tensor {
  const expected = 'a Tensor [N, C, H, W], an image ndarray [C, H, W] or [N, C, H, W], or an array of images [C, H, W]';
  if (x instanceof Tensor) {
    if (x.shape.length !== 4) throw new ShapeError(`${where}: expected ${expected}, got a Tensor ${formatShape(x.shape)}${x.shape.length === 3 ? '; add the batch dimension' : ''}`);
    return x;
  }
  if (isNdarray(x)) {
    if (x.shape.length !== 3 && x.shape.length !== 4) throw new ShapeError(`${where}: expected ${expected}, got an ndarray ${formatShape(x.shape)}`);
    const t = Tensor.fromNdarray(x);
    return x.shape.length === 3 ? ops.reshape(t, [1, ...x.shape]) : t;
  }
  if (!Array.isArray(x)) throw new ValueError(`${where}: expected ${expected}, got ${describeValue(x)}`);
  if (x.length === 0) throw new ValueError(`${where}: expected at least one image, got an empty array`);
  const first = x[0];
  x.forEach((img, i) => {
    if (!isNdarray(img)) throw new ValueError(`${where}: expected image ${i} to be an ndarray [C, H, W], got ${describeValue(img)}`);
    if (img.shape.length !== 3) throw new ShapeError(`${where}: expected image ${i} to be an ndarray [C, H, W], got ${formatShape(img.shape)}`);
    if (isNdarray(first) && img.shape.some((d, k) => d !== first.shape[k])) {
      throw new ShapeError(`${where}: expected images of one shape, got image 0 ${formatShape(first.shape)} and image ${i} ${formatShape(img.shape)}; resize or crop them first`);
    }
  });
  const [C, H, W] = first.shape;
  const per = C * H * W;
  const values = new Float32Array(x.length * per);
  x.forEach((img, n) => {
    let o = n * per;
    // through get(): any view (a crop, a flip) reads right, whatever its strides
    for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let w = 0; w < W; w++) values[o++] = img.get(c, y, w);
  });
  return Tensor.from(values, [x.length, C, H, W]);
}
