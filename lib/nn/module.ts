/**
 * Module: the base of every layer and model (PyTorch's nn.Module, in small).
 *
 * A module owns parameters (Tensors with requiresGrad) and child modules, both named, so
 * `namedParameters()` gives PyTorch's dotted names ('features.0.weight'). `forward(x)`
 * returns a Tensor at once (ops compute as data arrives); `outputShape(inputShape)` infers
 * shapes without computing, which is how `summary()` prints a full-size VGG-E instantly.
 */
import { Tensor, formatShape, type Shape } from '../core/tensor.js';
import { DisposedError, ValueError, describeValue } from '../core/errors.js';

export abstract class Module {
  /** training mode: dropout is active; eval() turns it off */
  training = true;
  /** set by dispose(): the parameters are freed, and forward() throws a DisposedError */
  isDisposed = false;
  private readonly params: [string, Tensor][] = [];
  private readonly children: [string, Module][] = [];

  abstract forward(x: Tensor): Tensor;

  /** the shape forward() returns for an input of `inputShape` (throws as forward would) */
  abstract outputShape(inputShape: Shape): number[];

  /** a one-line description for summaries: 'Conv2d(3, 64, kernel 3×3)' */
  describe(): string {
    return this.constructor.name;
  }

  protected registerParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this.params.push([name, t]);
    return t;
  }

  protected replaceParameter(name: string, t: Tensor): void {
    const entry = this.params.find(([n]) => n === name);
    if (!entry) throw new Error(`${this.describe()}: no parameter named '${name}'`); // a bug, not a wrong use
    entry[1].dispose();
    t.requiresGrad = true;
    entry[1] = t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.children.push([name, m]);
    return m;
  }

  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** every parameter of this module and its descendants, with dotted names, in order */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = this.params.map(([n, t]) => [prefix + n, t]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  parameterCount(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** the modules of the tree, depth first, with dotted names ('' for this one) */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

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

  toString(): string {
    return this.summary();
  }
}
