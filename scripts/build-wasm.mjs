#!/usr/bin/env node
// Builds the WebAssembly fast path: compiles kernels/wasm/gemm.as, pointwise.as, winograd.as, winograd4.as, softmax-lrn.as and gemv.as
// (AssemblyScript; all are entry files of one module, so all export) with the
// AssemblyScript compiler from npm, twice, into dist/kernels/wasm/:
//   gemm.wasm          -O3, SIMD (f32x4 mul + add), runs on every engine with WASM SIMD;
//   gemm-relaxed.wasm  the same with relaxed SIMD (f32x4.relaxed_madd, a fused multiply-add),
//                      which Node 20 accepts only behind a V8 flag (kernels/wasm/runtime.ts
//                      detects it and falls back to gemm.wasm).
// Both import one shared memory (env.memory), so that worker threads can run on it. The
// browser bundle uses the same two files (scripts/build-web.mjs copies them into dist/web/):
// Chromium gives a shared WebAssembly.Memory to a page that is not cross-origin isolated as
// well (measured: Chromium 156), where only posting it to a worker is refused, so one thread
// runs there on the same build. An engine that refuses the memory itself gets a BackendError
// that says so (kernels/wasm/runtime.ts); a build with an unshared memory is not made.
// The sources are named .as, not .ts, so that tsc does not compile them; asc gets them as strings.
import asc from 'assemblyscript/asc';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = Object.fromEntries(['gemm', 'pointwise', 'winograd', 'winograd4', 'softmax-lrn', 'gemv'].map((name) => [`${name}.ts`, readFileSync(join(root, `kernels/wasm/${name}.as`), 'utf8')]));
const outDir = join(root, 'dist/kernels/wasm');
mkdirSync(outDir, { recursive: true });

/** The largest memory the module may grow to, in 64 KiB pages (2 GiB); kernels/wasm/runtime.ts reads it from the module. */
const MAXIMUM_PAGES = 32768;

for (const [file, features] of [['gemm.wasm', ['simd', 'threads']], ['gemm-relaxed.wasm', ['simd', 'threads', 'relaxed-simd']]]) {
  const started = Date.now();
  const { error, stderr, binary } = await asc.compileString(sources, {
    optimizeLevel: 3,
    shrinkLevel: 0,
    noAssert: true,
    runtime: 'stub',
    enable: features,
    importMemory: true,
    sharedMemory: true,
    maximumMemory: MAXIMUM_PAGES,
  });
  if (error || !binary) {
    console.error(stderr.toString());
    throw new Error(`build-wasm: ${file}: ${error?.message ?? 'no binary'}`);
  }
  writeFileSync(join(outDir, file), binary);
  console.log(`build-wasm: dist/kernels/wasm/${file} (${binary.length} bytes, ${features.join(' + ')}, ${Date.now() - started} ms)`);
}
