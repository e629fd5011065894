/**
 * Import rules (issue #13): imports point one way, down this picture.
 *
 *   entries      lib/index.ts, lib/browser.ts, lib/exports.ts (the export list both entries share)
 *   train        lib/train/
 *   models       lib/models/
 *   nn           lib/nn/      (layers)            data   lib/data/ (never uses nn)
 *   the core     lib/core/    (Tensor, autograd, storage, values, ops, backend, random, errors, reference)
 *   kernels      kernels/     (the leaf: imports nothing from lib/)
 *
 * Each `forbidden` rule below is one upward arrow that must not exist. The test suite runs them
 * (test/imports.test.ts: `VERYDEEP_TEST_ONLY=imports node dist/test/run.js`) through
 * dependency-cruiser's JS API; on Node >= 22 the CLI reads this file too:
 * `npx depcruise --config .dependency-cruiser.cjs lib kernels`.
 *
 * Type-only imports count (tsPreCompilationDeps: true): an upward `import type` is still an
 * upward dependency. Dynamic imports count too, except in the browser rule (see BROWSER).
 */

/**
 * The tensor core, as one path pattern: the folder lib/core/, below every other folder of lib/.
 * lib/index.ts, lib/browser.ts and lib/exports.ts are entries (they may import anything, the
 * browser rule aside) and lib/viz/ is a feature beside train, so they are not the core.
 */
const CORE = '^lib/core/';

/** A rule that makes an import an error: from the files `from` matches, to those `to` matches. */
const forbid = (name, comment, from, to) => ({ name, severity: 'error', comment, from, to });

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const forbidden = [
  forbid('no-kernels-to-lib',
    'kernels → lib: kernels/ is the leaf below everything; it imports nothing from lib/ (the backend hands it the GPU, errors and the pool live in kernels/).',
    { path: '^kernels/' }, { path: '^lib/' }),
  forbid('no-core-to-nn-models-train',
    'the core → nn, models, train: the tensor core (lib/core/: Tensor, autograd, storage, values, ops, backend, random, errors, reference) sits below the layers, the models and training; it never imports them.',
    { path: CORE }, { path: '^lib/(nn|models|train)/' }),
  forbid('no-nn-to-models',
    'layers → models: lib/nn/ (layers, init, Module) sits below lib/models/; a layer never imports a model.',
    { path: '^lib/nn/' }, { path: '^lib/models/' }),
  forbid('no-models-to-train',
    'models → train: lib/models/ sits below lib/train/; a model never imports the trainer, its checkpoints or its curves.',
    { path: '^lib/models/' }, { path: '^lib/train/' }),
  forbid('no-data-to-nn',
    'data → nn: lib/data/ (datasets, loaders, transforms, preprocessing) works on arrays and tensors only; it never imports layers.',
    { path: '^lib/data/' }, { path: '^lib/nn/' }),
  forbid('no-circular',
    'cycles: no import cycle anywhere in lib/ and kernels/, type-only and dynamic imports included (there is none today).',
    {}, { circular: true }),
];

const options = {
  tsConfig: { fileName: 'tsconfig.json' },
  // type-only imports are dependencies too (tsc and esbuild erase them, the layering does not)
  tsPreCompilationDeps: true,
  // npm packages and Node's modules are leaves: their own imports are not ours to check
  doNotFollow: { path: 'node_modules' },
};

/**
 * BROWSER: the browser entry → node:*. lib/browser.ts and every file it reaches through static
 * imports must not import a Node module (`node:fs` and the like). Dynamic imports are allowed:
 * lib/core/backend.ts opens the Node-only fast path with `await import(...)` behind its isNode check,
 * and scripts/build-web.mjs keeps dynamic imports external. `require()` is allowed for the same
 * reason: an ES module only has one through createRequire from `node:module`, so a browser reaches
 * it only after importing `node:module`, which this rule catches when that import is static.
 * Type-only imports, and imports used only as types, are erased by tsc and esbuild: not counted.
 *
 * dependency-cruiser's `reachable` rules follow every edge of the cruise (dynamic, type-only and
 * require ones too) and take no dependency types, so this rule has a cruise of its own, `browser`
 * below, whose edges are the static value imports only: from lib/browser.ts, each file transpiled
 * as an ES module the way tsc and esbuild emit it (compilerOptions: dependency-cruiser's own
 * transpile would write CommonJS, not knowing package.json's "type": "module"), then its
 * import/export statements read (tsPreCompilationDeps: false, moduleSystems: ['es6']) without the
 * dynamic ones (exclude.dynamic). In that graph a `reachable` rule is the check, and each
 * violation comes with its import chain (`via`). It is exported beside the main config, not in
 * it (dependency-cruiser's schema takes no extra keys), and test/imports.test.ts runs it.
 */
const NODE_MODULES = `^(node:)?(${require('node:module').builtinModules.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
const browser = {
  entry: 'lib/browser.ts',
  compilerOptions: { module: 'es2022', moduleResolution: 'bundler' },
  forbidden: [
    {
      name: 'no-browser-to-node',
      severity: 'error',
      comment: 'browser entry → node:*: lib/browser.ts and everything it reaches through static imports must run in a browser, so none of them imports a Node module statically (dynamic imports behind an isNode check are fine).',
      from: { path: '^lib/browser\\.ts$' },
      to: { reachable: true, path: NODE_MODULES },
    },
  ],
  options: {
    ...options,
    tsPreCompilationDeps: false,
    moduleSystems: ['es6'],
    exclude: { dynamic: true },
  },
};

module.exports = { forbidden, options };
// not enumerable: dependency-cruiser copies and validates the config without it
Object.defineProperty(module.exports, 'browser', { value: browser, enumerable: false });
