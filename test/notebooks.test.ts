/**
 * The notebooks (notebooks/*.ipynb, TypeScript on Jupyter's tslab kernel):
 *  1. as committed they carry no outputs (they are what scripts/strip-notebooks.ts makes of
 *     them: no outputs, execution counts or cell metadata), use the tslab kernel, and import
 *     the library as a user does (`from 'verydeep'`);
 *  2. each one runs top to bottom under `jupyter nbconvert --to notebook --execute` (a cell
 *     that fails, fails the notebook; 180 s per cell at most) within 3 minutes, and shows at
 *     least one picture; the executed copies go to test-results/notebooks/, with each
 *     notebook's wall time in timings.json.
 * Before the run, runs/notebooks/ (the weights that notebook 4 trains and 5 and 6 reuse) is
 * removed, so the notebooks run as on a clean clone.
 *
 * Where jupyter, the tslab kernel or the notebooks' link to the package is missing
 * (scripts/setup.mjs installs and registers them), part 2 is skipped with a `# skipped`
 * line; with VERYDEEP_REQUIRE_NOTEBOOKS=1 (CI, `npm run notebooks`) it fails instead.
 */
import test from 'tape';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripNotebook } from '../scripts/strip-notebooks.js';

const NOTEBOOKS = 'notebooks';
const OUT = join('test-results', 'notebooks');
const CELL_TIMEOUT_S = 180;
const NOTEBOOK_LIMIT_S = 180;
const execFileAsync = promisify(execFile);
const quietPython = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' }; // no debugger warnings from Python 3.11

interface NotebookCell {
  cell_type: string;
  source: string[] | string;
  execution_count?: number | null;
  outputs?: { output_type: string; data?: Record<string, unknown> }[];
}
interface Notebook {
  cells: NotebookCell[];
  metadata: { kernelspec?: { name?: string; language?: string } };
}

const notebookFiles = () => readdirSync(NOTEBOOKS).filter((f) => f.endsWith('.ipynb')).sort();
const readNotebook = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Notebook;
const sourceOf = (cell: NotebookCell) => (Array.isArray(cell.source) ? cell.source.join('') : cell.source);

/** why the notebooks cannot run here, or null when they can */
function missingTools(): string | null {
  const env = quietPython;
  if (spawnSync('jupyter', ['nbconvert', '--version'], { encoding: 'utf8', env }).status !== 0) {
    return 'jupyter nbconvert is not installed (Debian: jupyter-nbconvert jupyter-client python3-ipykernel; scripts/setup.mjs installs them as root)';
  }
  const list = spawnSync('jupyter', ['kernelspec', 'list', '--json'], { encoding: 'utf8', env });
  let argv0: string | undefined;
  try {
    argv0 = (JSON.parse(list.stdout) as { kernelspecs: Record<string, { spec: { argv: string[] } }> }).kernelspecs.tslab?.spec.argv[0];
  } catch {
    return `jupyter kernelspec list failed: ${list.stderr.trim().split('\n').pop()}`;
  }
  if (!argv0) return 'the tslab kernel is not registered with Jupyter (scripts/setup.mjs registers it: tslab install --python=/usr/bin/python3)';
  if (!existsSync(argv0)) return `the tslab kernel points to ${argv0}, which does not exist (npm run setup registers this checkout's)`;
  if (!existsSync(join(NOTEBOOKS, 'node_modules', 'verydeep', 'package.json'))) return `${NOTEBOOKS}/node_modules/verydeep, the notebooks' link to the package, is missing (npm run setup makes it)`;
  if (!existsSync(join('dist', 'lib', 'index.js'))) return 'the package is not built (npm run build)';
  return null;
}

export function registerNotebookTests(): void {
  test('notebooks: committed without outputs, on the tslab kernel, importing from \'verydeep\'', (t) => {
    const files = notebookFiles();
    t.ok(files.length >= 5 && files.length <= 7, `${files.length} notebooks: ${files.join(', ')}`);
    for (const f of files) {
      const text = readFileSync(join(NOTEBOOKS, f), 'utf8');
      const nb = JSON.parse(text) as Notebook;
      const code = nb.cells.filter((c) => c.cell_type === 'code');
      const withOutputs = code.filter((c) => (c.outputs?.length ?? 0) > 0 || (c.execution_count ?? null) !== null).length;
      t.ok(withOutputs === 0 && text === stripNotebook(text), `${f}: no outputs, execution counts or cell metadata in its ${code.length} code cells` +
        (withOutputs ? ` (${withOutputs} have some: npm run notebooks:strip)` : text !== stripNotebook(text) ? ' (not in stripped form: npm run notebooks:strip)' : ''));
      t.equal(nb.metadata.kernelspec?.name, 'tslab', `${f}: kernel tslab (${nb.metadata.kernelspec?.language})`);
      t.ok(code.some((c) => /from 'verydeep'/.test(sourceOf(c))), `${f}: imports from 'verydeep'`);
      t.ok(nb.cells.filter((c) => c.cell_type === 'markdown').length >= 3, `${f}: explains itself in markdown cells`);
    }
    t.end();
  });

  test('notebooks: each runs top to bottom under jupyter nbconvert --execute within 3 minutes and shows pictures', async (t) => {
    const missing = missingTools();
    if (missing) {
      if (process.env.VERYDEEP_REQUIRE_NOTEBOOKS === '1') t.fail(`VERYDEEP_REQUIRE_NOTEBOOKS=1 but ${missing}`);
      else t.comment(`skipped: the notebooks do not run here: ${missing}`);
      t.end();
      return;
    }
    rmSync(join('runs', 'notebooks'), { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const timings: Record<string, number> = {};
    for (const f of notebookFiles()) {
      const started = performance.now();
      let failure: string | null = null;
      try {
        await execFileAsync('jupyter', ['nbconvert', '--to', 'notebook', '--execute', `--ExecutePreprocessor.timeout=${CELL_TIMEOUT_S}`,
          '--output-dir', OUT, join(NOTEBOOKS, f)], { env: quietPython, timeout: 2 * NOTEBOOK_LIMIT_S * 1000, maxBuffer: 64 << 20 });
      } catch (e) {
        const err = e as Error & { code?: number | string; signal?: string; stderr?: string };
        failure = `exited with ${err.signal ?? err.code}: ${(err.stderr ?? err.message).split('\n').filter((l) => l.trim()).slice(-25).join('\n')}`;
      }
      const seconds = (performance.now() - started) / 1000;
      timings[f] = +seconds.toFixed(1);
      if (failure) {
        t.fail(`${f}: nbconvert ${failure} (after ${seconds.toFixed(1)} s)`);
        continue;
      }
      t.pass(`${f}: executed in ${seconds.toFixed(1)} s`);
      t.ok(seconds < NOTEBOOK_LIMIT_S, `${f}: under ${NOTEBOOK_LIMIT_S} s (${seconds.toFixed(1)} s)`);
      const outputs = readNotebook(join(OUT, f)).cells.flatMap((c) => c.outputs ?? []);
      const pictures = outputs.filter((o) => o.data && ('image/svg+xml' in o.data || 'image/png' in o.data)).length;
      t.ok(pictures > 0, `${f}: ${pictures} pictures among ${outputs.length} outputs`);
    }
    writeFileSync(join(OUT, 'timings.json'), JSON.stringify({ seconds: timings, total: +Object.values(timings).reduce((a, b) => a + b, 0).toFixed(1) }, null, 1) + '\n');
    t.comment(`notebook wall times (s): ${JSON.stringify(timings)}; written to ${join(OUT, 'timings.json')}`);
    t.end();
  });
}
