/**
 * The rows of `npm run bench` (bench/run.ts): the state the run shares with them (the peers,
 * the build), runRow, which measures one row on verydeep and on each peer that has its
 * workload and checks that they agree, and addCase, by which the workloads (cases-*.ts) add
 * their rows; with the helpers both use (the formula's inputs, tfjs's read-back, the pool).
 */
import { initFastPath, getFastPathInfo, type SimdBuild } from '../kernels/wasm/fastpath.js';
import { measure, measureAlternating, median, type Timing } from './harness.js';
import { recycling } from './values.js';
import { formulaArray, torchDifference, type TorchPeer, type TorchRow, type TorchSetup } from './torch-peer.js';
import type { TfjsPeer } from './tfjs-peer.js';
import type { Row, RowMeta } from './report.js';
import { ONLY, THREADS, TIMING } from './options.js';
import type * as TF from '@tensorflow/tfjs-core';

/**
 * uniform in [−scale, scale): the counter hash of torch-peer.ts, which bench/torch-peer.py
 * computes bit for bit, so PyTorch gets the same values without their transfer
 */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  return formulaArray(n, seed, scale);
}

const selected = (id: string, label: string) => !ONLY || ONLY.some((s) => id.toLowerCase().includes(s) || label.toLowerCase().includes(s));

/**
 * What the run (run.ts) sets before the rows run, and the rows read: a context object, since
 * a module that imports a binding cannot assign it
 */
export const state: {
  /** tfjs-wasm, or null: not in --peers, or it failed to start */
  peer: TfjsPeer | null;
  /** PyTorch, or null: see torchAbsent */
  torch: TorchPeer | null;
  /** why torch is not in the run: --no-torch, or its start failed ('not installed: ...') */
  torchAbsent: string;
  /** the build of the verydeep column: relaxed SIMD where the engine takes it */
  mainBuild: SimdBuild;
  /** how many rows the run has (the cases' selected rows) */
  total: number;
} = { peer: null, torch: null, torchAbsent: 'skipped (--no-torch)', mainBuild: 'relaxed', total: 0 };
/** the measured rows, in the order they ran (run.ts sorts them) */
export const rows: Row[] = [];
let done = 0;

const sig = (x: number) => (x >= 1000 ? Math.round(x).toString() : x.toPrecision(3));
const fmtMs = (t: Timing) => `${sig(t.medianMs)} ms [${sig(t.minMs)}–${sig(t.maxMs)}] n=${t.n}`;

function log(side: string, t: Timing, work: string) {
  const load = t.foreignCores !== null && t.foreignCores > 0.3 ? `  (other processes: ${t.foreignCores.toFixed(2)} cores)` : '';
  console.log(`    ${side.padEnd(16)} ${fmtMs(t).padEnd(34)} ${work}${load}  (host probe ${t.hostProbeMs.toFixed(2)} ms)`);
}

function rate(spec: { flops: number | null; bytes: number | null }, t: Timing): string {
  if (spec.flops) return `${(spec.flops / t.medianMs / 1e6).toPrecision(3)} GFLOP/s`;
  if (spec.bytes) return `${(spec.bytes / t.medianMs / 1e6).toPrecision(3)} GB/s`;
  return '';
}

/**
 * Both sides as their libraries run in a pipeline, where an output is freed and its memory
 * reused for the next: tfjs-wasm computes synchronously into its own heap, and frees the
 * output into its allocator; we return each output to the storage pool (kernels/pool.ts), as
 * the tensor core does when an output tensor is disposed. Only the first call's output is
 * read back and kept, for the comparison: a fresh Float32Array per call would charge each
 * side the page faults of new memory (about 12 µs per 4 KiB page on this VM).
 */
let peerReadsBack = true;

/** tfjs: run, read the result back into a Float32Array (the first call of a row only), free it */
export function readback(t: TF.Tensor): Float32Array {
  const v = peerReadsBack ? (t.dataSync() as Float32Array) : EMPTY;
  peerReadsBack = false;
  t.dispose();
  return v;
}
const EMPTY = new Float32Array(0);


export async function useBuild(simd: SimdBuild): Promise<void> {
  const info = await initFastPath({ simd, threads: THREADS });
  if (info.simd !== simd || info.threads !== THREADS) throw new Error(`bench: asked the fast path for ${simd} on ${THREADS} threads, got ${info.simd} on ${info.threads}`);
}

export interface RowSpec extends RowMeta {
  ours: () => Promise<Float32Array>;
  /** also measure with the mul + add build */
  mulAdd?: boolean;
  /** the tfjs workload, or why there is none */
  peer: (() => Float32Array) | { none: string };
  /** Δ between verydeep's and tfjs's results */
  compare?: (ours: Float32Array, theirs: Float32Array) => number;
  notes?: string[];
  extra?: (t: Timing) => Partial<Row>;
  /** the PyTorch workload (torch-peer.py's row), or why there is none */
  torch?: TorchRow | { none: string };
  /** compare torch's first result with ours (default true) */
  torchCompare?: boolean;
}

/** an error of the torch side, so that ours is still measured without it */
class TorchFailure extends Error {}

export async function runRow(spec: RowSpec): Promise<void> {
  done++;
  console.log(`[${done}/${state.total}] ${spec.label}  (${spec.id})`);
  const row: Row = {
    id: spec.id, label: spec.label, group: spec.group, pass: spec.pass, batch: spec.batch, flops: spec.flops, bytes: spec.bytes,
    ours: null, oursMulAdd: null, peer: null, peerStatus: 'skipped', agreement: null, notes: [...(spec.notes ?? [])],
    torch: null, torchStatus: 'skipped', torchAgreement: null,
  };
  let oursFirst: Float32Array | null = null;
  const torchRow = state.torch && spec.torch && !('none' in spec.torch) ? spec.torch : null;
  if (!state.torch) {
    row.torchStatus = state.torchAbsent.startsWith('not installed') ? 'not installed' : 'skipped';
    row.torchNote = state.torchAbsent;
  } else if (!torchRow) {
    row.torchStatus = 'none';
    row.torchNote = spec.torch && 'none' in spec.torch ? String(spec.torch.none) : 'no PyTorch workload for this row';
  }
  let oursDone = false;
  if (state.torch && torchRow) {
    // ours and torch alternately, sample by sample (harness.ts)
    const t = state.torch;
    const tag = (e: unknown) => new TorchFailure((e as Error).message);
    let setup: TorchSetup | null = null;
    try {
      const a = await measureAlternating(`verydeep ${spec.id}`, recycling(spec.ours), {
        setup: () => t.setup(torchRow, TIMING).catch((e) => { throw tag(e); }),
        sample: () => t.sample().catch((e) => { throw tag(e); }),
        cpuS: () => t.cpuS().catch((e) => { throw tag(e); }),
      }, TIMING);
      oursDone = true;
      row.ours = a.ours.timing;
      oursFirst = a.ours.first;
      setup = a.peer.first;
      row.torch = a.peer.timing;
      row.torchStatus = 'measured';
      row.torchRoundRatios = a.roundRatios;
      row.torchIdleCpuS = a.peerIdleCpuS;
      row.oursCpuDuringTorchS = a.oursCpuDuringPeerS;
      row.torchSetupMs = +setup.setupMs.toFixed(1);
      log(`verydeep ${getFastPathInfo()?.simd}`, a.ours.timing, rate(spec, a.ours.timing));
      log(`PyTorch ${t.info.threads}t`, a.peer.timing, `${rate(spec, a.peer.timing)}  paired ratio ${median(a.roundRatios).toFixed(2)}×, torch idle CPU ${a.peerIdleCpuS.toFixed(2)} s`);
      Object.assign(row, spec.extra?.(a.ours.timing));
      if (setup.params !== undefined && row.params !== undefined && setup.params !== row.params) row.notes.push(`PyTorch's model has ${fmtC(setup.params)} parameters, ours ${fmtC(row.params)}`);
      if (oursFirst && spec.torchCompare !== false) {
        row.torchAgreement = torchDifference(oursFirst, setup.first);
        if (!(row.torchAgreement < 1e-3)) row.notes.push(`verydeep and PyTorch differ: Δ ${row.torchAgreement.toExponential(1)}`);
      }
    } catch (e) {
      if (e instanceof TorchFailure) {
        row.torchStatus = 'error';
        row.torchNote = e.message.split('\n')[0];
        console.log(`    PyTorch failed: ${row.torchNote}`);
      } else {
        oursDone = true;
        row.oursError = (e as Error).message;
        console.log(`    verydeep failed: ${row.oursError}`);
      }
    } finally {
      await t.free().catch(() => undefined);
    }
  }
  if (!oursDone) {
    try {
      const m = await measure(`verydeep ${spec.id}`, recycling(spec.ours), TIMING);
      row.ours = m.timing;
      oursFirst = m.first;
      log(`verydeep ${getFastPathInfo()?.simd}`, m.timing, rate(spec, m.timing));
      Object.assign(row, spec.extra?.(m.timing));
    } catch (e) {
      row.oursError = (e as Error).message;
      console.log(`    verydeep failed: ${row.oursError}`);
    }
  }
  if (spec.mulAdd && state.mainBuild === 'relaxed') {
    try {
      await useBuild('mul+add');
      const m = await measure(`verydeep mul+add ${spec.id}`, recycling(spec.ours), TIMING);
      row.oursMulAdd = m.timing;
      log('verydeep mul+add', m.timing, rate(spec, m.timing));
    } catch (e) {
      row.notes.push(`mul+add build failed: ${(e as Error).message}`);
    } finally {
      await useBuild(state.mainBuild);
    }
  }
  if (!state.peer) {
    row.peerStatus = 'skipped';
  } else if (typeof spec.peer !== 'function') {
    row.peerStatus = 'none';
    row.peerNote = spec.peer.none;
    console.log(`    tfjs-wasm        none: ${spec.peer.none}`);
  } else {
    const f = spec.peer;
    try {
      peerReadsBack = true;
      const m = await measure(`tfjs ${spec.id}`, async () => f(), TIMING);
      row.peer = m.timing;
      row.peerStatus = 'measured';
      log(`tfjs-wasm ${state.peer.threads}t`, m.timing, rate(spec, m.timing));
      if (oursFirst && spec.compare) {
        row.agreement = spec.compare(oursFirst, m.first);
        if (!(row.agreement < 1e-3)) row.notes.push(`verydeep and tfjs differ: Δ ${row.agreement.toExponential(1)}`);
      }
    } catch (e) {
      row.peerStatus = 'error';
      row.peerNote = (e as Error).message.split('\n')[0];
      console.log(`    tfjs-wasm failed: ${row.peerNote}`);
    }
  }
  rows.push(row);
}

export interface Case {
  ids: [string, string][];
  run: () => Promise<void>;
}
export const cases: Case[] = [];

/** a case runs when any of its rows is selected; its rows are listed so that --only can skip the setup */
export function addCase(ids: [string, string][], run: (want: (id: string) => boolean) => Promise<void>) {
  const wanted = ids.filter(([id, label]) => selected(id, label));
  if (!wanted.length) return;
  const set = new Set(wanted.map(([id]) => id));
  cases.push({ ids: wanted, run: () => run((id) => set.has(id)) });
}

export const fmtC = (n: number) => n.toLocaleString('en-US');
