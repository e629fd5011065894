/**
 * The test runner: finds the modes that run here, registers every suite, prints tape's TAP,
 * then the largest error of each kernel check per mode, and a final `N passed, N failed`.
 */
import test from 'tape';
import { mkdirSync, writeFileSync } from 'node:fs';
import { modesToTest, checks, badInputs } from './helpers.js';
import { registerKernelTests } from './kernels.test.js';
import { registerLargeTests } from './large.test.js';
import { registerTensorTests } from './tensor.test.js';
import { registerReadmeTests } from './readme.test.js';
import { registerTrainingTests } from './training.test.js';
import { registerFastPathTests } from './fastpath.test.js';
import { registerEvalTests } from './eval.test.js';
import { registerWeightsTests } from './weights.test.js';
import { registerVizTests } from './viz.test.js';
import { registerBrowserTests } from './browser.test.js';
import { registerSiteTests } from './browser-site.test.js';
import { registerBrowserBenchTests } from './browser-bench.test.js';
import { registerNotebookTests } from './notebooks.test.js';
import { registerErrorTests } from './errors.test.js';
import { registerCliTests } from './cli.test.js';
import { registerFuzzTests } from './fuzz.test.js';
import { registerCrashTests } from './crash.test.js';
import { registerNamedErrorTests } from './named-errors.test.js';
import { registerImportTests } from './imports.test.js';
import { registerOnnxTests } from './onnx.test.js';
import { registerInteropTests } from './interop.test.js';
import { registerDdpTests } from './ddp.test.js';
import { registerPretrainedTests } from './pretrained.test.js';
import { interopFigures } from './interop-helpers.js';
import { registerPackageTests } from './package.test.js';
import { registerApiTests } from './api.test.js';
import { registerFolderTests } from './folder.test.js';
import { registerDocsTests } from './docs.test.js';
import { KERNEL_FAMILIES } from '../kernels/registry.js';

const { modes, skipped } = await modesToTest();
// e.g. "kernels" to run one suite while working, or "onnx,api" for several (in the runner's order)
const onlyList = process.env.VERYDEEP_TEST_ONLY ? process.env.VERYDEEP_TEST_ONLY.split(',').map((s) => s.trim()) : null;
const wants = (suite: string) => !onlyList || onlyList.includes(suite);

/** the suites, in the order they run: VERYDEEP_TEST_ONLY names them */
const SUITES: [string, () => void][] = [
  ['tensor', () => registerTensorTests(modes)],
  ['kernels', () => registerKernelTests(modes)],
  ['large', () => registerLargeTests(modes)],
  ['fastpath', registerFastPathTests],
  ['training', registerTrainingTests],
  ['eval', registerEvalTests],
  ['weights', registerWeightsTests],
  ['errors', () => registerErrorTests(modes)],
  ['cli', registerCliTests],
  ['fuzz', registerFuzzTests],
  ['crash', registerCrashTests],
  ['named-errors', registerNamedErrorTests],
  ['imports', registerImportTests],
  ['onnx', registerOnnxTests],
  ['interop', () => { registerInteropTests(); registerDdpTests(); registerPretrainedTests(); }],
  ['api', registerApiTests],
  ['folder', registerFolderTests],
  ['docs', registerDocsTests],
  ['package', registerPackageTests],
  ['viz', registerVizTests],
  ['browser', () => { registerBrowserTests(); registerSiteTests(); registerBrowserBenchTests(); }],
  ['notebooks', registerNotebookTests],
  ['readme', registerReadmeTests],
];
const unknown = (onlyList ?? []).filter((name) => !SUITES.some(([suite]) => suite === name));
if (unknown.length) throw new Error(`VERYDEEP_TEST_ONLY: unknown suite ${unknown.join(', ')}; the suites: ${SUITES.map(([suite]) => suite).join(', ')}`);
for (const [suite, register] of SUITES) if (wants(suite)) register();

if (wants('kernels')) {
  test('every kernel family and pass was checked on every mode that ran', (t) => {
    for (const mode of modes) {
      for (const f of KERNEL_FAMILIES) {
        for (const p of f.passes) {
          const n = checks.filter((c) => c.mode === mode && c.family === f.family && c.pass === p.pass).length;
          t.ok(n > 0, `${f.family} / ${p.pass} on ${mode}: ${n} checks`);
        }
      }
    }
    t.end();
  });
}

let passed = 0;
let failed = 0;
let pending = '';
const stream = test.createStream();
stream.on('data', (chunk: string) => {
  // tape prints the TAP itself; this copy of it is only counted
  pending += chunk;
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    if (/^ok \d+/.test(line)) passed++;
    else if (/^not ok \d+/.test(line)) failed++;
  }
});
stream.on('end', () => {
  console.log(`\n# modes that ran the kernel checks: ${modes.join(', ')}`);
  for (const s of skipped) console.log(`# mode skipped: ${s}`);
  const worst = new Map<string, (typeof checks)[number]>();
  for (const c of checks) {
    const key = `${c.mode} | ${c.family} | ${c.pass.startsWith('gradcheck') ? 'gradcheck' : c.pass}`;
    if (!worst.has(key) || c.error > worst.get(key)!.error) worst.set(key, c);
  }
  console.log('# largest error per mode, family and pass (normalized: max|got−ref| / max(1, max|ref|)):');
  for (const [key, c] of [...worst].sort()) console.log(`#   ${key}: ${c.error.toExponential(2)} (tolerance ${c.tolerance})`);
  if (badInputs.size) {
    const total = [...badInputs.values()].reduce((a, b) => a + b, 0);
    console.log(`# bad inputs tried, by the error class they must give (${total} in all): ${[...badInputs].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  for (const line of interopFigures) console.log(`# interop: ${line}`);
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/kernel-checks.json', JSON.stringify({ modes, skipped, checks }, null, 1));
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
});
