#!/usr/bin/env node
// One-time set-up on a fresh machine, run before the tests and the demo (npm's pretest and
// predemo). Idempotent and quick once done. Needs only Node and npm:
//  1. Debian packages that headless-gl needs to build and run (../shared/GPUJS.md), when
//     we are root on Debian and they are missing; otherwise it says that headlessgl will
//     be skipped;
//  2. the npm dependencies, when node_modules is missing or older than package-lock.json;
//  3. the `gl` native module (gpu.js's optional headless-gl), built from source when its
//     build is missing and the packages above are there;
//  4. Debian's chromium, for the browser suite (test/browser.test.ts: webgl2 and webgpu in
//     headless Chromium, driven by playwright-core), when we are root on Debian;
//  5. for the notebooks (notebooks/*.ipynb, run by test/notebooks.test.ts): Debian's
//     jupyter-nbconvert, jupyter-client and python3-ipykernel when we are root on Debian,
//     the npm tslab kernel registered with Jupyter (this checkout's), and the link
//     notebooks/node_modules/verydeep → the package, through which the notebooks
//     `import ... from 'verydeep'` as a user's code does;
//  6. with `--for test` only (npm's pretest): Debian's python3-torch, python3-torchvision and
//     python3-onnx, the independent references of the interop suites (test/interop.test.ts,
//     test/ddp.test.ts, which also trains on Debian's dataset-fashion-mnist), when we are
//     root on Debian. The demo needs none of them.
// npm install runs with ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node (a devDependency)
// ships its CPU binaries in the package, and its install script would try a download.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const GL_PACKAGES = ['build-essential', 'python3', 'pkg-config', 'libx11-dev', 'libxext-dev', 'libxi-dev',
  'mesa-common-dev', 'libgl1-mesa-dri', 'xvfb', 'xauth'];

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', ...opts }).status === 0;
const quiet = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const log = (msg) => console.log(`[setup] ${msg}`);
const debInstalled = (p) => {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
};

function aptPackages() {
  if (!quiet('sh', ['-c', 'command -v apt-get && command -v dpkg-query'])) {
    log('not a Debian system: install the headless-gl build packages yourself to test the headlessgl mode');
    return false;
  }
  const missing = GL_PACKAGES.filter((p) => !debInstalled(p));
  if (missing.length === 0) return true;
  if (process.getuid?.() !== 0) {
    log(`missing Debian packages ${missing.join(' ')} (not root, so not installed): the headlessgl mode will be skipped`);
    return false;
  }
  log(`installing Debian packages for headless-gl: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return run('apt-get', ['update', '-qq'], { env }) && run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

const BROWSER_PACKAGES = ['chromium'];

function browserPackages() {
  if (!quiet('sh', ['-c', 'command -v apt-get']) || quiet('sh', ['-c', 'command -v chromium'])) return;
  if (process.getuid?.() !== 0) {
    log(`no chromium (not root, so not installed): the browser suite will be skipped; apt-get install ${BROWSER_PACKAGES.join(' ')}`);
    return;
  }
  log(`installing Debian packages for the browser suite: ${BROWSER_PACKAGES.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!(run('apt-get', ['update', '-qq'], { env }) && run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...BROWSER_PACKAGES], { env }))) {
    log('installing chromium failed: the browser suite will be skipped');
  }
}

const INTEROP_PACKAGES = ['python3-torch', 'python3-torchvision', 'python3-onnx', 'dataset-fashion-mnist'];

function interopPackages() {
  if (!quiet('sh', ['-c', 'command -v apt-get && command -v dpkg-query'])) return;
  const missing = INTEROP_PACKAGES.filter((p) => !debInstalled(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    log(`missing Debian packages ${missing.join(' ')} (not root, so not installed): the interop suites will be skipped`);
    return;
  }
  log(`installing Debian packages for the interop suites (PyTorch, torchvision, ONNX: about 1-2 minutes, once): ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!(run('apt-get', ['update', '-qq'], { env }) && run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env }))) {
    log('installing the PyTorch packages failed: the interop suites will be skipped');
  }
}

const NOTEBOOK_PACKAGES = ['jupyter-nbconvert', 'jupyter-client', 'python3-ipykernel'];
const NOTEBOOK_LINK = 'notebooks/node_modules/verydeep';

function notebookPackages() {
  if (!quiet('sh', ['-c', 'command -v apt-get && command -v dpkg-query'])) return;
  const missing = NOTEBOOK_PACKAGES.filter((p) => !debInstalled(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    log(`missing Debian packages ${missing.join(' ')} (not root, so not installed): the notebooks will be skipped`);
    return;
  }
  log(`installing Debian packages for the notebooks: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!(run('apt-get', ['update', '-qq'], { env }) && run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env }))) {
    log('installing the Jupyter packages failed: the notebooks will be skipped');
  }
}

/** registers this checkout's tslab with Jupyter (unless it is already), and links the package for the notebooks */
function notebookKernel() {
  const tslab = resolve('node_modules/.bin/tslab');
  if (existsSync(tslab) && quiet('sh', ['-c', 'command -v jupyter'])) {
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

function npmInstalled() {
  const marker = 'node_modules/.package-lock.json';
  return existsSync(marker) && statSync(marker).mtimeMs >= statSync('package-lock.json').mtimeMs;
}

const glReady = aptPackages();
browserPackages();
notebookPackages();
const forTests = process.argv.includes('--for') && process.argv[process.argv.indexOf('--for') + 1] === 'test';
if (forTests) interopPackages();
if (!npmInstalled()) {
  log('installing npm dependencies');
  if (!run('npm', ['install', '--no-audit', '--no-fund'], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } })) process.exit(1);
}
if (glReady && !existsSync('node_modules/gl/build/Release/webgl.node')) {
  log('building headless-gl (gl) from source: about 3-4 minutes, once');
  if (!run('npm', ['rebuild', 'gl'])) log('the gl build failed: the headlessgl mode will be skipped');
}
notebookKernel();
