/**
 * The fast path's resident filters: the store that keeps them in the module's memory between
 * calls, its least-recently-used eviction and its placement (filters.ts fills it).
 */
import { align64 } from './module.js';

// ---------------------------------------------------------------------------------------
// Resident filters. A parameter's values do not change while a tensor holds them (the
// tensor core marks such arrays settled, kernels/pool.ts), so its filters, and what the
// launchers make of them (turned by 180°, Winograd's U = G·g·Gᵀ), stay in the memory
// between calls, keyed by the array: tfjs-wasm keeps its weights in its heap the same way.
// An array handed back to the pool, or collected, loses its entries. At most
// RESIDENT_BYTES stay; beyond that the least recently used go.

/** the most bytes of resident filters by default (VGG-16's 138 M parameters take 553 MB) */
export const RESIDENT_BYTES = 768 * 2 ** 20;

/** what is resident for an array: the filters themselves, turned, or Winograd-transformed (plain or turned) */
export type FilterKind = 'w' | 'flip' | 'winograd' | 'winograd-flip' | 'winograd4' | 'winograd4-flip';

export interface ResidentEntry {
  array: WeakRef<Float32Array>;
  kind: FilterKind;
  at: number;
  bytes: number;
  used: number;
}

export interface ResidentStore {
  /** [start, end): the region the entries and the holes between them take */
  start: number;
  end: number;
  entries: ResidentEntry[];
  byArray: WeakMap<Float32Array, Map<FilterKind, ResidentEntry>>;
  /** what each array was used as once already: the second use makes it resident */
  seen: WeakMap<Float32Array, Set<FilterKind>>;
  clock: number;
  bytes: number;
}

export function newResidentStore(start: number): ResidentStore {
  return { start, end: start, entries: [], byArray: new WeakMap(), seen: new WeakMap(), clock: 0, bytes: 0 };
}

export function forget(store: ResidentStore, e: ResidentEntry): void {
  store.entries.splice(store.entries.indexOf(e), 1);
  store.bytes -= e.bytes;
  const a = e.array.deref();
  if (a) store.byArray.get(a)?.delete(e.kind);
  store.end = store.entries.reduce((end, x) => Math.max(end, align64(x.at + x.bytes)), store.start);
}

/** forgets the least recently used entries until at most `bytes` stay */
export function evictTo(store: ResidentStore, bytes: number): void {
  while (store.bytes > bytes) forget(store, store.entries.reduce((a, b) => (a.used <= b.used ? a : b)));
}

/** an address in the region for `bytes`: the first hole that fits, else the end */
export function residentSlot(store: ResidentStore, bytes: number): number {
  const taken = [...store.entries].sort((a, b) => a.at - b.at);
  let at = store.start;
  for (const e of taken) {
    if (e.at - at >= bytes) return at;
    at = Math.max(at, align64(e.at + e.bytes));
  }
  return at;
}
