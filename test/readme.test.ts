/** The README's coverage table is the one generated from the kernel registry. */
import test from 'tape';
import { readFileSync } from 'node:fs';
import { replaceTable } from '../scripts/coverage-table.js';

export function registerReadmeTests(): void {
  test('README coverage table matches kernels/registry.ts', (t) => {
    const readme = readFileSync('README.md', 'utf8');
    t.equal(replaceTable(readme), readme, 'the table is up to date (npm run coverage-table rewrites it)');
    t.end();
  });
}
