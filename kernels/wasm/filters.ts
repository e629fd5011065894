/**
 * The filters as the launchers use them (as they are, turned by 180°, or Winograd-transformed)
 * at an address in the module's memory: resident between calls (resident.ts) where they
 * may be, else made anew in the call's reserved memory.
 */
import { isSettled } from '../pool.js';
import { type WinogradTile, MAXIMUM_PAGES, PAGE, align64 } from './module.js';
import type { Call } from './threads.js';
import { type FilterKind, type ResidentEntry, evictTo, forget, residentSlot } from './resident.js';
import { type FastPath, callBase, ensureBytes, place, reserve, runParts, split, view } from './runtime.js';

/**
 * The filters `w` as the launchers use them (`kind`, `floats` long), at a byte address:
 * resident when `w` is settled, used as `kind` before, and fits, made by `make(at)` the
 * first time; else made into this call's reserved memory. Must be called before the call
 * places its buffers.
 */
async function filtersOf(fp: FastPath, w: Float32Array, kind: FilterKind, floats: number, make: (at: number) => Promise<void>): Promise<number> {
  const store = fp.resident;
  const bytes = floats * 4;
  const known = store.byArray.get(w)?.get(kind);
  if (known) {
    known.used = ++store.clock;
    return known.at;
  }
  // resident from the second use: during training a parameter's array serves one step (once
  // as w, once turned), and copying it into resident memory would only churn that memory
  let uses = store.seen.get(w);
  const again = !!uses?.has(kind);
  if (isSettled(w) && !again) {
    if (!uses) store.seen.set(w, (uses = new Set()));
    uses.add(kind);
  }
  if (again && isSettled(w) && bytes <= fp.residentBytes && fp.callTop === callBase(fp)) {
    for (const e of [...store.entries]) if (!e.array.deref()) forget(store, e);
    evictTo(store, fp.residentBytes - bytes);
    const at = residentSlot(store, bytes);
    if (align64(at + bytes) < MAXIMUM_PAGES * PAGE) {
      const e: ResidentEntry = { array: new WeakRef(w), kind, at, bytes, used: ++store.clock };
      store.entries.push(e);
      store.bytes += bytes;
      store.end = Math.max(store.end, align64(at + bytes));
      ensureBytes(fp, store.end);
      fp.callTop = callBase(fp);
      let kinds = store.byArray.get(w);
      if (!kinds) store.byArray.set(w, (kinds = new Map()));
      kinds.set(kind, e);
      try {
        await make(at);
      } catch (err) {
        forget(store, e);
        fp.callTop = callBase(fp);
        throw err;
      }
      return at;
    }
  }
  const at = reserve(fp, floats);
  await make(at);
  return at;
}

/** w [cout][cin][K][K] copied in, at an address (resident or reserved) */
export function plainFilters(fp: FastPath, w: Float32Array): Promise<number> {
  return filtersOf(fp, w, 'w', w.length, async (at) => {
    view(fp, at, w.length).set(w);
  });
}

/**
 * The filters of a convolution written as a forward pass, [cout][cin][K][K]: w itself, or
 * for the gradient to the input (flip) w turned by 180°, in and out swapped (gemm.as's
 * flipFilters, by rows on the threads).
 */
export function forwardFilters(fp: FastPath, w: Float32Array, cin: number, cout: number, K: number, flip: boolean, threads: number): Promise<number> {
  if (!flip) return plainFilters(fp, w);
  return filtersOf(fp, w, 'flip', w.length, async (at) => {
    const [wAt] = place(fp, w.length);
    view(fp, wAt, w.length).set(w);
    await runParts(fp, split(cout, threads).map((p): Call[] => [['flipFilters', wAt, cin, cout, K, p.start, p.count, at]]));
  });
}

/**
 * Winograd's U = G·g·Gᵀ [cout][α²][cin] of the forward filters (turned for flip), by output
 * channels on the threads: F(2×2, 3×3)'s 4×4 (tile 2, winograd.as) or F(4×4, 3×3)'s 6×6
 * (tile 4, winograd4.as).
 */
export function winogradFilters(fp: FastPath, w: Float32Array, cin: number, cout: number, flip: boolean, threads: number, tile: WinogradTile): Promise<number> {
  const kind: FilterKind = tile === 4 ? (flip ? 'winograd4-flip' : 'winograd4') : flip ? 'winograd-flip' : 'winograd';
  return filtersOf(fp, w, kind, (tile + 2) ** 2 * cin * cout, async (at) => {
    const [wAt] = place(fp, w.length);
    view(fp, wAt, w.length).set(w);
    await runParts(fp, split(cout, threads).map((p, t): Call[] => [tile === 4
      ? ['winograd4Weights', wAt, cout, cin, p.start, p.count, at, flip ? 1 : 0, fp.scratch[t]]
      : ['winogradWeights', wAt, cout, cin, p.start, p.count, at, flip ? 1 : 0]]));
  });
}
