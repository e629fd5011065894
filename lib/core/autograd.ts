/**
 * The autograd graph and its backward (micrograd's shape, tinygrad's discipline).
 *
 * An op whose inputs require grad records a node (its inputs and a backward closure written
 * right beside its forward in lib/core/ops.ts). `backward()` walks the nodes in reverse
 * topological order and accumulates into the `.grad` of the leaves.
 *
 * This file never imports Tensor (lib/core/tensor.ts imports it): it works on GraphTensor,
 * which Tensor implements, and the Tensor side hands it what makes and scopes tensors
 * (TensorKit).
 */
import { allocate } from '../../kernels/pool.js';
import { DisposedError, ShapeError, ValueError, describeValue as describe } from './errors.js';
import { formatShape, sameShape } from './values.js';
import { withValues, type Pinnable } from './storage.js';

export interface GradNode<T> {
  /** the op that made the tensor, for error messages */
  op: string;
  inputs: readonly T[];
  /** gradient of the loss with respect to each input, or null where none is needed */
  backward(gradOutput: T): (T | null)[];
}

/** What the graph walk needs of a tensor (Tensor is one). */
export interface GraphTensor extends Pinnable {
  readonly size: number;
  readonly requiresGrad: boolean;
  grad: GraphTensor | null;
  node: GradNode<GraphTensor> | null;
  dispose(): void;
  settled(where: string): Promise<void>;
}

/** What the backward needs from the Tensor side: making and recognising a tensor, and tidy/keep. */
export interface TensorKit<T extends GraphTensor> {
  isTensor(x: unknown): x is T;
  make(shape: readonly number[], storage: Promise<Float32Array>): T;
  tidy<R>(fn: () => R): R;
  keep(t: T): T;
}

/**
 * How many noGrad() calls are under way. A count, not a saved flag: an async noGrad ends
 * when its promise settles, so two of them can overlap (A starts, B starts, A ends, B ends),
 * and restoring each one's "previous" flag would leave recording off after B. With a count
 * recording is back on when the last one ends, whatever the order.
 */
let noGradDepth = 0;

/** Runs fn without recording the graph (evaluation, optimiser updates); an async fn, until its promise settles. */
export function noGrad<T>(fn: () => T): T {
  noGradDepth++;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    noGradDepth--;
    throw e;
  }
  if (isPromise(result)) {
    return result.finally(() => {
      noGradDepth--;
    }) as T;
  }
  noGradDepth--;
  return result;
}

/** Whether ops record the graph now: false inside noGrad(). */
export function isGradEnabled(): boolean {
  return noGradDepth === 0;
}

export function isPromise(x: unknown): x is Promise<unknown> {
  return !!x && typeof (x as { then?: unknown }).then === 'function';
}

/** Set by lib/core/ops.ts: the elementwise add kernel, used to accumulate gradients. */
let gradAdd: (a: Float32Array, b: Float32Array) => Promise<Float32Array> = async (a, b) => a.map((v, i) => v + b[i]);
export function setGradAccumulator(fn: (a: Float32Array, b: Float32Array) => Promise<Float32Array>): void {
  gradAdd = fn;
}

/**
 * Tensor.backward, once `root` is known to be live: checks that there is a graph to walk and
 * a gradOutput of root's shape (or none, for a 1-element root), walks it (backpropagate),
 * then frees the graph that a tidy() held for this backward, so that a second one throws.
 */
export async function runBackward<T extends GraphTensor>(root: T, gradOutput: T | undefined, held: HeldGraph, kit: TensorKit<T>): Promise<void> {
  if (!root.requiresGrad) {
    throw new ValueError(`Tensor.backward: expected a tensor that requires grad, got one of shape ${formatShape(root.shape)} that does not require grad (no input of its graph has requiresGrad)`);
  }
  if (held.freed) {
    throw new DisposedError(`Tensor.backward: expected a graph to backpropagate through, got a tensor of shape ${formatShape(root.shape)} whose graph ` +
      '(kept alive by tidy() for one backward) was freed by its first backward(); compute it again, or make it outside tidy() to backpropagate twice');
  }
  if (!gradOutput && root.size !== 1) {
    throw new ShapeError(`Tensor.backward: a gradient can only be implied for a 1-element tensor, got shape ${formatShape(root.shape)}; pass gradOutput`);
  }
  if (gradOutput !== undefined) {
    if (!kit.isTensor(gradOutput)) throw new ValueError(`Tensor.backward: expected gradOutput to be a Tensor, got ${describe(gradOutput)}`);
    if (!sameShape(gradOutput.shape, root.shape)) {
      throw new ShapeError(`Tensor.backward: expected gradOutput of shape ${formatShape(root.shape)}, got ${formatShape(gradOutput.shape)}`);
    }
  }
  try {
    await backpropagate(root, gradOutput, kit);
  } finally {
    if (!held.isEmpty) {
      held.freed = true;
      held.release();
    }
  }
}

/**
 * Backpropagates from `root`: accumulates d(root)/d(leaf) into the `.grad` of every leaf
 * that requires grad, seeding with `gradOutput` (ones when it is undefined; runBackward
 * has checked it). Resolves when every gradient is computed.
 */
async function backpropagate<T extends GraphTensor>(root: T, gradOutput: T | undefined, kit: TensorKit<T>): Promise<void> {
  const order = topologicalOrder(root) as T[];
  const leaves: T[] = [];
  // A gradient tensor can reach two leaves (add passes g to both inputs) or be the
  // caller's own gradOutput: each leaf's .grad gets a tensor that it alone owns.
  const handedOut = new Set<T>(gradOutput ? [gradOutput] : []);
  /** a + b for gradients of the same size; the shape is a's. */
  const accumulate = (a: T, b: T): T => kit.make(a.shape, withValues('grad accumulation', [a, b], ([x, y]) => gradAdd(x, y)));
  const copyOf = (t: T): T => kit.make(t.shape, withValues('grad copy', [t], ([v]) => {
    const copy = allocate(v.length);
    copy.set(v);
    return copy;
  }));
  await kit.tidy(async () => {
    noGrad(() => {
      const grads = new Map<T, T>();
      grads.set(root, gradOutput ?? kit.make(root.shape, Promise.resolve(new Float32Array(root.size).fill(1))));
      for (let i = order.length - 1; i >= 0; i--) {
        const t = order[i];
        const g = grads.get(t);
        if (!g) continue;
        if (!t.node) {
          if (t.isDisposed) continue; // a gradient nobody can read (the leaf's own would go with it)
          leaves.push(t);
          let total = t.grad ? accumulate(t.grad as T, g) : g;
          if (handedOut.has(total)) total = copyOf(total);
          handedOut.add(total);
          t.grad?.dispose();
          t.grad = kit.keep(total);
          continue;
        }
        const inputGrads = t.node.backward(g);
        t.node.inputs.forEach((input, k) => {
          const gi = inputGrads[k] as T | null;
          if (!gi || !input.requiresGrad) return;
          if (!sameShape(gi.shape, input.shape)) {
            // a bug in an op's backward, not a wrong use
            throw new Error(`${t.node!.op} (backward): gradient for input ${k} has shape ${formatShape(gi.shape)}, expected ${formatShape(input.shape)}`);
          }
          const prev = grads.get(input as T);
          grads.set(input as T, prev ? accumulate(prev, gi) : gi);
        });
      }
    });
    await Promise.all(leaves.map((t) => t.grad!.settled('Tensor.backward')));
  });
}

function topologicalOrder(root: GraphTensor): GraphTensor[] {
  const order: GraphTensor[] = [];
  const seen = new Set<GraphTensor>();
  // iterative DFS: VGG graphs are deep enough that recursion depth is worth avoiding
  const stack: [GraphTensor, boolean][] = [[root, false]];
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

/** Every tensor that `root`'s backward can reach: the inputs of its graph's nodes, all the way down (what tidy holds for it). */
export function graphOf<T extends GraphTensor>(root: T): T[] {
  const seen = new Set<T>();
  const stack: GraphTensor[] = [root];
  while (stack.length) {
    for (const input of stack.pop()!.node?.inputs ?? []) {
      if (seen.has(input as T)) continue;
      seen.add(input as T);
      stack.push(input);
    }
  }
  return [...seen];
}

/** how many HeldGraphs hold each tensor: a held tensor is disposed when the last lets go */
const holderCounts = new WeakMap<GraphTensor, number>();

/**
 * The tensors of a tensor's graph that a tidy() would have disposed when it returned that
 * tensor: they are kept alive for its backward() and disposed when the backward is done or
 * the tensor is disposed (a tensor held by several is disposed when the last lets go).
 */
export class HeldGraph {
  private held: GraphTensor[] = [];
  /** backward() ran and freed the held graph: a second backward cannot run */
  freed = false;

  get isEmpty(): boolean {
    return this.held.length === 0;
  }

  hold(tensors: Iterable<GraphTensor>): void {
    for (const t of tensors) {
      holderCounts.set(t, (holderCounts.get(t) ?? 0) + 1);
      this.held.push(t);
    }
  }

  /** Disposes the held tensors that no other tensor holds. */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const t of held) {
      const n = holderCounts.get(t)! - 1;
      holderCounts.set(t, n);
      if (n === 0) t.dispose();
    }
  }
}
