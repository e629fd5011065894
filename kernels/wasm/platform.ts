/**
 * What the fast path needs from its host, Node or a browser, in one place: the bytes of a
 * .wasm, the core count, turning on relaxed SIMD, the environment's defaults, whether
 * helper threads can share the memory, whether this thread may block in Atomics.wait, and
 * starting a helper's worker. Everything else in kernels/wasm/ is the same on both.
 *
 *                 Node                                   browser
 *   .wasm bytes   readFileSync beside this file          fetch, relative to import.meta.url
 *                 (dist/kernels/wasm/)                   (the bundle's folder: dist/web/)
 *   cores         os.availableParallelism()              navigator.hardwareConcurrency
 *   relaxed SIMD  V8's flag, set at run time (Node 20)   on by default (Chrome 114+)
 *   env defaults  process.env                            none
 *   threads       worker_threads, always                 module Web Workers, only where the page
 *                                                        is cross-origin isolated (COOP/COEP):
 *                                                        else the memory cannot reach a worker
 *   may block     yes (Atomics.wait)                     in a worker; not on a page's main thread
 *
 * Node's modules are imported dynamically (nodeModules), so that a browser bundle of this file
 * never loads one. The helper's worker is wasm-worker.js beside this file, in both hosts
 * (scripts/build-web.mjs bundles kernels/wasm/wasm-worker.ts into dist/web/).
 */

export const isNode = typeof process !== 'undefined' && !!process.versions?.node;

interface NodeModules {
  fs: typeof import('node:fs');
  os: typeof import('node:os');
  v8: typeof import('node:v8');
  workerThreads: typeof import('node:worker_threads');
}

let node: Promise<NodeModules> | null = null;
/** Node's modules the fast path uses, loaded once (Node only). */
function nodeModules(): Promise<NodeModules> {
  node ??= Promise.all([import('node:fs'), import('node:os'), import('node:v8'), import('node:worker_threads')])
    .then(([fs, os, v8, workerThreads]) => ({ fs, os, v8, workerThreads }));
  return node;
}

/** The bytes of a file beside this one (a .wasm of scripts/build-wasm.mjs). */
export async function fileBytes(name: string): Promise<Uint8Array<ArrayBuffer>> {
  const url = new URL(name, import.meta.url);
  if (isNode) return (await nodeModules()).fs.readFileSync(url) as Uint8Array<ArrayBuffer>;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url.href} gave HTTP ${response.status}: the .wasm files belong beside the library bundle`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Turns on V8's relaxed SIMD where it is a flag (Node 20); a browser that lacks it has no such switch. */
export async function enableRelaxedSimd(): Promise<void> {
  if (isNode) (await nodeModules()).v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/** The cores this process may use: os.availableParallelism() (the CPU affinity counted), or navigator.hardwareConcurrency. */
export async function coreCount(): Promise<number> {
  if (isNode) return (await nodeModules()).os.availableParallelism();
  return typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
}

/** An environment variable where there is an environment (Node), else undefined. */
export function envValue(name: string): string | undefined {
  return isNode ? process.env[name] : undefined;
}

/**
 * Why helper threads cannot share the module's memory here, or null where they can. A
 * browser posts a shared WebAssembly.Memory to a worker only where the page is cross-origin
 * isolated (served with COOP and COEP headers; `crossOriginIsolated` is true).
 */
export function threadsUnavailable(): string | null {
  if (isNode || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) return null;
  return 'the page is not cross-origin isolated (no COOP/COEP headers), so no Web Worker can share the WebAssembly memory';
}

/** Whether this thread may sleep in Atomics.wait: Node's threads and a browser's workers may; a page's main thread may not. */
export const canBlock = isNode || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';

/** A helper's worker as the fast path sees it, on either host. */
export interface HelperWorker {
  terminate(): void;
}

/**
 * Starts wasm-worker.js with `setup` (worker_threads' workerData in Node; the first message
 * in a browser); `fail` hears of an error or an exit. The worker never keeps Node alive.
 */
export async function startWorker(setup: unknown, fail: (e: Error) => void): Promise<HelperWorker> {
  if (isNode) {
    const { Worker } = (await nodeModules()).workerThreads;
    // execArgv: [] — the worker needs none of the parent's Node options, and some break it (--input-type)
    const worker = new Worker(new URL('./wasm-worker.js', import.meta.url), { workerData: { verydeepFastPath: setup }, execArgv: [] });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`wasm fast path worker exited (code ${code})`)));
    worker.unref();
    return { terminate: () => void worker.terminate() };
  }
  const worker = new Worker(new URL('./wasm-worker.js', import.meta.url), { type: 'module', name: 'verydeep wasm fast path' });
  worker.addEventListener('error', (e) => fail(new Error(`wasm fast path worker failed: ${e.message || 'it did not load (is wasm-worker.js beside the library bundle?)'}`)));
  worker.addEventListener('messageerror', () => fail(new Error('wasm fast path worker: its setup could not be posted')));
  worker.postMessage(setup);
  return { terminate: () => worker.terminate() };
}

/** The setup a worker of startWorker gets (Node: workerData; browser: its first message). */
export async function workerSetup(): Promise<unknown> {
  if (isNode) return (await nodeModules()).workerThreads.workerData?.verydeepFastPath;
  return new Promise((resolve) => {
    const scope = globalThis as unknown as { onmessage: ((e: MessageEvent) => void) | null };
    scope.onmessage = (e) => {
      scope.onmessage = null;
      resolve(e.data);
    };
  });
}
