/**
 * `npm run web`: serves the web playground on http://localhost:8080/ (PORT=... for another
 * port): the files of examples/web/ and of dist/web/ (built by `npm run build`), the first
 * folder that has a file wins. test/browser.test.ts starts the same server on a free port.
 * Every answer carries the cross-origin isolation headers (COOP/COEP), without which a
 * browser gives no SharedArrayBuffer, so that the 'wasm' fast path and gpu.js's webasm mode
 * can use their threads; `isolated: false` (ISOLATED=0 for `npm run web`) leaves them out, to
 * see a page that is not isolated (the playground then runs 'wasm' on one thread, and says so).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the repository, from dist/scripts/ */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_ROOTS = [join(REPO_ROOT, 'examples/web'), join(REPO_ROOT, 'dist/web')];

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.ts': 'text/plain; charset=utf-8',
};

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The file for a URL path in the first root that has it, or null (never outside the roots). */
async function find(roots: readonly string[], urlPath: string): Promise<string | null> {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  if (path.endsWith('/')) path += 'index.html';
  for (const dir of roots) {
    const file = resolve(dir, '.' + path);
    if (!file.startsWith(resolve(dir) + sep)) return null;
    try {
      if ((await stat(file)).isFile()) return file;
    } catch { /* not in this root */ }
  }
  return null;
}

/**
 * Starts the server; resolves with its URL and a close(). `port` 0 picks a free port.
 * Listens on 127.0.0.1 only. `isolated` (default true): send the COOP/COEP headers.
 */
export async function serveWeb({ roots = WEB_ROOTS, port = 8080, isolated = true }: { roots?: readonly string[]; port?: number; isolated?: boolean } = {}):
  Promise<{ url: string; close: () => Promise<void> }> {
  const HEADERS = { ...(isolated ? ISOLATION_HEADERS : {}), 'Cache-Control': 'no-store' };
  const server = createServer(async (req, res) => {
    const file = req.method === 'GET' || req.method === 'HEAD' ? await find(roots, req.url ?? '/') : null;
    if (!file) {
      res.writeHead(404, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`not found: ${req.url}\n`);
      return;
    }
    const body = await readFile(file);
    res.writeHead(200, { ...HEADERS, 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const url = `http://localhost:${(server.address() as AddressInfo).port}/`;
  return { url, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = ['verydeep.browser.js', 'playground.js', 'mnist-digits.bin'].filter((f) => !WEB_ROOTS.some((r) => existsSync(join(r, f))));
  if (missing.length) console.log(`note: dist/web/ lacks ${missing.join(', ')}: run npm run build first`);
  const isolated = process.env.ISOLATED !== '0';
  const { url } = await serveWeb({ port: Number(process.env.PORT ?? 8080), isolated });
  console.log(`verydeep playground: ${url}  (?mode=auto|wasm|webgpu|webgl2|webasm|cpu; ${isolated ? 'cross-origin isolated' : 'not isolated (ISOLATED=0)'}; Ctrl-C stops)`);
}

