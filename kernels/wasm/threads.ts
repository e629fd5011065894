/**
 * The fast path's worker protocol: helper threads that run lists of calls of the module's
 * exports on its shared memory. A helper's worker runs wasm-worker.ts, which calls
 * serveJobs of this file, so this file imports no more than a worker needs. platform.ts
 * starts the worker (worker_threads in Node, a module Web Worker in a browser).
 */
import { BackendError } from '../errors.js';
import type { GemmModule } from './module.js';
import { type HelperWorker, canBlock, isNode, startWorker } from './platform.js';

/** One call of an export of the module; a thread's part of a job is a list of them. */
export type Call = [(typeof CALL_NAMES)[number], ...number[]];

// ---------------------------------------------------------------------------------------
// Helpers: worker threads that run lists of calls on the shared memory. A job reaches a
// helper through a channel of shared memory, not a message: the main thread writes the
// calls (CALL_NAMES index, argument count, arguments, as float64) and bumps POSTED; the
// helper, spinning for a moment and then asleep in Atomics.wait, runs them and sets DONE.
// A message would wake the helper's event loop, and the reply the main thread's: ~60 µs
// each way when the other side is busy, ~150 µs after a pause (measured here), and a
// training step runs ~140 jobs. The main thread spins on DONE as well, then sleeps in
// short Atomics.waits, and returns to its event loop every WAIT_SLICE_MS so that a dead
// worker's 'exit' event can reach it. A browser page's main thread may not block in
// Atomics.wait: it spins the same, then awaits Atomics.waitAsync (Chromium, Safari; where it
// is missing, a zero-delay timer), which returns to its event loop as a slice does.

const CALL_NAMES = ['gemm', 'gemvStream', 'gemvBatch', 'im2col', 'col2imAdd', 'batchPlanes', 'unbatchPlanes', 'flipFilters', 'winogradPad', 'winogradInput',
  'winogradOutput', 'winogradWeights', 'winogradInputQuad', 'winogradOutputQuad', 'winogradGradQuad', 'winogradGradInput', 'winogradGradWeights',
  'winograd4Input', 'winograd4Output', 'winograd4Weights', 'lrnForward', 'lrnBackward'] as const;
const CALL_INDEX = new Map<string, number>(CALL_NAMES.map((n, i) => [n, i]));
/** float64 slots of a channel's job (a longer list goes in several jobs, one after another) */
const CHANNEL_SLOTS = 1 << 14;
/** Int32 slots of the control block: the job posted, the job done, whether it failed, and the length of the error's text */
const POSTED = 0, DONE = 1, FAILED = 2, TEXT_LENGTH = 3;
const STOP = -1;
const ERROR_TEXT_BYTES = 1024;
/** Atomics.load polls before sleeping: ~0.1–0.2 ms, about the gap between two jobs of one launcher */
const SPINS = 1 << 15;
const WAIT_SLICE_MS = 20;

interface Channel {
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  text: SharedArrayBuffer;
}

interface WorkerSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  channel: Channel;
}

/** Writes the first `count` calls from slot 1 as CALL_NAMES index, argument count, arguments, and `count` to slot 0; false if they do not fit. */
function encode(calls: Call[], count: number, slots: Float64Array): boolean {
  let at = 1;
  for (let c = 0; c < count; c++) {
    const [name, ...args] = calls[c];
    if (at + 2 + args.length > slots.length) return false;
    slots[at++] = CALL_INDEX.get(name)!;
    slots[at++] = args.length;
    for (const a of args) slots[at++] = a;
  }
  slots[0] = count;
  return true;
}

/**
 * Spins, then sleeps in Atomics.wait (slices of sliceMs, at most `slices` of them), until
 * control[slot] differs from `from`; returns its value (`from` if it never changed).
 */
function waitChange(control: Int32Array, slot: number, from: number, sliceMs: number, slices: number): number {
  for (let i = 0; i < SPINS; i++) {
    const v = Atomics.load(control, slot);
    if (v !== from) return v;
  }
  for (let i = 0; i < slices; i++) {
    Atomics.wait(control, slot, from, sliceMs);
    const v = Atomics.load(control, slot);
    if (v !== from) return v;
  }
  return from;
}

/** waitChange for a thread that may not block: spins, then awaits one Atomics.waitAsync of sliceMs (or a zero-delay timer). */
async function waitChangeAsync(control: Int32Array, slot: number, from: number, sliceMs: number): Promise<number> {
  for (let i = 0; i < SPINS; i++) {
    const v = Atomics.load(control, slot);
    if (v !== from) return v;
  }
  const waitAsync = (Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number, ms: number) => { async: boolean; value: Promise<unknown> } }).waitAsync;
  if (waitAsync) {
    const w = waitAsync(control, slot, from, sliceMs);
    if (w.async) await w.value;
  } else {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return Atomics.load(control, slot);
}

/** a macrotask: Node's setImmediate, or a zero-delay timer */
const nextTask = () => new Promise((resolve) => (isNode ? setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * The worker side (wasm-worker.ts calls it with the setup Helper.start sent): instantiates
 * the module on the shared memory and runs the jobs of the channel for as long as the worker
 * lives, until STOP. It blocks its thread in Atomics.wait between jobs and never returns to
 * the event loop.
 */
export function serveJobs(setup: unknown): void {
  const { module, memory, channel } = setup as WorkerSetup;
  const m = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as GemmModule;
  const control = new Int32Array(channel.control), slots = new Float64Array(channel.slots), text = new Uint8Array(channel.text);
  let seen = 0;
  for (;;) {
    seen = waitChange(control, POSTED, seen, Infinity, Infinity);
    if (seen === STOP) break;
    try {
      const count = slots[0];
      for (let c = 0, at = 1; c < count; c++) {
        const fn = m[CALL_NAMES[slots[at]]] as (...a: number[]) => void;
        const n = slots[at + 1];
        fn(...slots.subarray(at + 2, at + 2 + n));
        at += 2 + n;
      }
    } catch (e) {
      const bytes = new TextEncoder().encode((e as Error).message).subarray(0, ERROR_TEXT_BYTES);
      text.set(bytes);
      Atomics.store(control, TEXT_LENGTH, bytes.length);
      Atomics.store(control, FAILED, 1);
    }
    Atomics.store(control, DONE, seen);
    Atomics.notify(control, DONE);
  }
}

/** A worker thread that runs lists of calls on the shared memory, one job at a time. */
export class Helper {
  private worker: HelperWorker | null = null;
  private readonly control: Int32Array;
  private readonly slots: Float64Array;
  private readonly text: Uint8Array;
  /** the last job posted and the last seen done (they differ while one runs) */
  private posted = 0;
  private done = 0;
  /** calls not posted yet: the rest of a list longer than the channel */
  private rest: Call[] = [];
  /** set when the worker died: every later job fails with it */
  private failure: Error | null = null;

  /** Starts a worker that instantiates `module` on `memory` (shared) and waits for jobs. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<Helper> {
    const helper = new Helper();
    const setup: WorkerSetup = { module, memory, channel: helper.channel };
    helper.worker = await startWorker(setup, (e) => {
      helper.failure ??= new BackendError(e.message);
    });
    return helper;
  }

  private readonly channel: Channel;

  private constructor() {
    const channel: Channel = {
      control: new SharedArrayBuffer(4 * 4),
      slots: new SharedArrayBuffer(8 * CHANNEL_SLOTS),
      text: new SharedArrayBuffer(ERROR_TEXT_BYTES),
    };
    this.control = new Int32Array(channel.control);
    this.slots = new Float64Array(channel.slots);
    this.text = new Uint8Array(channel.text);
    this.channel = channel;
  }

  /** Starts `calls` (as many as the channel holds; finish() posts the rest). */
  post(calls: Call[]): void {
    if (this.failure) throw this.failure;
    let count = calls.length;
    while (!encode(calls, count, this.slots)) {
      if (count === 1) throw new BackendError(`wasm fast path: a '${calls[0][0]}' call of ${calls[0].length - 1} arguments does not fit a helper's channel`);
      count = Math.ceil(count / 2);
    }
    this.rest = calls.slice(count);
    this.posted = (this.posted % 0x7ffffffe) + 1;
    Atomics.store(this.control, POSTED, this.posted);
    Atomics.notify(this.control, POSTED);
  }

  /** Waits for the posted calls, posting the rest of the list as each job is done; throws what a call threw. */
  async finish(): Promise<void> {
    for (;;) {
      while (this.done !== this.posted) {
        if (canBlock) {
          this.done = waitChange(this.control, DONE, this.done, WAIT_SLICE_MS, 1);
          if (this.done === this.posted) break;
          await nextTask(); // let a dead worker's 'exit' through
        } else {
          this.done = await waitChangeAsync(this.control, DONE, this.done, WAIT_SLICE_MS);
          if (this.done === this.posted) break;
        }
        if (this.failure) throw this.failure;
      }
      if (Atomics.load(this.control, FAILED)) {
        const message = new TextDecoder().decode(this.text.slice(0, Atomics.load(this.control, TEXT_LENGTH)));
        Atomics.store(this.control, FAILED, 0);
        this.rest = [];
        throw new BackendError(`wasm fast path worker: ${message}`);
      }
      if (!this.rest.length) return;
      this.post(this.rest);
    }
  }

  terminate(): void {
    Atomics.store(this.control, POSTED, STOP);
    Atomics.notify(this.control, POSTED);
    this.worker?.terminate();
  }
}
