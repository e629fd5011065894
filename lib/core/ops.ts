/**
 * The differentiable functional ops. Each op validates its inputs (a ShapeError, ValueError
 * or DisposedError names the op, what it expected and what it got), launches its forward kernels, and records, right
 * below, the backward that launches the gradient kernels.
 *
 * Layouts follow PyTorch: x [N, C, H, W]; a conv weight [Cout, Cin, k, k]; a linear weight
 * [out, in]. Ops return their output Tensor at once; the values are computed as soon as
 * the inputs are ready (`await t.data()` to read them).
 */
import { Tensor, opResult, formatShape, shapeSize, type Shape } from './tensor.js';
import { setGradAccumulator } from './autograd.js';
import { DisposedError, ShapeError, ValueError } from './errors.js';
import { sameShape } from './values.js';
import { runRegistered as run } from './backend.js';
import type { Conv2dDims, LinearDims, MapDims, SoftmaxDims } from '../../kernels/dims.js';

setGradAccumulator((a, b) => run('add', a, b));

// ---------------------------------------------------------------------------------------
// validation

function expectTensor(op: string, name: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new ValueError(`${op}: expected ${name} to be a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.isDisposed) throw new DisposedError(`${op}: expected ${name} to be a live tensor, got one of shape ${formatShape(t.shape)} that was disposed`);
}

function expectRank(op: string, name: string, t: Tensor, rank: number, layout: string): void {
  if (t.shape.length !== rank) {
    throw new ShapeError(`${op}: expected ${name} of rank ${rank} ${layout}, got shape ${formatShape(t.shape)}`);
  }
}

function expectSameShape(op: string, a: Tensor, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new ShapeError(`${op}: expected tensors of the same shape, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
}

/** An optional bias of shape [n] (conv2d's and linear's), or null. */
function expectBias(op: string, b: Tensor | null | undefined, n: number): Tensor | null {
  if (!b) return null;
  expectTensor(op, 'bias', b);
  if (b.shape.length !== 1 || b.shape[0] !== n) throw new ShapeError(`${op}: expected bias of shape [${n}], got ${formatShape(b.shape)}`);
  return b;
}

/** An op result computed by kernels, with no gradient of its own (backward passes use it). */
function computed(op: string, shape: Shape, inputs: Tensor[], compute: (v: Float32Array[]) => Promise<Float32Array>): Tensor {
  return opResult(op, shape, inputs, compute);
}

// ---------------------------------------------------------------------------------------
// convolution

/**
 * 2-D convolution with stride 1 and same-size padding (k−1)/2; the kernel size k (odd: 3
 * or 1 in VGG) comes from the weight. x [N, Cin, H, W], w [Cout, Cin, k, k], b [Cout].
 */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  const op = 'conv2d';
  expectTensor(op, 'x', x);
  expectTensor(op, 'weight', w);
  expectRank(op, 'x', x, 4, '[N, C, H, W]');
  expectRank(op, 'weight', w, 4, '[Cout, Cin, k, k]');
  const [N, Cin, H, W] = x.shape;
  const [Cout, wCin, K, K2] = w.shape;
  if (K !== K2 || K % 2 !== 1) throw new ShapeError(`${op}: expected a square, odd-sized weight [Cout, Cin, k, k], got ${formatShape(w.shape)}`);
  if (wCin !== Cin) throw new ShapeError(`${op}: x has ${Cin} channels (shape ${formatShape(x.shape)}) but the weight expects ${wCin} (shape ${formatShape(w.shape)})`);
  const bias = expectBias(op, b, Cout);
  const d: Conv2dDims = { N, Cin, Cout, H, W, K };
  const inputs = bias ? [x, w, bias] : [x, w];
  return opResult(op, [N, Cout, H, W], inputs,
    ([xv, wv, bv]) => run('conv2dForward', xv, wv, bv ?? new Float32Array(Cout), d),
    (g) => [
      x.requiresGrad ? computed('conv2d (backward input)', x.shape, [g, w], ([gv, wv]) => run('conv2dBackwardInput', gv, wv, d)) : null,
      w.requiresGrad ? computed('conv2d (backward weight)', w.shape, [g, x], ([gv, xv]) => run('conv2dBackwardWeight', gv, xv, d)) : null,
      bias?.requiresGrad ? computed('conv2d (backward bias)', bias.shape, [g], ([gv]) => run('conv2dBackwardBias', gv, d)) : null,
    ]);
}

// ---------------------------------------------------------------------------------------
// pooling, activations, normalisation

/** 2×2 max-pooling with stride 2; an odd H or W drops the last row or column (PyTorch). */
export function maxPool2d(x: Tensor): Tensor {
  const op = 'maxPool2d';
  expectTensor(op, 'x', x);
  expectRank(op, 'x', x, 4, '[N, C, H, W]');
  const [N, C, H, W] = x.shape;
  if (H < 2 || W < 2) throw new ShapeError(`${op}: expected H and W of at least 2, got shape ${formatShape(x.shape)}`);
  const d: MapDims = { N, C, H, W };
  return opResult(op, [N, C, Math.floor(H / 2), Math.floor(W / 2)], [x],
    ([xv]) => run('maxPool2dForward', xv, d),
    (g) => [computed('maxPool2d (backward)', x.shape, [g, x], ([gv, xv]) => run('maxPool2dBackward', gv, xv, d))]);
}

/** max(0, x) element-wise; the gradient is passed where x > 0. */
export function relu(x: Tensor): Tensor {
  expectTensor('relu', 'x', x);
  return opResult('relu', x.shape, [x],
    ([xv]) => run('reluForward', xv),
    (g) => [computed('relu (backward)', x.shape, [g, x], ([gv, xv]) => run('reluBackward', gv, xv))]);
}

/** The options of lrn() and nn.LocalResponseNorm; each one left out takes the paper's value, in brackets. */
export interface LrnOptions {
  /** n, the number of channels summed over (5) */
  size?: number;
  /** α (1e-4) */
  alpha?: number;
  /** β (0.75) */
  beta?: number;
  /** k (2) */
  k?: number;
  /**
   * 'sum': k + α·Σa² (AlexNet's paper and TensorFlow; the default);
   * 'mean': k + (α/n)·Σa² (PyTorch's nn.LocalResponseNorm and Caffe).
   */
  alphaMode?: 'sum' | 'mean';
}

/** The paper's LRN parameters (§2.2, after Krizhevsky et al. 2012). */
export const LRN_PAPER_DEFAULTS: Required<LrnOptions> = { size: 5, alpha: 1e-4, beta: 0.75, k: 2, alphaMode: 'sum' };

/** Local response normalisation across channels; see kernels/lrn.ts for the two α conventions. */
export function lrn(x: Tensor, options: LrnOptions = {}): Tensor {
  const op = 'lrn';
  expectTensor(op, 'x', x);
  expectRank(op, 'x', x, 4, '[N, C, H, W]');
  const o = { ...LRN_PAPER_DEFAULTS, ...options };
  if (!Number.isInteger(o.size) || o.size < 1) throw new ValueError(`${op}: expected size to be a positive integer, got ${o.size}`);
  if (!(o.k > 0)) throw new ValueError(`${op}: expected k > 0 (it keeps the denominator positive), got ${o.k}`);
  if (!(o.alpha >= 0) || !Number.isFinite(o.beta)) throw new ValueError(`${op}: expected alpha >= 0 and a finite beta, got alpha=${o.alpha}, beta=${o.beta}`);
  if (o.alphaMode !== 'sum' && o.alphaMode !== 'mean') throw new ValueError(`${op}: expected alphaMode 'sum' or 'mean', got '${String(o.alphaMode)}'`);
  const [N, C, H, W] = x.shape;
  const d: MapDims = { N, C, H, W };
  return opResult(op, x.shape, [x],
    ([xv]) => run('lrnForward', xv, o, d),
    (g) => [computed('lrn (backward)', x.shape, [g, x], ([gv, xv]) => run('lrnBackward', gv, xv, o, d))]);
}

// ---------------------------------------------------------------------------------------
// fully connected, softmax, loss, dropout

/** y = x·wᵀ + b with x [N, in], w [out, in], b [out]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  const op = 'linear';
  expectTensor(op, 'x', x);
  expectTensor(op, 'weight', w);
  expectRank(op, 'x', x, 2, '[N, in]');
  expectRank(op, 'weight', w, 2, '[out, in]');
  const [N, In] = x.shape;
  const [Out, wIn] = w.shape;
  if (wIn !== In) throw new ShapeError(`${op}: x has ${In} features (shape ${formatShape(x.shape)}) but the weight expects ${wIn} (shape ${formatShape(w.shape)})`);
  const bias = expectBias(op, b, Out);
  const d: LinearDims = { N, In, Out };
  return opResult(op, [N, Out], bias ? [x, w, bias] : [x, w],
    ([xv, wv, bv]) => run('linearForward', xv, wv, bv ?? new Float32Array(Out), d),
    (g) => [
      x.requiresGrad ? computed('linear (backward input)', x.shape, [g, w], ([gv, wv]) => run('linearBackwardInput', gv, wv, d)) : null,
      w.requiresGrad ? computed('linear (backward weight)', w.shape, [g, x], ([gv, xv]) => run('linearBackwardWeight', gv, xv, d)) : null,
      bias?.requiresGrad ? computed('linear (backward bias)', bias.shape, [g], ([gv]) => run('linearBackwardBias', gv, d)) : null,
    ]);
}

/** Softmax over the last axis of x [N, K]. */
export function softmax(x: Tensor): Tensor {
  const op = 'softmax';
  expectTensor(op, 'x', x);
  expectRank(op, 'x', x, 2, '[N, K]');
  const d: SoftmaxDims = { N: x.shape[0], K: x.shape[1] };
  const y: Tensor = opResult(op, x.shape, [x],
    ([xv]) => run('softmaxForward', xv, d),
    (g) => [computed('softmax (backward)', x.shape, [g, y], ([gv, yv]) => run('softmaxBackward', gv, yv, d))]);
  return y;
}

function checkLabels(op: string, labels: unknown, N: number, K: number): Float32Array {
  if (!Array.isArray(labels) && !(labels instanceof Int32Array)) {
    throw new ValueError(`${op}: expected labels as a number[] or an Int32Array, got ${labels === null ? 'null' : (labels as object)?.constructor?.name ?? typeof labels}`);
  }
  if (labels.length !== N) throw new ShapeError(`${op}: expected ${N} labels (one per row of logits [${N}, ${K}]), got ${labels.length}`);
  const out = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= K) {
      throw new ValueError(`${op}: expected integer labels in [0, ${K - 1}], got ${l} at index ${i}`);
    }
    out[i] = l;
  }
  return out;
}

/**
 * Mean softmax cross-entropy of logits [N, K] against integer labels (number[] or
 * Int32Array of N values in [0, K)), computed stably with log-sum-exp. Returns a scalar.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: number[] | Int32Array): Tensor {
  const op = 'softmaxCrossEntropy';
  expectTensor(op, 'logits', logits);
  expectRank(op, 'logits', logits, 2, '[N, K]');
  const d: SoftmaxDims = { N: logits.shape[0], K: logits.shape[1] };
  const labelValues = checkLabels(op, labels, d.N, d.K);
  return opResult(op, [], [logits],
    async ([xv]) => run('scale', await run('sum', await run('crossEntropyRows', xv, labelValues, d)), 1 / d.N),
    (g) => [computed('softmaxCrossEntropy (backward)', logits.shape, [logits, g], ([xv, gv]) => run('crossEntropyBackward', xv, labelValues, gv, d))]);
}

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by
 * 1/(1−p). The mask is a function of `seed` and the element index (kernels/dropout.ts).
 */
export function dropout(x: Tensor, p: number, seed: number): Tensor {
  const op = 'dropout';
  expectTensor(op, 'x', x);
  if (!(p >= 0 && p < 1)) throw new ValueError(`${op}: expected p in [0, 1), got ${p}`);
  if (!Number.isInteger(seed)) throw new ValueError(`${op}: expected an integer seed, got ${seed}`);
  return opResult(op, x.shape, [x],
    ([xv]) => run('dropoutForward', xv, p, seed),
    (g) => [computed('dropout (backward)', x.shape, [g], ([gv]) => run('dropoutBackward', gv, p, seed))]);
}

// ---------------------------------------------------------------------------------------
// element-wise and reductions

/** a + b element-wise, for tensors of one shape (a ShapeError otherwise). */
export function add(a: Tensor, b: Tensor): Tensor {
  expectTensor('add', 'a', a);
  expectTensor('add', 'b', b);
  expectSameShape('add', a, b);
  return opResult('add', a.shape, [a, b], ([av, bv]) => run('add', av, bv), (g) => [g, g]);
}

/** a·b element-wise, or a·s for a number s. */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  expectTensor('mul', 'a', a);
  if (typeof b === 'number') {
    if (!Number.isFinite(b)) throw new ValueError(`mul: expected a finite scalar, got ${b}`);
    return opResult('mul', a.shape, [a], ([av]) => run('scale', av, b),
      (g) => [computed('mul (backward)', a.shape, [g], ([gv]) => run('scale', gv, b))]);
  }
  expectTensor('mul', 'b', b);
  expectSameShape('mul', a, b);
  return opResult('mul', a.shape, [a, b], ([av, bv]) => run('mul', av, bv),
    (g) => [
      a.requiresGrad ? computed('mul (backward)', a.shape, [g, b], ([gv, bv]) => run('mul', gv, bv)) : null,
      b.requiresGrad ? computed('mul (backward)', b.shape, [g, a], ([gv, av]) => run('mul', gv, av)) : null,
    ]);
}

/** The sum of all elements, as a scalar tensor (shape []). */
export function sum(x: Tensor): Tensor {
  expectTensor('sum', 'x', x);
  return opResult('sum', [], [x], ([xv]) => run('sum', xv),
    (g) => [computed('sum (backward)', x.shape, [g], async ([gv]) => new Float32Array(x.size).fill(gv[0]))]);
}

/** The same values in a new shape with as many elements (a copy: every tensor owns its storage). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  expectTensor('reshape', 'x', x);
  if (!Array.isArray(shape)) throw new ShapeError(`reshape: expected a shape array, got ${shape === null ? 'null' : typeof shape}`);
  const resolved = [...shape];
  const free = resolved.indexOf(-1);
  if (free >= 0) resolved[free] = x.size / shapeSize(resolved.filter((_, i) => i !== free));
  if (resolved.some((d) => !Number.isInteger(d) || d < 0) || shapeSize(resolved) !== x.size) {
    throw new ShapeError(`reshape: cannot view ${x.size} elements of shape ${formatShape(x.shape)} as ${formatShape(shape)}`);
  }
  return opResult('reshape', resolved, [x], async ([xv]) => new Float32Array(xv),
    (g) => [computed('reshape (backward)', x.shape, [g], async ([gv]) => new Float32Array(gv))]);
}

/** [N, ...] → [N, product of the rest]: the bridge from the conv stack to the FC layers. */
export function flatten(x: Tensor): Tensor {
  expectTensor('flatten', 'x', x);
  if (x.shape.length < 1) throw new ShapeError(`flatten: expected a tensor of rank >= 1, got shape ${formatShape(x.shape)}`);
  return reshape(x, [x.shape[0], x.size / Math.max(1, x.shape[0])]);
}
