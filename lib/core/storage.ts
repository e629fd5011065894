/**
 * Storage ownership: which tensor owns each array, pinning, and giving arrays back to the
 * storage pool (kernels/pool.ts). Each Tensor holds one Storage; this file never imports
 * Tensor (withValues works on anything that pins, which a Tensor does through its Storage).
 *
 * A freed array goes to the pool for the next op's output of the same length, once it is
 * safe: the tensor that owns it (the first whose storage resolved to it) is disposed, or has
 * had new values assigned; no op or read is still using it (each pins the tensor while it
 * runs); and it was never handed out raw by `storage()`.
 */
import { release, settle } from '../../kernels/pool.js';
import { DisposedError } from './errors.js';
import { formatShape } from './values.js';

/** the Storage that owns each array: the first whose promise resolved to it; only it gives the array back */
const owners = new WeakMap<Float32Array, Storage>();
/** arrays that an op returned as its output while also an input: two tensors hold them, so they never go back */
const shared = new WeakSet<Float32Array>();

/** One tensor's storage: its current promise, the arrays it owns, and who is using them. */
export class Storage {
  private _storage: Promise<Float32Array> | null;
  /** the values of _storage once it has resolved */
  private _values: Float32Array | null = null;
  /** ops and reads now using this tensor's storage (pin / unpin) */
  private _pins = 0;
  /** the storage was handed out raw by storage(): none of this tensor's arrays is pooled again */
  private _escaped = false;
  /** earlier arrays (replaced by assign, or resolved after dispose) to give back when unpinned */
  private _retired: Float32Array[] = [];

  /** `owner` is named in a DisposedError ("tensor #3 of shape [2, 2]"). */
  constructor(storage: Promise<Float32Array>, private readonly owner: { readonly id: number; readonly shape: readonly number[] }) {
    this._storage = storage;
    this._track(storage);
  }

  get isDisposed(): boolean {
    return this._storage === null;
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

  /** The storage promise, held open until unpin(): ops and reads use it so that the array is not reused meanwhile. */
  pin(where: string): Promise<Float32Array> {
    const storage = this.get(where);
    this._pins++;
    return storage;
  }

  /** Ends a pin(). */
  unpin(): void {
    this._pins--;
    this._giveBack();
  }

  /** The storage promise, handed out raw: none of this tensor's arrays is pooled afterwards. */
  escape(where: string): Promise<Float32Array> {
    const storage = this.get(where);
    this._escaped = true;
    return storage;
  }

  /** The storage promise; throws a DisposedError with the op's name if disposed. */
  get(where: string): Promise<Float32Array> {
    if (!this._storage) {
      throw new DisposedError(`${where}: expected a live tensor, got tensor #${this.owner.id} of shape ${formatShape(this.owner.shape)}, which was disposed`);
    }
    return this._storage;
  }

  /** Replaces the storage promise (assign): the current array is retired, to go back when unpinned. */
  replace(storage: Promise<Float32Array>): void {
    if (this._values) this._retired.push(this._values);
    this._values = null;
    this._storage = storage;
    this._track(storage);
    this._giveBack();
  }

  /** Drops the storage (dispose): its array goes back once nothing uses it. */
  free(): void {
    this._storage = null;
    this._giveBack();
  }
}

/** What withValues needs of a tensor: it pins (a Tensor does, through its Storage). */
export interface Pinnable {
  readonly shape: readonly number[];
  readonly isDisposed: boolean;
  pin(where: string): Promise<Float32Array>;
  unpin(): void;
}

/**
 * Internal, for ops and optimisers: runs `fn` on the values of `tensors` once they are
 * ready, with each tensor pinned until `fn` has finished, so that a tensor disposed
 * meanwhile keeps its array out of the pool. Throws at once if a tensor is disposed.
 */
export function withValues<T>(where: string, tensors: readonly Pinnable[], fn: (values: Float32Array[]) => T | Promise<T>): Promise<T> {
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
