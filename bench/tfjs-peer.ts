/**
 * The peer of bench/run.ts: @tensorflow/tfjs-core with @tensorflow/tfjs-backend-wasm
 * (XNNPACK, SIMD), NHWC layout, loaded in the same process as verydeep so that both run in
 * one run on the same machine state.
 *
 * Threads. tfjs-backend-wasm hard-wires WASM_HAS_MULTITHREAD_SUPPORT to false under Node
 * (tensorflow/tfjs#3830): officially it runs 1 thread there. ../shared/peers measured its
 * threaded-SIMD build with 2 threads through a shim (../shared/peers/tfjs/wasm_threads_shim.mjs);
 * `installThreadsShim` below does the same three things:
 *  - emscripten starts its pthread workers from blob: URLs, which Node's Worker rejects
 *    (ERR_WORKER_PATH): Blobs made of strings remember their text, URL.createObjectURL writes
 *    that text to a temporary .cjs file and returns its path;
 *  - the {cmd: 'load'} message that tells a worker where the main script is carries a Blob:
 *    it is rewritten to the file, with a prelude that defines the bundle-scope names the
 *    factory's source refers to;
 *  - backend.cc sizes the pool as logical cores / 2 (it assumes SMT), so a 2-vCPU machine gets
 *    1 thread: os.cpus() reports 2 × threads CPUs.
 * This is not a supported tfjs configuration; with --peer-threads=1 none of it is installed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

import type { Tf } from './layouts.js';

export type { Tf };

export interface TfjsPeer {
  tf: Tf;
  /** threads the wasm backend runs (getThreadsCount) */
  threads: number;
  requestedThreads: number;
  simd: boolean;
  multithread: boolean;
  shim: boolean;
  version: string;
  backendVersion: string;
}

const require = createRequire(import.meta.url);
let shimDir: string | null = null;

function installThreadsShim(threads: number): void {
  const distFile = require.resolve('@tensorflow/tfjs-backend-wasm');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verydeep-bench-tfjs-'));
  shimDir = dir;
  let files = 0;
  const writeText = (text: string) => {
    const f = path.join(dir, `blob${files++}.cjs`);
    fs.writeFileSync(f, text);
    return f;
  };
  const realCpus = os.cpus.bind(os);
  (os as { cpus: () => os.CpuInfo[] }).cpus = () => {
    const c = realCpus();
    return Array.from({ length: 2 * threads }, (_, i) => c[i % c.length]);
  };
  const RealBlob = globalThis.Blob;
  class TextBlob extends RealBlob {
    text_?: string;
    file_?: string;
    constructor(parts?: any[], options?: BlobPropertyBag) {
      super(parts, options);
      if (Array.isArray(parts) && parts.every((p) => typeof p === 'string')) this.text_ = parts.join('');
    }
  }
  (globalThis as { Blob: unknown }).Blob = TextBlob;
  const realCreate = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (b: any) => (b instanceof TextBlob && b.text_ !== undefined ? writeText(b.text_) : realCreate(b));
  const realPost = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (this: Worker, msg: any, transfer?: any) {
    const blob = msg?.cmd === 'load' ? msg.urlOrBlob : undefined;
    if (blob instanceof TextBlob && blob.text_ !== undefined) {
      // names of the bundle's scope that the emscripten factory's toString() refers to
      const prelude = `var _scriptDir = ${JSON.stringify(distFile)}; var commonjsGlobal = globalThis;` +
        `var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os');\n`;
      blob.file_ ??= writeText(prelude + blob.text_);
      msg = { ...msg, urlOrBlob: blob.file_ };
    }
    return realPost.call(this, msg, transfer);
  } as typeof Worker.prototype.postMessage;
  process.on('exit', () => {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch { /* best effort */ }
  });
}

/** Loads tfjs-core and the wasm backend with `threads` threads (2 through the shim). */
export async function loadTfjs(threads: number): Promise<TfjsPeer> {
  if (threads > 1) installThreadsShim(threads);
  const core = await import('@tensorflow/tfjs-core');
  // tfjs-core is CommonJS: Node may give its exports as named exports or only as the default
  const tf = ((core as any).tensor ? core : (core as any).default) as Tf;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const backend = ((wasm as any).setThreadsCount ? wasm : (wasm as any).default) as typeof import('@tensorflow/tfjs-backend-wasm');
  if (threads > 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  backend.setThreadsCount(threads);
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const multithread = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  if (!(await tf.setBackend('wasm'))) throw new Error(`tfjs: setBackend('wasm') failed${threads > 1 ? ' (2 threads need the shim; try --peer-threads=1)' : ''}`);
  await tf.ready();
  return {
    tf, threads: backend.getThreadsCount(), requestedThreads: threads, simd, multithread, shim: threads > 1,
    version: require('@tensorflow/tfjs-core/package.json').version,
    backendVersion: require('@tensorflow/tfjs-backend-wasm/package.json').version,
  };
}

export function tfjsShimDir(): string | null {
  return shimDir;
}

// the layout helpers and the Δ of the rows live in layouts.ts, which a browser can load too (examples/web/bench*.ts)
export { nchwToNhwc, oihwToHwio, transpose2d, relativeDifference, nchwIndex, transposedIndex, hwioIndex } from './layouts.js';
