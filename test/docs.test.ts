/**
 * The API reference (issue #15): typedoc with the project's typedoc.json, which makes every
 * warning an error and warns on any export without a doc comment (validation.notDocumented).
 * Runs it as `npm run docs` does, but writes to test-results/docs-api (git-ignored) so that
 * the test leaves docs/api alone; passes when typedoc exits 0 without a warning and a page
 * exists for each namespace of the entry. Takes ~15 s (typedoc type-checks the sources).
 */
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const ROOT = resolve('.');
const OUT = join(ROOT, 'test-results', 'docs-api');
/** the namespaces lib/index.ts exports, one page each (issue #15's list, and the float64 references) */
const NAMESPACES = ['ops', 'nn', 'optim', 'train', 'evaluate', 'io', 'data', 'viz', 'reference'];

export function registerDocsTests(): void {
  test('docs: typedoc renders the API reference without a warning, a page per namespace', (t) => {
    const typedoc = join(createRequire(import.meta.url).resolve('typedoc/package.json'), '..', 'bin', 'typedoc');
    rmSync(OUT, { recursive: true, force: true });
    // the config as it is (treatWarningsAsErrors included); only the output folder differs
    const r = spawnSync(process.execPath, [typedoc, '--options', join(ROOT, 'typedoc.json'), '--out', OUT], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    // eslint-disable-next-line no-control-regex
    const output = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '');
    const warnings = output.split('\n').filter((l) => /\[(warning|error)\]/.test(l));
    t.equal(r.status, 0, `typedoc exits 0 (got ${r.status ?? r.signal ?? r.error?.message})`);
    t.equal(warnings.length, 0, warnings.length ? `no warnings; the first of ${warnings.length}:\n${warnings.slice(0, 15).join('\n')}` : 'no warnings');
    for (const ns of NAMESPACES) t.ok(existsSync(join(OUT, 'modules', `${ns}.html`)), `a page for the namespace ${ns}`);
    t.ok(existsSync(join(OUT, 'index.html')), 'an index.html');
    t.end();
  });
}
