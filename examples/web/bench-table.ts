/**
 * The benchmark page's results (examples/web/bench.ts): the row record, the HTML table and
 * the same table in markdown (the "Copy as markdown" button, the README).
 */
import type { Timing } from './bench-timing.js';

export interface BenchRow {
  /** our mode and the tfjs backend it runs against */
  ours: string;
  tfjs: string;
  workload: string;
  /** the shape that ran, and the VGG shape (rung 0) when it was scaled down */
  shape: string;
  vggShape: string;
  scaled: boolean;
  flops: number;
  oursTiming: Timing | null;
  tfjsTiming: Timing | null;
  /** ours median ms ÷ tfjs median ms (< 1: ours is faster) */
  ratio: number | null;
  /** the median of the rounds' ours ÷ tfjs */
  pairedRatio: number | null;
  /** max |ours − tfjs| / max |ours| */
  agreement: number | null;
  bound: number;
  /** agreement ≤ bound; null where tfjs did not run */
  agrees: boolean | null;
  /** why ours did not run (our mode failed to open, or the kernel threw) */
  oursError?: string;
  /** why tfjs did not run */
  tfjsNote?: string;
  /** a larger shape that failed (the row then ran the largest shape that worked) */
  failed?: string;
}

export interface BenchMeta {
  date: string;
  url: string;
  userAgent: string;
  webgl: string;
  webgpu: string;
  cores: number;
  crossOriginIsolated: boolean;
  settings: string;
  /** each side's description as it opened (or its error) */
  engines: string[];
  seconds: number;
}

const sig = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(3));
const ms = (t: Timing | null) => (t ? sig(t.medianMs) : '—');
const gflops = (r: BenchRow, t: Timing | null) => (t ? sig(r.flops / t.medianMs / 1e6) : '—');
const ratio = (r: BenchRow) => (r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`);
const delta = (r: BenchRow) =>
  r.agreement === null ? '—' : `${Number.isFinite(r.agreement) ? r.agreement.toExponential(1) : '∞'} ${r.agrees ? '≤' : '>'} ${r.bound.toExponential(0)}${r.agrees ? '' : ' ✗'}`;
const oursCell = (r: BenchRow) => (r.oursError ? `error: ${r.oursError}` : ms(r.oursTiming));
const tfjsCell = (r: BenchRow) => (r.tfjsTiming ? ms(r.tfjsTiming) : r.tfjsNote ? `none: ${r.tfjsNote}` : '—');

export const COLUMNS = ['ours', 'vs tfjs', 'workload', 'shape', 'ours ms', 'ours GFLOP/s', 'tfjs ms', 'tfjs GFLOP/s', 'ours ÷ tfjs time', 'Δ (bound)'];

function cells(r: BenchRow): string[] {
  return [r.ours, r.tfjs, r.workload, (r.scaled ? `${r.shape} (VGG: ${r.vggShape})` : r.shape) + (r.failed ? `; ${r.failed}` : ''), oursCell(r), gflops(r, r.oursTiming),
    tfjsCell(r), gflops(r, r.tfjsTiming), ratio(r), delta(r)];
}

/**
 * The issue-17 target, "our webgl2 conv forward within 3× of tfjs-webgl's time": one line per
 * shape that both ran, and whether each is within.
 */
export function webglTarget(rows: BenchRow[]): string {
  const fwd = rows.filter((r) => r.ours === 'webgl2' && r.workload === 'conv 3×3 forward' && r.ratio !== null);
  if (!fwd.length) return 'webgl2 conv 3×3 forward ÷ tfjs-webgl: not measured in this run.';
  const within = fwd.filter((r) => r.ratio! <= 3).length;
  return `webgl2 conv 3×3 forward ÷ tfjs-webgl time (target ≤ 3×): ${fwd.map((r) => `${r.shape} ${r.ratio!.toFixed(2)}×`).join(', ')}; ` +
    `${within} of ${fwd.length} shapes within 3×.`;
}

function header(m: BenchMeta): string[] {
  return [
    `verydeep benchmark page, ${m.date} (${m.seconds.toFixed(0)} s): ${m.url}`,
    `Browser: ${m.userAgent}; ${m.cores} logical cores; cross-origin isolated: ${m.crossOriginIsolated}`,
    `WebGL renderer: ${m.webgl}. WebGPU adapter: ${m.webgpu}.`,
    `Settings: ${m.settings}`,
    ...m.engines,
  ];
}

const escapeMd = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdown(rows: BenchRow[], meta: BenchMeta): string {
  const lines = header(meta).map((l) => `${l}  `);
  lines.push('', `| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`);
  for (const r of rows) lines.push(`| ${cells(r).map(escapeMd).join(' | ')} |`);
  lines.push('', webglTarget(rows), '', LEGEND);
  return lines.join('\n') + '\n';
}

export const LEGEND = 'ms: median of the timed rounds (ours and tfjs alternate, one run each per round, after 3 warm-up runs each), ' +
  'the result read back to a host Float32Array inside the timing; our kernels take host arrays, so ours uploads its inputs in every run, ' +
  'while tfjs\'s stay on its backend (uploaded once, as a model\'s weights). GFLOP/s: a direct algorithm\'s work (2·N·Cin·Cout·k²·H·W per conv pass; ' +
  'a training step counts 3× its forward). ours ÷ tfjs: > 1 when ours is slower. Δ: max |ours − tfjs| / max |ours| on the same values. ' +
  'A shape with "(VGG: …)" is scaled down from VGG\'s to fit the page\'s time budget on this machine.';

export function renderTable(el: HTMLElement, rows: BenchRow[], meta: BenchMeta | null): void {
  const doc = el.ownerDocument;
  el.replaceChildren();
  if (meta) {
    const head = doc.createElement('div');
    head.className = 'meta';
    for (const l of header(meta)) {
      const p = doc.createElement('p');
      p.textContent = l;
      head.append(p);
    }
    el.append(head);
  }
  const table = doc.createElement('table');
  const tr = doc.createElement('tr');
  for (const c of COLUMNS) {
    const th = doc.createElement('th');
    th.textContent = c;
    tr.append(th);
  }
  table.append(tr);
  for (const r of rows) {
    const row = doc.createElement('tr');
    if (r.agrees === false) row.className = 'disagrees';
    if (r.oursError) row.className = 'failed';
    for (const c of cells(r)) {
      const td = doc.createElement('td');
      td.textContent = c;
      row.append(td);
    }
    table.append(row);
  }
  el.append(table);
  const target = doc.createElement('p');
  target.className = 'target';
  target.textContent = webglTarget(rows);
  const legend = doc.createElement('p');
  legend.className = 'note';
  legend.textContent = LEGEND;
  el.append(target, legend);
}
