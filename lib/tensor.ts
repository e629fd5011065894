/**
 * Tensor and the autograd core (micrograd's shape, tinygrad's discipline).
 *
 * A Tensor is a shape plus float32 storage. Ops run as data flows: an op validates its
 * inputs at once (shape errors throw where the op is called), returns its output Tensor at
 * once, and computes the storage when its inputs' storage is ready. So the same code runs
 * on synchronous modes (cpu, webasm, headlessgl) and on webgpu, whose readback is always
 * asynchronous. Reading a value is `await t.data()`, and `await loss.backward()` resolves
 * when every gradient is computed; on every mode.
 *
 * Autograd: an op whose inputs require grad records a node (its inputs and a backward
 * closure written right beside its forward in lib/ops.ts). `backward()` walks the nodes in
 * reverse topological order and accumulates into the `.grad` of the leaves.
 *
 * Memory: every Tensor owns its storage; `dispose()` frees it, `tidy(fn)` frees what `fn`
 * made and did not return, `memory()` counts what is live. A freed array goes to the
 * storage pool (lib/pool.ts) for the next op's output of the same length, once it is safe:
 * the tensor that owns it (the first whose storage resolved to it) is disposed, or has had
 * new values assigned; no op or read is still using it (each pins the tensor while it
 * runs); and it was never handed out raw by `storage()`.
 */
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { normalRandom } from './random.js';
import { allocate, release, settle } from '../kernels/pool.js';
import { DisposedError, ShapeError, ValueError, describeValue as describe } from './errors.js';
import { allocating, checkNumerics, checkShape, expectFinite, formatShape, newValues, numbersOf, sameShape, shapeSize, type Shape } from './values.js';

export { checkNumerics, formatShape, shapeSize, type Shape };

export interface GradNode {
  /** the op that made the tensor, for error messages */
  op: string;
  inputs: readonly Tensor[];
  /** gradient of the loss with respect to each input, or null where none is needed */
  backward(gradOutput: Tensor): (Tensor | null)[];
}

const live = { tensors: 0, bytes: 0 };
let gradEnabled = true;
const scopes: Set<Tensor>[] = [];
let nextId = 1;
/** the tensor that owns each array: the first whose storage resolved to it; only it gives the array back */
const owners = new WeakMap<Float32Array, Tensor>();
/** arrays that an op returned as its output while also an input: two tensors hold them, so they never go back */
const shared = new WeakSet<Float32Array>();

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  /** accumulated gradient of the last `backward()` (leaves only, as in PyTorch) */
  grad: Tensor | null = null;
  /** how this tensor was computed; null for leaves and for tensors made without grad */
  node: GradNode | null = null;
  private _requiresGrad = false;
  private _storage: Promise<Float32Array> | null;
  /** the values of _storage once it has resolved */
  private _values: Float32Array | null = null;
  /** ops and reads now using this tensor's storage (pin / unpin) */
  private _pins = 0;
  /** the storage was handed out raw by storage(): none of this tensor's arrays is pooled again */
  private _escaped = false;
  /** earlier arrays (replaced by assign, or resolved after dispose) to give back when unpinned */
  private _retired: Float32Array[] = [];
  /**
   * The tensors of this tensor's graph that a tidy() would have disposed when it returned
   * this one: they are kept alive for backward() and disposed when the backward is done or
   * this tensor is disposed (each held tensor counts its holders in _holders).
   */
  private _held: Tensor[] = [];
  private _holders = 0;
  /** backward() ran and freed the held graph: a second backward cannot run */
  private _graphFreed = false;

  /** Internal: use `Tensor.from`, `zeros`, `randn` or an op. */
  constructor(shape: Shape, storage: Promise<Float32Array>, requiresGrad = false) {
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    this._storage = storage;
    this._requiresGrad = requiresGrad;
    live.tensors++;
    live.bytes += this.size * 4;
    const scope = scopes[scopes.length - 1];
    if (scope) scope.add(this);
    this._track(storage);
  }

  /** Records the array a storage promise resolves to; a failure is reported by whoever awaits it, never as an unhandled rejection. */
  private _track(storage: Promise<Float32Array>): void {
    storage.then((v) => {
      settle(v);
      if (!owners.has(v)) owners.set(v, this);
      if (this._storage === storage) this._values = v;
      else this._retired.push(v);
      this._giveBack();
    }, () => undefined);
  }

  /** Gives the arrays this tensor no longer needs to the pool, when nothing uses them. */
  private _giveBack(): void {
    if (this._pins > 0) return;
    if (this._storage === null && this._values) {
      this._retired.push(this._values);
      this._values = null;
    }
    if (!this._escaped) {
      for (const v of this._retired) {
        if (owners.get(v) === this && !shared.has(v)) {
          owners.delete(v);
          release(v);
        }
      }
    }
    this._retired.length = 0;
  }

  /** Internal: the storage promise, held open until unpin(): ops and reads use it so that the array is not reused meanwhile. */
  pin(where: string): Promise<Float32Array> {
    const storage = this.storageOf(where);
    this._pins++;
    return storage;
  }

  /** Internal: ends a pin(). */
  unpin(): void {
    this._pins--;
    this._giveBack();
  }

  /** Internal: resolves when the values are computed (without reading them). */
  async settled(where: string): Promise<void> {
    await this.storageOf(where);
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
    if (!a || !Array.isArray(a.shape) || typeof a.get !== 'function') {
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

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(value: boolean) {
    if (this.node && !value) {
      throw new ValueError('Tensor.requiresGrad: only a leaf tensor can be switched off; this one was computed by ' + this.node.op);
    }
    this._requiresGrad = value;
  }

  get isDisposed(): boolean {
    return this._storage === null;
  }

  /**
   * Internal: the storage promise, handed out raw (for code that keeps the array, such as
   * a view that shares it); this tensor's arrays are never pooled afterwards. Ops use
   * pin / unpin (withValues) instead. Throws with the op's name if disposed.
   */
  storage(where: string): Promise<Float32Array> {
    const storage = this.storageOf(where);
    this._escaped = true;
    return storage;
  }

  private storageOf(where: string): Promise<Float32Array> {
    if (!this._storage) {
      throw new DisposedError(`${where}: expected a live tensor, got tensor #${this.id} of shape ${formatShape(this.shape)}, which was disposed`);
    }
    return this._storage;
  }

  /** Internal: replaces the values in place (optimisers); the new array must have the same size. */
  assign(values: Promise<Float32Array>, where: string): void {
    this.storageOf(where);
    if (this._values) this._retired.push(this._values);
    this._values = null;
    const storage = values.then((v) => {
      if (v.length !== this.size) throw new ShapeError(`${where}: expected ${this.size} values for shape ${formatShape(this.shape)}, got ${v.length}`);
      if (checkNumerics()) expectFinite(where, v, this.shape);
      return v;
    });
    this._storage = storage;
    this._track(storage);
    this._giveBack();
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
    if (!this._storage) return;
    this._storage = null;
    this._giveBack();
    live.tensors--;
    live.bytes -= this.size * 4;
    for (const s of scopes) s.delete(this);
    this.grad?.dispose();
    this.grad = null;
    this.releaseGraph();
  }

  /** Internal (tidy): keeps `tensors` of this tensor's graph alive until its backward is done or it is disposed. */
  holdGraph(tensors: Iterable<Tensor>): void {
    for (const t of tensors) {
      t._holders++;
      this._held.push(t);
    }
  }

  /** Disposes the held tensors that no other tensor holds. */
  private releaseGraph(): void {
    const held = this._held;
    this._held = [];
    for (const t of held) if (--t._holders === 0) t.dispose();
  }

  /**
   * Backpropagates from this tensor: accumulates d(this)/d(leaf) into every leaf that
   * requires grad. A non-scalar tensor needs `gradOutput` of its shape, as in PyTorch.
   * Resolves when every gradient is computed.
   */
  async backward(gradOutput?: Tensor): Promise<void> {
    if (this.isDisposed) this.storageOf('Tensor.backward'); // throws the DisposedError
    if (!this._requiresGrad) {
      throw new ValueError(`Tensor.backward: expected a tensor that requires grad, got one of shape ${formatShape(this.shape)} that does not require grad (no input of its graph has requiresGrad)`);
    }
    if (this._graphFreed) {
      throw new DisposedError(`Tensor.backward: expected a graph to backpropagate through, got a tensor of shape ${formatShape(this.shape)} whose graph ` +
        '(kept alive by tidy() for one backward) was freed by its first backward(); compute it again, or make it outside tidy() to backpropagate twice');
    }
    if (!gradOutput && this.size !== 1) {
      throw new ShapeError(`Tensor.backward: a gradient can only be implied for a 1-element tensor, got shape ${formatShape(this.shape)}; pass gradOutput`);
    }
    if (gradOutput !== undefined) {
      if (!(gradOutput instanceof Tensor)) throw new ValueError(`Tensor.backward: expected gradOutput to be a Tensor, got ${describe(gradOutput)}`);
      if (!sameShape(gradOutput.shape, this.shape)) {
        throw new ShapeError(`Tensor.backward: expected gradOutput of shape ${formatShape(this.shape)}, got ${formatShape(gradOutput.shape)}`);
      }
    }
    try {
      await this.backpropagate(gradOutput);
    } finally {
      if (this._held.length) {
        this._graphFreed = true;
        this.releaseGraph();
      }
    }
  }

  private async backpropagate(gradOutput: Tensor | undefined): Promise<void> {
    const order = topologicalOrder(this);
    const leaves: Tensor[] = [];
    // A gradient tensor can reach two leaves (add passes g to both inputs) or be the
    // caller's own gradOutput: each leaf's .grad gets a tensor that it alone owns.
    const handedOut = new Set<Tensor>(gradOutput ? [gradOutput] : []);
    await tidy(async () => {
      noGrad(() => {
        const grads = new Map<Tensor, Tensor>();
        grads.set(this, gradOutput ?? new Tensor(this.shape, Promise.resolve(new Float32Array(this.size).fill(1))));
        for (let i = order.length - 1; i >= 0; i--) {
          const t = order[i];
          const g = grads.get(t);
          if (!g) continue;
          if (!t.node) {
            if (t.isDisposed) continue; // a gradient nobody can read (the leaf's own would go with it)
            leaves.push(t);
            let total = t.grad ? accumulate(t.grad, g) : g;
            if (handedOut.has(total)) total = copyOf(total);
            handedOut.add(total);
            t.grad?.dispose();
            t.grad = keep(total);
            continue;
          }
          const inputGrads = t.node.backward(g);
          t.node.inputs.forEach((input, k) => {
            const gi = inputGrads[k];
            if (!gi || !input.requiresGrad) return;
            if (!sameShape(gi.shape, input.shape)) {
              // a bug in an op's backward, not a wrong use
              throw new Error(`${t.node!.op} (backward): gradient for input ${k} has shape ${formatShape(gi.shape)}, expected ${formatShape(input.shape)}`);
            }
            const prev = grads.get(input);
            grads.set(input, prev ? accumulate(prev, gi) : gi);
          });
        }
      });
      await Promise.all(leaves.map((t) => t.grad!.settled('Tensor.backward')));
    });
  }

  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)}${this._requiresGrad ? ', requiresGrad' : ''}${this.isDisposed ? ', disposed' : ''})`;
  }
}

/** a + b for gradients of the same size; the shape is a's. */
function accumulate(a: Tensor, b: Tensor): Tensor {
  return new Tensor(a.shape, withValues('grad accumulation', [a, b], ([x, y]) => gradAdd(x, y)));
}

function copyOf(t: Tensor): Tensor {
  return new Tensor(t.shape, withValues('grad copy', [t], ([v]) => {
    const copy = allocate(v.length);
    copy.set(v);
    return copy;
  }));
}

/**
 * Internal, for ops and optimisers: runs `fn` on the values of `tensors` once they are
 * ready, with each tensor pinned until `fn` has finished, so that a tensor disposed
 * meanwhile keeps its array out of the pool. Throws at once if a tensor is disposed.
 */
export function withValues<T>(where: string, tensors: readonly Tensor[], fn: (values: Float32Array[]) => T | Promise<T>): Promise<T> {
  tensors.forEach((t, i) => {
    if (t.isDisposed) {
      throw new DisposedError(`${where}: expected live inputs, got input ${i} (shape ${formatShape(t.shape)}), which was disposed` +
        (where.includes('(backward)') ? '; backward() needs it: keep a graph\'s tensors alive until its backward() (a loss returned from tidy() keeps them)' : ''));
    }
  });
  const ready = Promise.all(tensors.map((t) => t.pin(where)));
  return ready.then(async (values) => {
    const out = await fn(values);
    // an op that returns one of its inputs' arrays: two tensors now hold it
    if (out instanceof Float32Array && values.includes(out)) shared.add(out);
    return out;
  }).finally(() => tensors.forEach((t) => t.unpin()));
}

/** Set by lib/ops.ts: the elementwise add kernel, used to accumulate gradients. */
let gradAdd: (a: Float32Array, b: Float32Array) => Promise<Float32Array> = async (a, b) => a.map((v, i) => v + b[i]);
export function setGradAccumulator(fn: (a: Float32Array, b: Float32Array) => Promise<Float32Array>): void {
  gradAdd = fn;
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // iterative DFS: VGG graphs are deep enough that recursion depth is worth avoiding
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const input of t.node?.inputs ?? []) {
      if (input.requiresGrad && !seen.has(input)) stack.push([input, false]);
    }
  }
  return order;
}

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
  const needsGrad = gradEnabled && !!backward && inputs.some((t) => t.requiresGrad);
  const out = new Tensor(shape, storage, needsGrad);
  if (needsGrad) out.node = { op, inputs, backward: backward! };
  return out;
}

/** Runs fn without recording the graph (evaluation, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    const result = fn();
    if (isPromise(result)) {
      return result.finally(() => {
        gradEnabled = previous;
      }) as T;
    }
    gradEnabled = previous;
    return result;
  } catch (e) {
    gradEnabled = previous;
    throw e;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

function isPromise(x: unknown): x is Promise<unknown> {
  return !!x && typeof (x as { then?: unknown }).then === 'function';
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

/** Every tensor that `root`'s backward can reach: the inputs of its graph's nodes, all the way down. */
function graphOf(root: Tensor): Set<Tensor> {
  const seen = new Set<Tensor>();
  const stack = [root];
  while (stack.length) {
    for (const input of stack.pop()!.node?.inputs ?? []) {
      if (seen.has(input)) continue;
      seen.add(input);
      stack.push(input);
    }
  }
  return seen;
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
  for (const k of holders) {
    if (!k.node || k.isDisposed) continue;
    const held = [...graphOf(k)].filter((t) => scope.has(t) && !kept.has(t));
    for (const t of held) scope.delete(t);
    k.holdGraph(held);
  }
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
export function memory(): { tensors: number; bytes: number } {
  return { ...live };
}

export function zeros(shape: Shape, options: { requiresGrad?: boolean } = {}): Tensor {
  return new Tensor(shape, Promise.resolve(newValues('zeros', shape)), options.requiresGrad ?? false);
}

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
