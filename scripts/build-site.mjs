#!/usr/bin/env node
// `npm run build:site` (after `npm run build`): the project's static site, in site/ (issue #17).
//
//   site/index.html          links to all below
//   site/playground/         the web playground (examples/web/, every page there: index.html,
//                            bench.html when it exists) with the dist/web/ files the pages load
//                            (the bundles and mnist-digits.bin; no test bundle, no source maps),
//                            and coi-sw.js, the service worker that isolates a page where the
//                            host cannot send headers
//   site/notebooks/*.html    the six notebooks, executed (tslab kernel) and rendered by
//                            `jupyter nbconvert --to html --execute`
//   site/api/                the API reference (typedoc, typedoc.json, as `npm run docs`)
//   site/_headers            COOP/COEP/CORP for the playground, in the format Netlify and
//                            Cloudflare Pages read
//   site/.nojekyll           GitHub Pages: serve the folders as they are
//
// Options: --out DIR (site), --no-notebooks (a fast build: no Jupyter needed), --no-api.
// The notebooks run in notebooks/ (their working directory: they import the built package
// through notebooks/node_modules/verydeep, made here if missing, as scripts/setup.mjs makes it,
// and notebook 4 writes the weights that 5 and 6 reuse to runs/notebooks/). The kernel is this
// checkout's tslab, through a kernelspec written to a temporary JUPYTER_PATH, so the build
// does not depend on which checkout `tslab install` registered.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();

// ---- options ---------------------------------------------------------------------------
const argv = process.argv.slice(2);
let out = join(root, 'site');
let notebooks = true, api = true;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--no-notebooks') notebooks = false;
  else if (a === '--no-api') api = false;
  else if (a === '--out' && argv[i + 1]) out = resolve(argv[++i]);
  else if (a.startsWith('--out=')) out = resolve(a.slice('--out='.length));
  else if (a === '--help') {
    console.log('usage: node scripts/build-site.mjs [--out DIR] [--no-notebooks] [--no-api]   (npm run build:site -- ...)');
    process.exit(0);
  } else {
    console.error(`error: build-site: unknown option ${a}; expected --out DIR, --no-notebooks, --no-api`);
    process.exit(2);
  }
}
const fail = (message) => {
  console.error(`error: build-site: ${message}`);
  process.exit(1);
};
const log = (line) => console.log(`build-site: ${line}`);

const webDist = join(root, 'dist/web');
for (const f of ['verydeep.browser.js', 'playground.js', 'mnist-digits.bin']) {
  if (!existsSync(join(webDist, f))) fail(`dist/web/${f} is missing: run npm run build first (npm run build:site does)`);
}
if (resolve(out) === resolve(root) || resolve(root).startsWith(resolve(out) + '/')) fail(`--out ${out} would overwrite the repository`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// ---- the playground --------------------------------------------------------------------
/**
 * Each playground page registers the service worker where it is not cross-origin isolated,
 * and reloads once when the worker has taken the page (a flag in sessionStorage stops a loop
 * where the worker cannot isolate it, e.g. a browser without service workers in private mode).
 */
const REGISTER_WORKER = `<script>
// added by scripts/build-site.mjs: cross-origin isolation on a host that cannot send COOP/COEP (coi-sw.js)
if (window.crossOriginIsolated) sessionStorage.removeItem('coi-reloaded');
else if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('./coi-sw.js').then(() => navigator.serviceWorker.ready).then(() => {
    const reload = () => {
      if (sessionStorage.getItem('coi-reloaded')) return console.warn('coi-sw.js: the page is still not cross-origin isolated after a reload');
      sessionStorage.setItem('coi-reloaded', '1');
      location.reload();
    };
    if (navigator.serviceWorker.controller) reload();
    else navigator.serviceWorker.addEventListener('controllerchange', reload, { once: true });
  }, (e) => console.warn('coi-sw.js: the service worker was not registered:', e));
}
</script>`;

const playground = join(out, 'playground');
mkdirSync(playground);
const pages = [];
for (const f of readdirSync(join(root, 'examples/web')).sort()) {
  const from = join(root, 'examples/web', f);
  if (!statSync(from).isFile() || f.endsWith('.ts')) continue; // the TypeScript is bundled into dist/web
  if (f.endsWith('.html')) {
    const html = readFileSync(from, 'utf8');
    // after <meta charset> (which must come within the first 1024 bytes), else right after <head>
    const at = /<meta charset[^>]*>/i.test(html) ? /<meta charset[^>]*>/i : /<head>/i;
    if (!at.test(html)) fail(`examples/web/${f} has no <head> for the service worker's snippet`);
    writeFileSync(join(playground, f), html.replace(at, (tag) => `${tag}\n  ${REGISTER_WORKER.replace(/\n/g, '\n  ')}`));
    pages.push(f);
  } else cpSync(from, join(playground, f));
}
for (const f of readdirSync(webDist).sort()) {
  if (f.endsWith('.map') || f.startsWith('kernel-checks')) continue; // source maps and the browser test's bundle stay out
  cpSync(join(webDist, f), join(playground, f), { recursive: true });
}
if (!existsSync(join(playground, 'coi-sw.js'))) fail('examples/web/coi-sw.js is missing');
log(`playground/: ${pages.join(', ')} and ${readdirSync(playground).length - pages.length} other files`);

// ---- the notebooks ---------------------------------------------------------------------
/** the first markdown heading of a notebook, as its title */
function notebookTitle(path) {
  const nb = JSON.parse(readFileSync(path, 'utf8'));
  const md = nb.cells.find((c) => c.cell_type === 'markdown');
  const first = (Array.isArray(md?.source) ? md.source.join('') : md?.source ?? '').split('\n').find((l) => l.startsWith('#'));
  return first ? first.replace(/^#+\s*/, '') : path;
}

/**
 * MathJax (the notebooks' formulas) and require.js from a CDN, as upstream nbconvert has them:
 * Debian's nbconvert points to file:///usr/share/javascript/, which a visitor does not have.
 */
const CDN = [
  '--HTMLExporter.mathjax_url=https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/MathJax.js?config=TeX-AMS_CHTML-full,Safe',
  '--HTMLExporter.require_js_url=https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js',
];
const notebookPages = [];
const notebookTimes = {};
if (notebooks) {
  const env = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' };
  // what the notebooks need beyond npm (Jupyter, the tslab kernel's link), installed by the
  // project's set-up as for `npm run notebooks`; a build with --no-notebooks installs none of it
  if (spawnSync('jupyter', ['nbconvert', '--version'], { env, stdio: 'ignore' }).status !== 0) {
    spawnSync(process.execPath, [join(root, 'scripts/setup.mjs'), '--for', 'notebooks'], { stdio: 'inherit' });
  }
  if (spawnSync('jupyter', ['nbconvert', '--version'], { env }).status !== 0) {
    fail('jupyter nbconvert is not installed (npm run setup -- --for notebooks installs it as root on Debian); --no-notebooks builds the rest');
  }
  const tslab = join(root, 'node_modules/.bin/tslab');
  if (!existsSync(tslab)) fail(`${tslab} is missing (npm install)`);
  if (!existsSync(join(root, 'dist/lib/index.js'))) fail('the package is not built (npm run build)');
  const link = join(root, 'notebooks/node_modules/verydeep');
  if (!existsSync(join(link, 'package.json'))) {
    mkdirSync(dirname(link), { recursive: true });
    rmSync(link, { force: true });
    symlinkSync('../..', link, 'dir');
  }
  const jupyterPath = mkdtempSync(join(tmpdir(), 'verydeep-site-kernel-'));
  mkdirSync(join(jupyterPath, 'kernels/tslab'), { recursive: true });
  writeFileSync(join(jupyterPath, 'kernels/tslab/kernel.json'), JSON.stringify({
    argv: [tslab, 'kernel', '--config-path', '{connection_file}'], display_name: 'TypeScript', language: 'typescript',
  }));
  env.JUPYTER_PATH = [jupyterPath, process.env.JUPYTER_PATH].filter(Boolean).join(':');
  // the lab template, but SVG outputs as they are: its clean_html filter (bleach) turns an SVG's
  // <image> into <img> and drops viewBox and style, so viz.imageGridSvg's pictures came out blank
  const template = join(jupyterPath, 'site-notebook.html.j2');
  writeFileSync(template, [
    "{%- extends 'lab/index.html.j2' -%}",
    '{% block data_svg scoped -%}',
    '<div class="jp-RenderedSVG jp-OutputArea-output {{ extra_class }}" data-mime-type="image/svg+xml">',
    "{{ output.data['image/svg+xml'] }}",
    '</div>',
    '{%- endblock data_svg %}',
    '',
  ].join('\n'));
  mkdirSync(join(out, 'notebooks'));
  try {
    for (const f of readdirSync(join(root, 'notebooks')).filter((n) => n.endsWith('.ipynb')).sort()) {
      const t0 = Date.now();
      const r = spawnSync('jupyter', ['nbconvert', '--to', 'html', '--execute', '--ExecutePreprocessor.timeout=300', ...CDN, `--template-file=${template}`,
        '--output-dir', join(out, 'notebooks'), join(root, 'notebooks', f)], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) fail(`notebooks/${f} failed to run (a failing cell fails the build):\n${(r.stderr ?? '').split('\n').filter((l) => l.trim()).slice(-25).join('\n')}`);
      notebookTimes[f] = (Date.now() - t0) / 1000;
      const html = f.replace(/\.ipynb$/, '.html');
      notebookPages.push({ href: `notebooks/${html}`, title: notebookTitle(join(root, 'notebooks', f)), source: f });
      log(`notebooks/${html} in ${notebookTimes[f].toFixed(1)} s`);
    }
  } finally {
    rmSync(jupyterPath, { recursive: true, force: true });
  }
}

// ---- the API reference -----------------------------------------------------------------
if (api) {
  const t0 = Date.now();
  const typedoc = join(root, 'node_modules/typedoc/bin/typedoc');
  const r = spawnSync(process.execPath, [typedoc, '--options', join(root, 'typedoc.json'), '--out', join(out, 'api')], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) fail(`typedoc failed:\n${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-20).join('\n')}`);
  log(`api/ (typedoc) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

// ---- headers, index --------------------------------------------------------------------
const ISOLATION = ['Cross-Origin-Opener-Policy: same-origin', 'Cross-Origin-Embedder-Policy: require-corp', 'Cross-Origin-Resource-Policy: same-origin'];
writeFileSync(join(out, '_headers'), [
  '# Netlify and Cloudflare Pages read this file (scripts/build-site.mjs writes it): the playground',
  '# is cross-origin isolated, so that browsers give it SharedArrayBuffer (gpu.js webasm threads).',
  '# Elsewhere set these headers on /playground/ in the host\'s own configuration; on a host that',
  '# cannot (GitHub Pages), playground/coi-sw.js, a service worker, adds them after one reload.',
  '# The notebooks and the API reference need no isolation (and load scripts from CDNs).',
  ...['/playground', '/playground/*'].flatMap((path) => [path, ...ISOLATION.map((h) => `  ${h}`)]),
  '',
].join('\n'));
writeFileSync(join(out, '.nojekyll'), '');

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const item = (href, title, note) => `    <li><a href="${href}">${esc(title)}</a>${note ? ` <span>${esc(note)}</span>` : ''}</li>`;
const index = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>verydeep: very deep convolutional networks in TypeScript</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 760px; margin: 0 auto; padding: 16px; color: #1d2330; }
    h2 { font-size: 18px; margin-top: 24px; } li { margin: 4px 0; } li span { color: #5a6272; font-size: 14px; }
  </style>
</head>
<body>
  <h1>verydeep</h1>
  <p>The VGG nets of Simonyan &amp; Zisserman (<i>Very Deep Convolutional Networks for Large-Scale Image Recognition</i>,
    2014) built from scratch in TypeScript: gpu.js kernels, a small autograd core, layers, and the paper's training and testing.</p>
  <h2>In your browser</h2>
  <ul>
${pages.map((p) => item(`playground/${p === 'index.html' ? '' : p}`, p === 'index.html' ? 'The playground' : `The playground's ${p.replace(/\.html$/, '')} page`,
    p === 'index.html' ? 'a VGG-A learns MNIST in the tab; draw a digit; load a model.safetensors trained by verydeep train' : '')).join('\n')}
  </ul>
  <h2>Notebooks</h2>
${notebookPages.length ? `  <ul>\n${notebookPages.map((n) => item(n.href, n.title, `executed from notebooks/${n.source}`)).join('\n')}\n  </ul>`
    : '  <p>This build was made without the notebooks (<code>--no-notebooks</code>).</p>'}
  <h2>Reference</h2>
${api ? `  <ul>\n${item('api/index.html', 'The API reference', 'typedoc, every export of the verydeep package')}\n  </ul>` : '  <p>This build was made without the API reference (<code>--no-api</code>).</p>'}
  <p><small>Built ${new Date().toISOString().slice(0, 10)} by <code>npm run build:site</code>.</small></p>
</body>
</html>
`;
writeFileSync(join(out, 'index.html'), index);

/** the bytes under a folder */
const sizeOf = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? sizeOf(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const parts = ['playground', 'notebooks', 'api'].filter((d) => existsSync(join(out, d))).map((d) => `${d}/ ${mb(sizeOf(join(out, d)))}`);
log(`wrote ${relative(process.cwd(), out) || '.'}/ (${mb(sizeOf(out))}: ${parts.join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
