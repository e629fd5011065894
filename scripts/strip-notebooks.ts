/**
 * Strips what running a notebook adds to it: outputs, execution counts, cell metadata
 * (Jupyter's execution timings) and the kernel's language_info details, and writes the JSON
 * as Jupyter does (keys sorted, indent 1), so that a notebook's diff shows its cells' sources
 * only. test/notebooks.test.ts fails when a committed notebook is not its own stripped form.
 *   node dist/scripts/strip-notebooks.js notebooks/*.ipynb     (npm run notebooks:strip)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

/** The stripped notebook, as the text of its file. */
export function stripNotebook(text: string): string {
  const nb = JSON.parse(text) as { cells: Record<string, Json>[]; metadata: Record<string, Json> };
  for (const cell of nb.cells) {
    cell.metadata = {};
    if (cell.cell_type === 'code') {
      cell.outputs = [];
      cell.execution_count = null;
    }
  }
  nb.metadata.language_info = { file_extension: '.ts', mimetype: 'text/typescript', name: 'typescript' };
  return JSON.stringify(sortKeys(nb as unknown as Json), null, 1) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const path of process.argv.slice(2)) {
    const before = readFileSync(path, 'utf8');
    const after = stripNotebook(before);
    if (after !== before) writeFileSync(path, after);
    console.log(`${path}: ${after === before ? 'already stripped' : 'stripped'}`);
  }
}
