/**
 * Tensor: the API of the tensor core (micrograd's shape, tinygrad's discipline).
 *
 * A Tensor is a shape plus float32 storage. Ops run as data flows: an op validates its
 * inputs at once (shape errors throw where the op is called), returns its output Tensor at
 * once, and computes the storage when its inputs' storage is ready. So the same code runs
 * on synchronous modes (cpu, webasm, headlessgl) and on webgpu, whose readback is always
 * asynchronous. Reading a value is `await t.data()`, and `await loss.backward()` resolves
 * when every gradient is computed; on every mode.
 *
 * The core is three files: this one (the Tensor class, its constructors, tidy/keep/memory,
 * opResult for ops); lib/core/autograd.ts (the graph, backward, noGrad); lib/core/storage.ts
 * (which tensor owns each array, pinning, and the storage pool). Imports point one way:
 * tensor.ts → autograd.ts → storage.ts, and tensor.ts → storage.ts.
 *
 * Memory: every Tensor owns its storage; `dispose()` frees it, `tidy(fn)` frees what `fn`
 * made and did not return, `memory()` counts what is live. A freed array goes to the
 * storage pool (kernels/pool.ts) once it is safe (lib/core/storage.ts says when).
 */
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { normalRandom } from './random.js';
import { ShapeError, ValueError, describeValue as describe } from './errors.js';
import { allocating, checkNumerics, checkShape, expectFinite, formatShape, isNdarray, newValues, numbersOf, shapeSize, type Shape } from './values.js';
import { HeldGraph, runBackward, graphOf, isGradEnabled, isPromise, type GradNode as Node, type TensorKit } from './autograd.js';
import { Storage, withValues } from './storage.js';

export { checkNumerics, formatShape, shapeSize, type Shape };
export { noGrad, isGradEnabled } from './autograd.js';
export { withValues };

/** How a tensor was computed: the op, its inputs and its backward (lib/core/autograd.ts). */
export type GradNode = Node<Tensor>;

const live = { tensors: 0, bytes: 0 };
const scopes: Set<Tensor>[] = [];
let nextId = 1;

/** what a tensor that holds no graph passes to runBackward (it is never changed: it stays empty) */
const NO_GRAPH = new HeldGraph();

/**
 * An n-dimensional float32 array with autograd, PyTorch's torch.Tensor in small. Ops return a
 * Tensor at once and compute its values as their inputs arrive; read them with `await t.data()`.
 * A tensor made with `requiresGrad` is a leaf whose `grad` `backward()` fills. Free its memory
 * with `dispose()` (or run the code in `tidy()`): a use after that throws a DisposedError.
 */
export class Tensor {
  /** A number unique to this tensor in the process (creation order), for debugging and graph dumps. */
  readonly id = nextId++;
  /** The dimensions, outermost first (frozen): [N, C, H, W] for a batch of images. */
  readonly shape: readonly number[];
  /** The number of values: the product of the shape (1 for shape []). */
  readonly size: number;
  /** accumulated gradient of the last `backward()` (leaves only, as in PyTorch) */
  grad: Tensor | null = null;
  /** how this tensor was computed; null for leaves and for tensors made without grad */
  node: GradNode | null = null;
  private _requiresGrad = false;
  /** the storage, its arrays and their pins (lib/core/storage.ts) */
  private readonly _store: Storage;
  /** the tensors of its graph that a tidy() kept alive for this tensor's backward (lib/core/autograd.ts) */
  /** the graph a tidy() kept alive for this tensor's backward: made only for tensors that hold one */
  private _held: HeldGraph | null = null;

  /** Internal: use `Tensor.from`, `zeros`, `randn` or an op. */
  constructor(shape: Shape, storage: Promise<Float32Array>, requiresGrad = false) {
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    this._requiresGrad = requiresGrad;
    live.tensors++;
    live.bytes += this.size * 4;
    const scope = scopes[scopes.length - 1];
    if (scope) scope.add(this);
    this._store = new Storage(storage, this);
  }

  /** Internal: the storage promise, held open until unpin(): ops and reads use it so that the array is not reused meanwhile. */
  pin(where: string): Promise<Float32Array> {
    return this._store.pin(where);
  }

  /** Internal: ends a pin(). */
  unpin(): void {
    this._store.unpin();
  }

  /** Internal: resolves when the values are computed (without reading them). */
  async settled(where: string): Promise<void> {
    await this._store.get(where);
  }

  /** A tensor from numbers, in row-major order. */
  static from(data: ArrayLike<number>, shape?: Shape, options: { requiresGrad?: boolean } = {}): Tensor {
    const values = numbersOf('Tensor.from', data);
    const s = shape ?? [values.length];
    checkShape('Tensor.from', s);
    if (shapeSize(s) !== values.length) {
      throw new ShapeError(`Tensor.from: shape ${formatShape(s)} holds ${shapeSize(s)} values, but ${values.length} were given`);
    }
    if (checkNumerics()) expectFinite('Tensor.from', values, s);
    return new Tensor(s, Promise.resolve(values), options.requiresGrad ?? false);
  }

  /** A tensor with the shape and values of an ndarray (any strides; the values are copied). */
  static fromNdarray(a: NdArray, options: { requiresGrad?: boolean } = {}): Tensor {
    if (!isNdarray(a)) {
      throw new ValueError(`Tensor.fromNdarray: expected an ndarray, got ${describe(a)}`);
    }
    const shape = [...a.shape];
    const out = newValues('Tensor.fromNdarray', shape);
    const dest = ndarray(out, shape);
    // copy element by element through both views: handles any stride or offset
    const index = new Array(shape.length).fill(0);
    for (let i = 0; i < out.length; i++) {
      dest.set(...index, a.get(...index));
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++index[d] < shape[d]) break;
        index[d] = 0;
      }
    }
    return new Tensor(shape, Promise.resolve(out), options.requiresGrad ?? false);
  }

  /**
   * Whether backward() computes a gradient for this tensor. Setting it false on a computed
   * (non-leaf) tensor throws a ValueError.
   */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  /** See the getter; a ValueError when switching off a tensor computed by an op. */
  set requiresGrad(value: boolean) {
    if (this.node && !value) {
      throw new ValueError('Tensor.requiresGrad: only a leaf tensor can be switched off; this one was computed by ' + this.node.op);
    }
    this._requiresGrad = value;
  }

  /** Whether dispose() freed the values; any read or op on it then throws a DisposedError. */
  get isDisposed(): boolean {
    return this._store.isDisposed;
  }

  /**
   * Internal: the storage promise, handed out raw (for code that keeps the array, such as
   * a view that shares it); this tensor's arrays are never pooled afterwards. Ops use
   * pin / unpin (withValues) instead. Throws with the op's name if disposed.
   */
  storage(where: string): Promise<Float32Array> {
    return this._store.escape(where);
  }

  /** Internal: replaces the values in place (optimisers); the new array must have the same size. */
  assign(values: Promise<Float32Array>, where: string): void {
    this._store.get(where);
    this._store.replace(values.then((v) => {
      if (v.length !== this.size) throw new ShapeError(`${where}: expected ${this.size} values for shape ${formatShape(this.shape)}, got ${v.length}`);
      if (checkNumerics()) expectFinite(where, v, this.shape);
      return v;
    }));
  }

  /** A copy of the values, as float32 in row-major order. */
  async data(): Promise<Float32Array> {
    const storage = this.pin('Tensor.data');
    try {
      return new Float32Array(await storage);
    } finally {
      this.unpin();
    }
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ShapeError(`Tensor.item: expected a tensor with 1 element, got shape ${formatShape(this.shape)}`);
    const storage = this.pin('Tensor.item');
    try {
      return (await storage)[0];
    } finally {
      this.unpin();
    }
  }

  /** The values as an ndarray of the same shape (a copy). */
  async toNdarray(): Promise<NdArray<Float32Array>> {
    return ndarray(await this.data(), [...this.shape]);
  }

  /**
   * Frees the storage, and the gradient with it. Using the tensor afterwards throws a
   * DisposedError; disposing twice is a no-op. The record of how it was computed stays, so
   * a backward() through it still reaches the tensors below; only a backward that needs
   * its values fails (with a DisposedError naming the op).
   */
  dispose(): void {
    if (this._store.isDisposed) return;
    this._store.free();
    live.tensors--;
    live.bytes -= this.size * 4;
    for (const s of scopes) s.delete(this);
    this.grad?.dispose();
    this.grad = null;
    this._held?.release();
  }

  /** Internal (tidy): keeps `tensors` of this tensor's graph alive until its backward is done or it is disposed. */
  holdGraph(tensors: readonly Tensor[]): void {
    if (tensors.length) (this._held ??= new HeldGraph()).hold(tensors);
  }

  /**
   * Backpropagates from this tensor: accumulates d(this)/d(leaf) into every leaf that
   * requires grad. A non-scalar tensor needs `gradOutput` of its shape, as in PyTorch.
   * Resolves when every gradient is computed (lib/core/autograd.ts checks and walks).
   */
  async backward(gradOutput?: Tensor): Promise<void> {
    if (this.isDisposed) this._store.get('Tensor.backward'); // throws the DisposedError
    await runBackward(this, gradOutput, this._held ?? NO_GRAPH, kit);
  }

  /**
   * 'Tensor(shape=[2, 3], requiresGrad)': the shape and flags, never the values (which may not be computed yet).
   */
  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)}${this._requiresGrad ? ', requiresGrad' : ''}${this.isDisposed ? ', disposed' : ''})`;
  }
}

/** What the backward walk (lib/core/autograd.ts) makes, recognises and scopes tensors with. */
const kit: TensorKit<Tensor> = {
  isTensor: (x): x is Tensor => x instanceof Tensor,
  make: (shape, storage) => new Tensor(shape, storage),
  tidy: (fn) => tidy(fn),
  keep: (t) => keep(t),
};

/**
 * Internal, for ops: makes the output tensor of an op. `compute` runs once the inputs'
 * storage is ready; `backward` is recorded when grad is enabled and an input requires it.
 */
export function opResult(
  op: string,
  shape: Shape,
  inputs: readonly Tensor[],
  compute: (values: Float32Array[]) => Promise<Float32Array> | Float32Array,
  backward?: (gradOutput: Tensor) => (Tensor | null)[],
): Tensor {
  const size = shapeSize(shape);
  const storage = withValues(op, inputs, compute).then((v) => {
    if (v.length !== size) throw new Error(`${op}: computed ${v.length} values for shape ${formatShape(shape)}`); // a bug, not a wrong use
    if (checkNumerics()) expectFinite(op, v, shape);
    return v;
  });
  const needsGrad = isGradEnabled() && !!backward && inputs.some((t) => t.requiresGrad);
  const out = new Tensor(shape, storage, needsGrad);
  if (needsGrad) out.node = { op, inputs, backward: backward! };
  return out;
}

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (value instanceof Tensor) {
    into.add(value);
    return;
  }
  const items = Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : Object.values(value);
  for (const v of items) collectTensors(v, into, depth + 1);
}

/**
 * Ends a tidy: the tensors it returns go to the enclosing tidy; the rest are disposed,
 * except those that a returned tensor's backward() needs (its graph, as in tfjs users'
 * `const loss = tidy(() => ...); await loss.backward()`): the returned tensor holds them,
 * and they are disposed when its backward is done or it is disposed. A gradient that is
 * returned outlives the tensor it belongs to.
 */
function endScope(scope: Set<Tensor>, result: unknown): void {
  const kept = new Set<Tensor>();
  collectTensors(result, kept);
  const i = scopes.lastIndexOf(scope);
  if (i >= 0) scopes.splice(i, 1);
  const parent = scopes[scopes.length - 1];
  const holders = [...kept, ...(keptOut.get(scope) ?? [])];
  // each holder holds all of its graph (a tensor two holders share is disposed when the last lets go)
  const held = new Set<Tensor>();
  for (const k of holders) {
    if (!k.node || k.isDisposed) continue;
    const mine = graphOf(k).filter((t) => scope.has(t) && !kept.has(t));
    k.holdGraph(mine);
    for (const t of mine) held.add(t);
  }
  for (const t of held) scope.delete(t);
  for (const t of scope) {
    if (kept.has(t)) {
      parent?.add(t);
    } else {
      if (t.grad && kept.has(t.grad)) t.grad = null;
      t.dispose();
    }
  }
}

/**
 * Runs fn and disposes every tensor it created that it does not return (a Tensor, or
 * Tensors inside a returned array or object). fn may be async; then tidy returns a Promise,
 * and tensors made by other code while fn awaits are counted as fn's (do not interleave).
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endScope(scope, undefined);
    throw e;
  }
  if (isPromise(result)) {
    return result.then(
      (v) => {
        endScope(scope, v);
        return v;
      },
      (e) => {
        endScope(scope, undefined);
        throw e;
      },
    ) as T;
  }
  endScope(scope, result);
  return result;
}

/** the tensors with a graph that keep() took out of each open tidy: their graphs are held as a returned tensor's are */
const keptOut = new WeakMap<Set<Tensor>, Tensor[]>();

/** Excludes a tensor from every enclosing tidy, so it outlives them (with the graph its backward needs, as a returned one). */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) {
    if (s.delete(t) && t.node) {
      const list = keptOut.get(s);
      if (list) list.push(t);
      else keptOut.set(s, [t]);
    }
  }
  return t;
}

/** Live tensors and their bytes (every tensor's storage is counted once, by its owner). */
export function memory(): {
  /** tensors made and not yet disposed */
  tensors: number;
  /** their float32 values, 4 bytes each */
  bytes: number;
} {
  return { ...live };
}

/** A tensor of `shape` filled with 0 (a leaf; `requiresGrad` false by default). */
export function zeros(shape: Shape, options: { requiresGrad?: boolean } = {}): Tensor {
  return new Tensor(shape, Promise.resolve(newValues('zeros', shape)), options.requiresGrad ?? false);
}

/** A tensor of `shape` filled with 1 (a leaf; `requiresGrad` false by default). */
export function ones(shape: Shape, options: { requiresGrad?: boolean } = {}): Tensor {
  return new Tensor(shape, Promise.resolve(newValues('ones', shape).fill(1)), options.requiresGrad ?? false);
}

/** Normal samples, mean `mean` (0) and standard deviation `std` (1), from a seeded generator. */
export function randn(shape: Shape, options: { seed?: number; std?: number; mean?: number; requiresGrad?: boolean } = {}): Tensor {
  const { seed = 0, std = 1, mean = 0 } = options;
  if (!(std >= 0) || !Number.isFinite(std)) throw new ValueError(`randn: expected a finite std >= 0, got ${std}`);
  if (!Number.isFinite(mean)) throw new ValueError(`randn: expected a finite mean, got ${mean}`);
  if (!Number.isInteger(seed)) throw new ValueError(`randn: expected an integer seed, got ${seed}`);
  const values = allocating('randn', shape, (n) => normalRandom(n, seed, mean, std));
  return new Tensor(shape, Promise.resolve(values), options.requiresGrad ?? false);
}
