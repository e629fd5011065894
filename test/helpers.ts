/**
 * Test helpers: which modes to run, error measures, the gradcheck, and a record of every
 * kernel check (its largest error) that the runner prints at the end.
 *
 * Tolerances (stated once, used everywhere):
 *  - a float32 kernel against its float64 reference: the largest absolute difference,
 *    divided by the largest magnitude of the reference (at least 1), must stay below
 *    KERNEL_TOL = 1e-4 (float32 carries ~6e-8 relative error per operation; the reductions
 *    here add at most a few thousand terms);
 *  - autograd gradients (float32, every mode) against central finite differences of the
 *    float64 reference forward (h = 1e-6): GRAD_TOL = 1e-3 by the same measure;
 *  - a float64 reference backward against finite differences: REF_TOL = 1e-6.
 */
import { setBackend, type Mode } from '../lib/core/backend.js';
import { Tensor } from '../lib/core/tensor.js';
import { Rng } from '../lib/core/random.js';

/** The assertions a check uses: tape's Test has them, and so does the browser's recorder. */
export interface Assert {
  ok(value: unknown, msg?: string): void;
  equal(actual: unknown, expected: unknown, msg?: string): void;
  deepEqual(actual: unknown, expected: unknown, msg?: string): void;
  notDeepEqual(actual: unknown, expected: unknown, msg?: string): void;
  fail(msg?: string): void;
}

export const KERNEL_TOL = 1e-5;
export const GRAD_TOL = 1e-4;
export const REF_TOL = 1e-6;

/** The modes to check: from VERYDEEP_TEST_MODES, else every mode that starts here. */
export async function modesToTest(): Promise<{ modes: Mode[]; skipped: string[] }> {
  const wanted = (process.env.VERYDEEP_TEST_MODES ?? 'cpu,webasm,wasm,headlessgl').split(',').map((s) => s.trim()) as Mode[];
  const required = new Set((process.env.VERYDEEP_REQUIRE_MODES ?? 'cpu,webasm,wasm').split(',').map((s) => s.trim()));
  const modes: Mode[] = [];
  const skipped: string[] = [];
  for (const mode of wanted) {
    try {
      await setBackend(mode);
      modes.push(mode);
    } catch (e) {
      if (required.has(mode)) throw new Error(`required test mode ${mode} cannot run: ${(e as Error).message}`);
      skipped.push(`${mode}: ${(e as Error).message}`);
    }
  }
  return { modes, skipped };
}

/** max |got − ref| / max(1, max |ref|) */
export function normalizedError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) return Infinity;
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    if (!(d <= diff)) diff = d; // NaN wins
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return diff / scale;
}

export interface CheckRecord {
  family: string;
  pass: string;
  mode: Mode | 'reference';
  error: number;
  tolerance: number;
  what: string;
}

export const checks: CheckRecord[] = [];

/** every bad input a test tried, by the class of error it must give (printed at the end of a run) */
export const badInputs = new Map<string, number>();

type ErrorClass = abstract new (...args: never[]) => Error;

function count(cls: ErrorClass): void {
  badInputs.set(cls.name, (badInputs.get(cls.name) ?? 0) + 1);
}

function checkNamed(t: Assert, e: unknown, cls: ErrorClass, patterns: RegExp[], what: string): void {
  const msg = e instanceof Error ? e.message : String(e);
  const name = e instanceof Error ? e.name : typeof e;
  const fits = e instanceof cls && e.name === cls.name && patterns.every((p) => p.test(msg));
  t.ok(fits, `${what}: ${name}: ${msg}${e instanceof cls ? '' : ` (expected a ${cls.name})`}`);
}

/** asserts that fn throws an error of class `cls` (and name) whose message matches every pattern; counts it in badInputs */
export function throwsNamed(t: Assert, fn: () => unknown, cls: ErrorClass, patterns: RegExp[], what: string): void {
  count(cls);
  try {
    fn();
  } catch (e) {
    checkNamed(t, e, cls, patterns, what);
    return;
  }
  t.fail(`${what}: expected a ${cls.name}`);
}

/** asserts that fn rejects (or throws) with an error of class `cls` whose message matches every pattern; counts it in badInputs */
export async function rejectsNamed(t: Assert, fn: () => Promise<unknown>, cls: ErrorClass, patterns: RegExp[], what: string): Promise<void> {
  count(cls);
  try {
    await fn();
  } catch (e) {
    checkNamed(t, e, cls, patterns, what);
    return;
  }
  t.fail(`${what}: expected a ${cls.name}`);
}

/** Asserts got ≈ ref and records the error for the coverage summary. */
export function expectClose(t: Assert, got: ArrayLike<number>, ref: ArrayLike<number>, r: Omit<CheckRecord, 'error' | 'tolerance'>, tolerance = KERNEL_TOL): void {
  const error = normalizedError(got, ref);
  checks.push({ ...r, error, tolerance });
  t.ok(error < tolerance, `${r.family} ${r.pass} on ${r.mode} (${r.what}): error ${error.toExponential(2)} < ${tolerance}`);
}

export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * scale);
}

/**
 * Central finite differences of L(x) = Σ dy · f(inputs) with respect to every element of
 * every input in `wrt`, on the float64 reference f.
 */
export function finiteDifferences(f: (inputs: Float64Array[]) => ArrayLike<number>, inputs: ArrayLike<number>[], dy: ArrayLike<number>, wrt: number[], h = 1e-6): Float64Array[] {
  const xs = inputs.map((a) => Float64Array.from(a));
  const loss = () => {
    const y = f(xs);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * dy[i];
    return s;
  };
  return wrt.map((k) => {
    const g = new Float64Array(xs[k].length);
    for (let i = 0; i < g.length; i++) {
      const keep = xs[k][i];
      xs[k][i] = keep + h;
      const up = loss();
      xs[k][i] = keep - h;
      const down = loss();
      xs[k][i] = keep;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  });
}

/**
 * The gradcheck: runs `op` on Tensors of `inputs` (on the current mode), backpropagates
 * dy, and compares each input's gradient with finite differences of the float64 `ref`.
 */
export async function gradcheck(t: Assert, family: string, mode: Mode, op: (ts: Tensor[]) => Tensor, ref: (inputs: Float64Array[]) => ArrayLike<number>,
  inputs: { data: Float32Array; shape: number[]; grad?: boolean }[], seed = 99): Promise<void> {
  const ts = inputs.map((i) => Tensor.from(i.data, i.shape, { requiresGrad: i.grad !== false }));
  const y = op(ts);
  const dy = randomArray(y.size, seed);
  await y.backward(Tensor.from(dy, y.shape));
  const wrt = inputs.map((i, k) => (i.grad !== false ? k : -1)).filter((k) => k >= 0);
  const fd = finiteDifferences(ref, inputs.map((i) => i.data), dy, wrt);
  for (let j = 0; j < wrt.length; j++) {
    const got = await ts[wrt[j]].grad!.data();
    expectClose(t, got, fd[j], { family, pass: `gradcheck input ${wrt[j]}`, mode, what: 'autograd vs finite differences of the float64 reference' }, GRAD_TOL);
  }
  ts.forEach((x) => { x.grad?.dispose(); x.dispose(); });
  y.dispose();
}
