/**
 * The fast path's runtime: the module loaded (relaxed SIMD where possible) and warmed up,
 * the helper threads, the memory the launchers place their buffers in (reserve, place,
 * view, copyOut), the queue that runs launchers one at a time (withFastPath), and runParts,
 * which runs a job's parts on the threads. The same in Node and in a browser: what differs
 * (the .wasm's bytes, the cores, the workers) is platform.ts's.
 */
import { allocate, onRelease } from '../pool.js';
import { BackendError, ValueError, describeValue } from '../errors.js';
import { type Conv3x3Algorithm, type FastPathInfo, type FastPathOptions, type GemmModule, type SimdBuild, type WinogradTile, MAXIMUM_PAGES, MIN_PARALLEL_MACS, PAGE, align64 } from './module.js';
import { type Call, Helper } from './threads.js';
import { coreCount, enableRelaxedSimd, envValue, fileBytes, threadsUnavailable } from './platform.js';
import { type ResidentStore, RESIDENT_BYTES, evictTo, forget, newResidentStore } from './resident.js';

function runCall(m: GemmModule, [name, ...args]: Call): void {
  (m[name] as (...a: number[]) => void)(...args);
}

// ---------------------------------------------------------------------------------------
// Main side: the module, the memory and the threads.

export interface FastPath {
  simd: SimdBuild;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  m: GemmModule;
  helpers: Helper[];
  /** byte address of each thread's GEMM scratch */
  scratch: number[];
  /** where the resident filters start, after the scratch areas */
  heap: number;
  /** where this call's next buffers go: after the resident filters and what the call has reserved */
  callTop: number;
  resident: ResidentStore;
  residentBytes: number;
  conv3x3: Conv3x3Algorithm | 'auto';
  winogradTile: WinogradTile | 'auto';
  /** why only one thread can run here, or null (FastPathInfo.threadsNote) */
  threadsNote: string | null;
}

let state: FastPath | null = null;

const WASM_FILES: Record<SimdBuild, string> = { relaxed: './gemm-relaxed.wasm', 'mul+add': './gemm.wasm' };
const wasmBytes = new Map<SimdBuild, Promise<Uint8Array<ArrayBuffer>>>();
/** a build's bytes, read (or, in a browser, fetched) once: pickBuild and open both need the relaxed build's */
function readWasm(simd: SimdBuild): Promise<Uint8Array<ArrayBuffer>> {
  let bytes = wasmBytes.get(simd);
  if (!bytes) {
    bytes = fileBytes(WASM_FILES[simd]);
    wasmBytes.set(simd, bytes);
    bytes.catch(() => wasmBytes.delete(simd)); // a failed read is tried again next time
  }
  return bytes;
}

let relaxedAccepted: boolean | undefined;

/** The build to run: relaxed SIMD where the engine takes it (Node 20 after V8's flag is turned on; Chrome 114+), else mul + add. */
async function pickBuild(simd: SimdBuild | 'auto'): Promise<SimdBuild> {
  if (simd === 'mul+add') return simd;
  if (relaxedAccepted === undefined) {
    const bytes = await readWasm('relaxed');
    if (!WebAssembly.validate(bytes)) await enableRelaxedSimd();
    relaxedAccepted = WebAssembly.validate(bytes);
  }
  if (relaxedAccepted) return 'relaxed';
  if (simd === 'relaxed') throw new BackendError('wasm fast path: this engine does not accept relaxed SIMD, even with --experimental-wasm-relaxed-simd');
  return 'mul+add';
}

/** A shared memory (Node, Chromium with or without cross-origin isolation); a BackendError where the engine refuses one. */
function sharedMemory(): WebAssembly.Memory {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: MAXIMUM_PAGES, shared: true });
  } catch (e) {
    throw new BackendError(`wasm fast path: this engine gives no shared WebAssembly.Memory here (${(e as Error).message}); ` +
      'a browser may give one only to a cross-origin isolated page (COOP and COEP headers)');
  }
}

async function open(simd: SimdBuild, threads: number): Promise<FastPath> {
  const bytes = await readWasm(simd);
  if (!WebAssembly.validate(bytes)) throw new BackendError('wasm fast path: this engine does not accept WebAssembly SIMD with shared memory');
  // compiled asynchronously: a browser refuses a synchronous compile of a big module on its main thread
  const module = await WebAssembly.compile(bytes);
  const memory = sharedMemory();
  const m = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as GemmModule;
  const fp: FastPath = {
    simd, module, memory, m, helpers: [], scratch: [], heap: 0, callTop: 0, resident: newResidentStore(0), residentBytes: RESIDENT_BYTES,
    conv3x3: 'auto', winogradTile: 'auto', threadsNote: threadsUnavailable(),
  };
  await setThreads(fp, threads);
  warmUp(fp);
  return fp;
}

/**
 * Calls every export a few hundred times on small inputs (~10 ms), so that V8 tiers them
 * up from its baseline compiler (Liftoff, ~3× slower here) before the first real call:
 * a running call cannot switch tiers. Workers share the module's compiled code.
 */
function warmUp(fp: FastPath): void {
  const [a, b, c, col, labels] = place(fp, 64 * 64, 64 * 64, 64 * 64, 4 * 9 * 8 * 8, 64); // labels: zeros, never written
  const m = fp.m;
  for (let i = 0; i < 200; i++) {
    m.gemm(64, 64, 64, a, 64, 1, b, 64, 1, c, 64, 0, fp.scratch[0]);
    m.im2col(a, 4, 8, 8, 3, 0, 8, col, 64, fp.scratch[0]);
    m.gemvStream(61, 63, a, b, c);
    m.gemvBatch(3 + (i & 1), 13, 63, a, b, c, 13);
    m.batchPlanes(a, 4, 4, 13, 0, 4, b);
    m.unbatchPlanes(b, 4, 4, 13, 0, 4, c, a, i & 1);
    m.flipFilters(a, 8, 8, 3, 0, 8, b);
    m.col2imAdd(col, 4, 8, 8, 3, 0, 8, c);
    m.reluForward(a, c, 1023);
    m.reluBackward(a, b, c, 1023);
    m.maxPool2dForward(a, 4, 31, 33, c);
    m.maxPool2dBackward(b, a, 4, 31, 33, c);
    m.add(a, b, c, 1023);
    m.mul(a, b, c, 1023);
    m.scale(a, 0.5, c, 1023);
    m.sum(a, 1023);
    m.sgdUpdate(a, b, c, col, c, 1023, 0.01, 0.9, 5e-4);
    m.dropoutApply(a, b, 2, c, 1023);
    m.softmaxForward(a, c, 7, 37);
    m.softmaxBackward(a, b, c, 7, 37);
    m.crossEntropyRows(a, labels, c, 7, 37);
    m.crossEntropyBackward(a, labels, 0.5, c, 7, 37);
    m.lrnForward(a, c, 2, 9, 27, 0, 27, 2, 2, 2, 1e-4, 0.75);
    m.lrnBackward(a, b, c, 2, 9, 27, 0, 27, 2, 2, 2, 1e-4, 0.75, fp.scratch[0]);
    m.winogradWeights(a, 4, 4, 0, 4, b, i & 1);
    m.winogradPad(a, 0, 4, 7, 7, col, 10, 10, 1);
    m.winogradGradInput(col, 0, 4, 10, 10, 0, 4, 4, b, 16, 64);
    m.winogradInput(col, 0, 4, 10, 10, 0, 4, 4, b, 16, 64);
    m.winogradOutput(b, 0, 4, 16, 64, 0, 4, 4, c, 7, 7, a, 1, fp.scratch[0]);
    m.winogradInputQuad(a, 48, 3, 0, 4, 3, 4, 2, 2, b, 16, 64, fp.scratch[0]);
    m.winogradOutputQuad(b, 0, 4, 16, 64, 2, 2, c, 48, 3, 3, 4, a, 1, fp.scratch[0]);
    m.winogradGradQuad(a, 48, 3, 0, 4, 3, 4, 2, 2, b, 16, 64, fp.scratch[0]);
    m.winogradGradWeights(b, 4, 4, 0, 4, c);
    m.winograd4Weights(a, 4, 4, 0, 4, b, i & 1, fp.scratch[0]);
    m.winograd4Input(col, 0, 2, 10, 18, 0, 2, 4, b, 8, 16, fp.scratch[0]);
    m.winograd4Output(b, 0, 2, 8, 16, 0, 2, 4, c, 7, 15, a, i & 1, fp.scratch[0]);
  }
}

/** Starts or stops helpers so that `threads` threads run, and places their scratch areas. */
async function setThreads(fp: FastPath, threads: number): Promise<void> {
  // the same count keeps the scratch areas where they are, and so the resident filters
  if (fp.scratch.length === threads) return;
  if (threads > 1 && fp.threadsNote) throw new BackendError(`initFastPath: ${threads} threads asked for, but ${fp.threadsNote}`);
  while (fp.helpers.length > threads - 1) fp.helpers.pop()!.terminate();
  while (fp.helpers.length < threads - 1) fp.helpers.push(await Helper.start(fp.module, fp.memory));
  const bytes = align64(fp.m.gemmScratchBytes());
  fp.scratch = Array.from({ length: threads }, (_, t) => align64(fp.m.heapBase()) + t * bytes);
  fp.heap = align64(fp.m.heapBase()) + threads * bytes;
  fp.resident = newResidentStore(fp.heap); // the scratch areas moved: start the resident filters again
  fp.callTop = fp.heap;
  ensureBytes(fp, fp.heap);
}

export function ensureBytes(fp: FastPath, bytes: number): void {
  const have = fp.memory.buffer.byteLength;
  if (bytes <= have) return;
  const pages = Math.ceil((bytes - have) / PAGE);
  if (have / PAGE + pages > MAXIMUM_PAGES) {
    throw new BackendError(`wasm fast path: needs ${(bytes / 2 ** 20).toFixed(0)} MiB of memory, more than its ${MAXIMUM_PAGES / 16} MiB limit`);
  }
  fp.memory.grow(pages);
}

/** Jobs run one after another: every launcher places its buffers at the same addresses. */
let queue: Promise<unknown> = Promise.resolve();

function serialized<T>(job: () => T | Promise<T>): Promise<T> {
  const run = queue.then(job);
  queue = run.catch(() => undefined);
  return run;
}

/** winogradTile's default: VERYDEEP_WINOGRAD_TILE (2, 4 or auto; for benchmarks that time both), else 'auto' */
function defaultWinogradTile(): WinogradTile | 'auto' {
  const v = envValue('VERYDEEP_WINOGRAD_TILE');
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === '2' || v === '4') return Number(v) as WinogradTile;
  throw new ValueError(`initFastPath: VERYDEEP_WINOGRAD_TILE must be 2, 4 or auto, got ${describeValue(v)}`);
}

/**
 * threads' default: every core the process may use (os.availableParallelism(), which counts
 * what the CPU affinity allows; a browser's navigator.hardwareConcurrency); the calling
 * thread is one of them. The kernels split their work evenly, so a core busy with something
 * else delays each job: pass threads to leave one. One where threads cannot share the
 * memory (a page that is not cross-origin isolated).
 */
export async function defaultThreads(): Promise<number> {
  return threadsUnavailable() ? 1 : Math.max(1, await coreCount());
}

async function configure(options: FastPathOptions): Promise<FastPathInfo> {
  const threads = Math.floor(options.threads ?? (await defaultThreads()));
  if (!(threads >= 1)) throw new ValueError(`initFastPath: threads must be a number ≥ 1, got ${describeValue(options.threads)}`);
  if (![undefined, 'auto', 'relaxed', 'mul+add'].includes(options.simd)) throw new ValueError(`initFastPath: simd must be 'auto', 'relaxed' or 'mul+add', got ${describeValue(options.simd)}`);
  const simd = await pickBuild(options.simd ?? 'auto');
  if (state && state.simd !== simd) {
    state.helpers.forEach((h) => h.terminate());
    state = null;
  }
  const conv3x3 = options.conv3x3 ?? 'auto';
  if (!['auto', 'im2col', 'winograd'].includes(conv3x3)) throw new ValueError(`initFastPath: conv3x3 must be 'auto', 'im2col' or 'winograd', got ${describeValue(conv3x3)}`);
  const winogradTile = options.winogradTile ?? defaultWinogradTile();
  if (!['auto', 2, 4].includes(winogradTile)) throw new ValueError(`initFastPath: winogradTile must be 'auto', 2 or 4, got ${describeValue(winogradTile)}`);
  const residentBytes = options.residentBytes ?? RESIDENT_BYTES;
  if (!(residentBytes >= 0) || !Number.isFinite(residentBytes)) throw new ValueError(`initFastPath: residentBytes must be a finite number ≥ 0, got ${describeValue(options.residentBytes)}`);
  if (state) await setThreads(state, threads);
  else state = await open(simd, threads);
  state.conv3x3 = conv3x3;
  state.winogradTile = winogradTile;
  state.residentBytes = residentBytes;
  evictTo(state.resident, residentBytes);
  return getFastPathInfo()!;
}

/** The build and the thread count that run, or null before the fast path has started. */
export function getFastPathInfo(): FastPathInfo | null {
  return state && {
    simd: state.simd, threads: state.helpers.length + 1, ...(state.threadsNote ? { threadsNote: state.threadsNote } : {}),
    conv3x3: state.conv3x3, winogradTile: state.winogradTile, residentBytes: state.residentBytes,
  };
}

/**
 * Loads the module (relaxed SIMD where possible) and starts the worker threads. The
 * launchers call it on first use with the defaults; calling it again applies new options
 * (those left out take their defaults): another thread count, or another build. It waits
 * for the launchers already started.
 */
export function initFastPath(options: FastPathOptions = {}): Promise<FastPathInfo> {
  return serialized(() => configure(options));
}

/** Runs a launcher's body alone, on the fast path (started with the defaults if need be). */
export function withFastPath<T>(job: (fp: FastPath) => Promise<T>): Promise<T> {
  return serialized(async () => {
    if (!state) await configure({});
    state!.callTop = callBase(state!);
    return job(state!);
  });
}

/** where a call's buffers start: after the scratch areas and the resident filters */
export function callBase(fp: FastPath): number {
  return align64(Math.max(fp.heap, fp.resident.end));
}

/** Keeps `floats` at the call's base for the rest of the call (place() goes after them); returns their address. */
export function reserve(fp: FastPath, floats: number): number {
  const at = fp.callTop;
  fp.callTop = align64(at + floats * 4);
  ensureBytes(fp, fp.callTop);
  return at;
}

/** Places a call's buffers of the given sizes (floats) after what it reserved, grows the memory to hold them, returns their byte addresses. */
export function place(fp: FastPath, ...floats: number[]): number[] {
  let at = fp.callTop;
  const addresses = floats.map((n) => {
    const address = at;
    at = align64(at + n * 4);
    return address;
  });
  ensureBytes(fp, at);
  return addresses;
}

export function view(fp: FastPath, address: number, floats: number): Float32Array {
  return new Float32Array(fp.memory.buffer, address, floats);
}

/** a copy of floats in the memory (TypedArray.slice of a view is ~50× slower than set) */
export function copyOut(fp: FastPath, address: number, floats: number): Float32Array {
  const out = allocate(floats);
  out.set(view(fp, address, floats));
  return out;
}

/** Runs each part on its own thread (part 0 on this one) and waits for all. */
export async function runParts(fp: FastPath, parts: Call[][]): Promise<void> {
  const posted: Helper[] = [];
  let failure: unknown = null;
  try {
    parts.slice(1).forEach((calls, t) => {
      fp.helpers[t].post(calls);
      posted.push(fp.helpers[t]);
    });
    for (const call of parts[0] ?? []) runCall(fp.m, call);
  } catch (e) {
    failure = e;
  }
  // every posted job is waited for, even after a failure: the next call reuses their buffers
  for (const h of posted) {
    try {
      await h.finish();
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure) throw failure;
}

export interface Range {
  start: number;
  count: number;
}

/** [0, total) cut into at most `parts` contiguous ranges of near-equal size, starts multiples of `align` */
export function split(total: number, parts: number, align = 1): Range[] {
  const units = Math.ceil(total / align);
  const ranges: Range[] = [];
  for (let t = 0; t < parts; t++) {
    const start = Math.floor((units * t) / parts) * align;
    const end = Math.min(total, Math.floor((units * (t + 1)) / parts) * align);
    if (end > start) ranges.push({ start, count: end - start });
  }
  return ranges;
}

/** `r` cut into consecutive ranges of at most `size` */
export function bands(r: Range, size: number): Range[] {
  const out: Range[] = [];
  for (let s = r.start; s < r.start + r.count; s += size) out.push({ start: s, count: Math.min(size, r.start + r.count - s) });
  return out;
}

// An array handed back to the pool, or collected, loses its resident filters (resident.ts).
onRelease((a) => {
  state?.resident.seen.delete(a);
  const kinds = state?.resident.byArray.get(a);
  if (kinds) for (const e of [...kinds.values()]) forget(state!.resident, e);
});

/** how many threads a job of `macs` multiply-adds uses */
export function threadsFor(fp: FastPath, macs: number): number {
  return macs < MIN_PARALLEL_MACS ? 1 : fp.helpers.length + 1;
}

/** A GEMM operand: byte address, row stride and column stride (floats). */
export interface Operand {
  at: number;
  rs: number;
  cs: number;
}

/** C[M×N] = A·B (+ C when accumulate), C at byte address c with row stride ldc */
export function gemm(M: number, N: number, K: number, a: Operand, b: Operand, c: number, ldc: number, accumulate: boolean, scratch: number): Call {
  return ['gemm', M, N, K, a.at, a.rs, a.cs, b.at, b.rs, b.cs, c, ldc, accumulate ? 1 : 0, scratch];
}
