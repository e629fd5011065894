/**
 * The README stays true: its coverage table is the one generated from the kernel registry,
 * and its training example (the TypeScript block under "Using it" that starts with
 * `import { Vgg, optim, ops, data, train, ...`) type-checks with `tsc --strict` against the
 * built package, imported by its name as a user's code does.
 */
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceTable } from '../scripts/coverage-table.js';

/** the ```ts blocks of the README whose first line imports `train` from 'verydeep' */
function trainingExamples(readme: string): string[] {
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).filter((code) => /^import \{[^}]*\btrain\b[^}]*\} from 'verydeep';/.test(code));
}

export function registerReadmeTests(): void {
  test('README coverage table matches kernels/registry.ts', (t) => {
    const readme = readFileSync('README.md', 'utf8');
    t.equal(replaceTable(readme), readme, 'the table is up to date (npm run coverage-table rewrites it)');
    t.end();
  });

  test('README: the training example type-checks with tsc --strict against the built package', (t) => {
    const examples = trainingExamples(readFileSync('README.md', 'utf8'));
    t.equal(examples.length, 1, 'one training example in the README');
    // inside the repository, so that 'verydeep' resolves to this package by its own name (package.json "exports")
    const dir = mkdtempSync(join('test-results', 'readme-'));
    try {
      writeFileSync(join(dir, 'example.ts'), examples[0]);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: ['node'] },
        files: ['example.ts'],
      }));
      const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
      t.equal(r.status, 0, `tsc --strict: ${r.status === 0 ? 'no errors' : (r.stdout + r.stderr).trim().split('\n').slice(0, 8).join(' | ')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    t.end();
  });
}
