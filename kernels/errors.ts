/**
 * The errors a user can cause. Every one is a `VerydeepError`, so `catch (e) { if (e
 * instanceof VerydeepError) ... }` tells a wrong use from a bug; the subclass says what
 * kind of wrong use. Every message names the function (or the CLI flag), what it expected
 * and what it got.
 *
 * This module imports nothing, so any layer (kernels included) can throw these.
 *
 *   VerydeepError
 *   ├─ ShapeError       a tensor's shape or rank does not fit the op, layer or model
 *   ├─ ValueError       a number or option out of range, a non-number where numbers go, a size too large to allocate
 *   ├─ NumericsError    checkNumerics found NaN/Inf in an op's output; the trainer's loss became NaN/Inf
 *   ├─ DisposedError    a tensor was used (or backward needed it) after dispose()
 *   ├─ BackendError     a mode that cannot run here, or a kernel past a backend's limits
 *   ├─ WeightsError     a weights file that is not valid safetensors, or does not match the model
 *   ├─ CheckpointError  a training checkpoint that is damaged or does not fit the run
 *   ├─ DataError        a dataset, image or folder that cannot be read or used
 *   ├─ LockError        another run holds the output folder
 *   └─ UsageError       a command-line flag or command that is wrong (the CLI exits 2)
 */
export class VerydeepError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // set explicitly rather than from the constructor's name, which a minifier may change
    Object.defineProperty(this, 'name', { value: 'VerydeepError', enumerable: false, configurable: true, writable: true });
  }
}

/** Declares a subclass whose `name` is `name` (kept through minification). */
function named(name: string) {
  return class extends VerydeepError {
    constructor(message: string, options?: { cause?: unknown }) {
      super(message, options);
      this.name = name;
    }
  };
}

export class ShapeError extends named('ShapeError') {}
export class ValueError extends named('ValueError') {}
export class NumericsError extends named('NumericsError') {}
export class DisposedError extends named('DisposedError') {}
export class BackendError extends named('BackendError') {}
export class WeightsError extends named('WeightsError') {}
export class CheckpointError extends named('CheckpointError') {}
export class DataError extends named('DataError') {}
export class LockError extends named('LockError') {}
export class UsageError extends named('UsageError') {}

/** The message of anything thrown (an Error's message, else its string form). */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A value as an error message shows what it got: numbers as themselves, strings quoted
 * with their type (so that the string '3' does not read as the number 3), objects by
 * their class ('an Array', 'a Tensor').
 */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v.length > 20 ? v.slice(0, 20) + '…' : v}' (a string)`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') {
    const name = (v as object).constructor?.name ?? 'Object';
    return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
  }
  return `${String(v)} (a ${typeof v})`;
}
