/**
 * The package as a user installs it (issue #15): `npm pack` of this checkout, then
 * `npm install <tarball>` in an empty folder, from the npm registry. In that folder:
 *  - `import { Vgg } from 'verydeep'` and `require('verydeep')` give the same exports, and a
 *    tiny VGG-A forward pass runs on the cpu and wasm modes, the two agreeing;
 *  - a consumer .ts file type-checks with `tsc --strict` (module nodenext, no skipLibCheck,
 *    so every type our .d.ts files name must come from our dependencies), and a misspelt
 *    option is a type error, so the types are real, not `any`;
 *  - `npx verydeep --version` and `--help` work;
 *  - gl's native build fails (compilers replaced by `false`, no prebuilt download), as on a
 *    machine without build tools or root, and the install still succeeds, without EBADENGINE
 *    warnings; then setBackend('headlessgl') says how to get gl.
 * The tarball is packed from the built dist/ (`npm pack --ignore-scripts`) where dist/ is
 * newer than every source; otherwise `npm pack` runs `prepare`, which builds.
 * Skipped with a `# skipped` comment where the registry does not answer (a failure under
 * VERYDEEP_REQUIRE_PACKAGE=1). The folder is made under the OS's temp dir and removed.
 */
import test from 'tape';
import type { Test } from 'tape';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const ROOT = resolve('.');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

/** runs a command in `cwd`; resolves to stdout and stderr, or rejects with its exit and the last lines of its output */
async function run(file: string, args: string[], cwd: string, timeoutS: number, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(file, args, { cwd, env: { ...process.env, ...env }, timeout: timeoutS * 1000, maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string; code?: number | string; signal?: string };
    const out = `${err.stdout ?? ''}\n${err.stderr ?? err.message}`.split('\n').filter((l) => l.trim()).slice(-25).join('\n');
    throw new Error(`${file} ${args.join(' ')} exited with ${err.signal ?? err.code}: ${out}`);
  }
}

/** why the registry cannot be used, or null when `npm ping` answers */
function registryMissing(): string | null {
  const r = spawnSync('npm', ['ping'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? null : `the npm registry does not answer (npm ping: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
}

/** the newest modification time under `dir` (files whose names pass `keep`) */
function newest(dir: string, keep: (name: string) => boolean): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, keep));
    else if (keep(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** why dist/ is not the build of these sources, or null when every output is newer than every source */
export function distStale(): string | null {
  const outputs = ['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/kernels/wasm/gemm.wasm', 'dist/kernels/wasm/gemm-relaxed.wasm', 'dist/web/verydeep.browser.js'];
  const missing = outputs.filter((f) => !existsSync(join(ROOT, f)));
  if (missing.length) return `missing ${missing.join(', ')}`;
  const built = Math.min(...outputs.map((f) => statSync(join(ROOT, f)).mtimeMs));
  const source = Math.max(newest(join(ROOT, 'lib'), (n) => n.endsWith('.ts')), newest(join(ROOT, 'kernels'), (n) => n.endsWith('.ts') || n.endsWith('.as')));
  return source > built ? 'a source under lib/ or kernels/ is newer than dist/' : null;
}

const CONSUMER_TS = `import { Vgg, randn, setBackend, noGrad, ops, nn, io, train, BackendError, type VggOptions, type Tensor } from 'verydeep';
const options: VggOptions = { numClasses: 10, inputSize: 32, inputChannels: 1, widthMultiplier: 0.125, fcWidth: 16 };
await setBackend('wasm');
const model: nn.Module = Vgg.configA(options).eval();
const x: Tensor = randn([2, 1, 32, 32], { seed: 1 });
const probs: Float32Array = await noGrad(() => ops.softmax(model.forward(x))).data();
console.log(probs.length, typeof io.saveSafetensors, typeof train, BackendError.name);
`;
// a misspelt option: tsc must refuse it (TS2561 or TS2353), or the types would be `any`
const BAD_TS = `import { Vgg } from 'verydeep';\nexport const m = Vgg.configA({ widthMultipler: 0.5 });\n`;

// the forward pass on the installed package, and headlessgl without gl; one JSON line
const RUN_MJS = `import * as verydeep from 'verydeep';
const { Vgg, randn, setBackend, noGrad, ops, getBackendInfo } = verydeep;
const out = { keys: Object.keys(verydeep).sort(), probs: {} };
for (const mode of ['cpu', 'wasm']) {
  await setBackend(mode);
  const model = Vgg.configA({ numClasses: 10, inputSize: 32, inputChannels: 1, widthMultiplier: 0.125, fcWidth: 16, init: 'glorot', seed: 3 }).eval();
  const y = noGrad(() => ops.softmax(model.forward(randn([2, 1, 32, 32], { seed: 1 }))));
  out.probs[mode] = { ran: getBackendInfo().mode, values: Array.from(await y.data()) };
}
try {
  await setBackend('headlessgl');
  out.headlessgl = 'opened';
} catch (e) {
  out.headlessgl = e.name + ': ' + e.message;
}
console.log(JSON.stringify(out));
`;
const REQUIRE_CJS = `const verydeep = require('verydeep');
console.log(JSON.stringify({ keys: Object.keys(verydeep).sort(), vgg: typeof verydeep.Vgg, version: require('verydeep/package.json').version }));
`;

function available(t: Test): boolean {
  const missing = registryMissing();
  if (!missing) return true;
  if (process.env.VERYDEEP_REQUIRE_PACKAGE === '1') t.fail(`VERYDEEP_REQUIRE_PACKAGE=1 but ${missing}`);
  else t.comment(`skipped: ${missing}`);
  return false;
}

export function registerPackageTests(): void {
  test('package: npm pack, then npm install of the tarball in an empty folder, works as a library and a command', async (t) => {
    t.timeoutAfter(10 * 60_000);
    if (!available(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'verydeep-package-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const started = Date.now();

    // pack: of the built tree where it is fresh
    const stale = distStale();
    if (stale) t.comment(`dist/ is not fresh (${stale}): npm pack runs prepare, which builds`);
    const packOut = (await run('npm', ['pack', '--json', '--pack-destination', dir, ...(stale ? [] : ['--ignore-scripts'])], ROOT, 300)).stdout;
    // npm's JSON is the last thing on stdout, after what a `prepare` build printed
    const packed = JSON.parse(packOut.slice(packOut.search(/^\[$(?![\s\S]*^\[$)/m)))[0] as
      { filename: string; size: number; unpackedSize: number; files: { path: string }[] };
    const files = new Set(packed.files.map((f) => f.path));
    for (const f of ['package.json', 'README.md', 'LICENSE', 'bin/verydeep.js', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/cli/index.js',
      'dist/kernels/wasm/gemm.wasm', 'dist/kernels/wasm/gemm-relaxed.wasm', 'dist/web/verydeep.browser.js', 'dist/lib/browser.d.ts']) {
      t.ok(files.has(f), `the tarball holds ${f}`);
    }
    const extra = [...files].filter((f) => /^(dist\/(test|bench|examples|scripts)|test|bench|notebooks|examples|scripts|runs|test-results|node_modules)\//.test(f) || f.endsWith('.bin'));
    t.same(extra, [], 'and no tests, benches, examples, scripts, notebooks, runs or data files');
    t.ok(packed.size < 3e6 && packed.unpackedSize < 15e6, `its size: ${(packed.size / 1e6).toFixed(2)} MB packed, ${(packed.unpackedSize / 1e6).toFixed(1)} MB unpacked, ${files.size} files (under 3 and 15 MB)`);

    // install, in an empty folder, as a user would; gl's build made to fail as on a machine
    // without compilers (prebuild-install told not to download, CC and CXX that fail), and
    // sharp's and protobufjs's install scripts denied (sharp runs from its prebuilt package)
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'verydeep-consumer', version: '1.0.0', private: true, type: 'module', allowScripts: { gl: true, sharp: false, protobufjs: false } }, null, 2));
    const installStarted = Date.now();
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed.filename)], app, 400,
      { npm_config_build_from_source: 'gl', CC: 'false', CXX: 'false' });
    const installS = (Date.now() - installStarted) / 1000;
    t.pass(`npm install of ${packed.filename} succeeded in ${installS.toFixed(0)} s, gl's build failing`);
    t.notOk(/EBADENGINE/.test(install.stdout + install.stderr), 'with no EBADENGINE warning (vega-lite 6.4 supports Node 20)');
    const installed = JSON.parse(readFileSync(join(app, 'node_modules/verydeep/package.json'), 'utf8'));
    t.equal(installed.version, pkg.version, `node_modules/verydeep is version ${pkg.version}`);
    t.ok(existsSync(join(app, 'node_modules/@types/ndarray/package.json')) && existsSync(join(app, 'node_modules/@types/node/package.json')),
      'with the @types packages its .d.ts files name (@types/ndarray, @types/node)');
    t.notOk(existsSync(join(app, 'node_modules/gl/build/Release/webgl.node')), 'and no gl build');

    // ESM and CommonJS
    writeFileSync(join(app, 'run.mjs'), RUN_MJS);
    writeFileSync(join(app, 'require.cjs'), REQUIRE_CJS);
    const esm = JSON.parse((await run(process.execPath, ['run.mjs'], app, 120)).stdout.trim().split('\n').pop()!);
    const cjs = JSON.parse((await run(process.execPath, ['require.cjs'], app, 60)).stdout.trim().split('\n').pop()!);
    t.ok(esm.keys.includes('Vgg') && esm.keys.length > 20, `import * from 'verydeep': ${esm.keys.length} exports, Vgg among them`);
    t.same(cjs.keys, esm.keys, `require('verydeep') gives the same ${cjs.keys.length} exports (Node ${process.versions.node} loads the ES module)`);
    t.equal(cjs.vgg, 'function', 'require(...).Vgg is the class');
    t.equal(cjs.version, pkg.version, "require('verydeep/package.json').version");
    for (const mode of ['cpu', 'wasm']) {
      const { ran, values } = esm.probs[mode] as { ran: string; values: number[] };
      const rows = [values.slice(0, 10), values.slice(10)].map((r) => r.reduce((a, b) => a + b, 0));
      t.ok(ran === mode && values.length === 20 && rows.every((s) => Math.abs(s - 1) < 1e-5) && values.every((v) => v > 0),
        `a VGG-A ×1/8 forward pass on ${mode}: 2 × 10 probabilities, each row summing to 1`);
    }
    const diff = Math.max(...esm.probs.cpu.values.map((v: number, i: number) => Math.abs(v - esm.probs.wasm.values[i])));
    const spread = Math.max(...esm.probs.cpu.values) - Math.min(...esm.probs.cpu.values);
    t.ok(diff < 1e-5 && spread > 1e-3, `cpu and wasm agree (max |diff| ${diff.toExponential(1)}); the probabilities differ (spread ${spread.toFixed(4)}), so it is not a constant`);
    t.match(esm.headlessgl, /^BackendError: setBackend\('headlessgl'\).*gl.*apt-get install build-essential.*npm rebuild gl.*xvfb-run/,
      'without gl, headlessgl is a BackendError saying how to get gl (Debian packages, npm rebuild gl, a display)');
    t.comment(`headlessgl: ${esm.headlessgl}`);

    // TypeScript, strict, against the installed .d.ts files
    writeFileSync(join(app, 'consumer.ts'), CONSUMER_TS);
    writeFileSync(join(app, 'bad.ts'), BAD_TS);
    const tscArgs = ['--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--noEmit'];
    await run(process.execPath, [TSC, ...tscArgs, 'consumer.ts'], app, 120);
    t.pass('a consumer .ts file type-checks with tsc --strict (module nodenext, no skipLibCheck)');
    const bad = spawnSync(process.execPath, [TSC, ...tscArgs, 'bad.ts'], { cwd: app, encoding: 'utf8' });
    t.ok(bad.status !== 0 && /widthMultipler/.test(bad.stdout), `and a misspelt option is a type error: ${bad.stdout.trim().split('\n')[0]}`);

    // the command
    const version = await run('npx', ['verydeep', '--version'], app, 60);
    t.equal(version.stdout.trim(), `verydeep ${pkg.version}`, 'npx verydeep --version');
    const help = await run('npx', ['verydeep', '--help'], app, 60);
    t.ok(/^Usage: verydeep <command>/m.test(help.stdout) && /train/.test(help.stdout), 'npx verydeep --help prints the usage');
    t.comment(`package: pack and install in ${((Date.now() - started) / 1000).toFixed(0)} s (install ${installS.toFixed(0)} s)`);
  });
}
