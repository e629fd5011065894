/**
 * `npm run bench`: verydeep's kernels and models at VGG's real shapes, side by side with
 * @tensorflow/tfjs-backend-wasm in the same process and PyTorch (bench/torch-peer.py, a
 * long-lived Python process) in the same run.
 *
 *   npm run bench                      everything (see bench/README.md for how long it takes)
 *   npm run bench -- --quick           a smoke run: one shape per kernel, 2 samples each (< 1 min)
 *   npm run bench -- --only=conv3x3,fc6     rows whose id or label contains one of the substrings
 *   npm run bench -- --no-peer         verydeep only (neither peer is started)
 *   npm run bench -- --peers=torch     pick the peers (tfjs, torch); --no-torch, --no-tfjs
 *   more: --peer-threads=1|2 (2), --torch-threads=N (2), --samples=N (5), --max-time=S (2),
 *         --wait-quiet=S (0), --peak=GFLOPS (233), --wasm-ceiling=GFLOPS (116), --out=FILE.json
 *
 * PyTorch runs the conv, VGG-forward and training rows. Where it runs, a row's samples
 * alternate between verydeep and torch (harness.ts: measureAlternating), so that the VM
 * host's changing speed hits both; both compute on the same values (torch-peer.ts's formula).
 *
 * verydeep runs in its 'wasm' mode: the hand-written WebAssembly SIMD kernels of
 * kernels/wasm/ on 2 threads, relaxed-SIMD build (f32x4.relaxed_madd); every convolution
 * forward row is measured again with the mul + add build. tfjs-wasm runs NHWC with the same
 * shapes and values (inputs and weights transposed once, outside the timing), on 2 threads
 * through the shim of bench/tfjs-peer.ts, or 1 (--peer-threads=1). Both read their result
 * back to a host Float32Array inside the timed region. Each row checks that the two
 * libraries computed the same thing (Δ: max |difference| / max |verydeep's value|).
 *
 * GFLOP/s counts a direct convolution's work, 2·N·Cin·Cout·k²·H·W for each of forward,
 * input gradient and weight gradient (an algorithm that does less work scores higher),
 * 2·N·In·Out for a linear layer, the sum of those for a whole net, and 3× the forward for a
 * training step. Max-pool and LRN are memory-bound: their rows give GB/s of compulsory
 * traffic (every input read once, every output written once).
 *
 * Writes bench/results/latest.json and latest.md (a full run), or quick.json / partial.json
 * (--quick / --only), and prints the table in markdown.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setBackend, noGrad, tidy, Tensor, Vgg, ops, optim } from '../lib/index.js';
import { release, settle, clearPool } from '../kernels/pool.js';
import { runRegistered } from '../lib/core/backend.js';
import type { Conv2dDims, LinearDims, MapDims } from '../kernels/dims.js';
import type { LrnOptions } from '../kernels/lrn.js';
import { initFastPath, getFastPathInfo, type SimdBuild } from '../kernels/wasm/fastpath.js';
import { measure, measureAlternating, loadMeter, median, type MeasureOptions, type Timing } from './harness.js';
import { TorchPeer, formulaArray, torchDifference, type TorchRow, type TorchSetup } from './torch-peer.js';
import { loadTfjs, nchwToNhwc, oihwToHwio, relativeDifference, nchwIndex, transposedIndex, type TfjsPeer } from './tfjs-peer.js';
import { vggToTfjs } from './vgg-tfjs.js';
import { markdownReport, type Row, type RowMeta, type Report, REFERENCES } from './report.js';
import type * as TF from '@tensorflow/tfjs-core';

// ---------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
const flags = new Map(argv.map((a) => {
  const [k, ...v] = a.replace(/^--/, '').split('=');
  return [k, v.length ? v.join('=') : 'true'] as [string, string];
}));
if (flags.has('help') || flags.has('h')) {
  console.log(readHelp());
  process.exit(0);
}
const known = new Set(['list', 'quick', 'only', 'no-peer', 'peers', 'no-torch', 'no-tfjs', 'torch-threads', 'peer-threads', 'samples', 'max-time', 'wait-quiet', 'peak', 'wasm-ceiling', 'out']);
for (const k of flags.keys()) if (!known.has(k)) throw new Error(`bench: unknown option --${k} (--help lists them)`);
const num = (k: string, fallback: number) => {
  if (!flags.has(k)) return fallback;
  const v = Number(flags.get(k));
  if (!Number.isFinite(v) || v < 0) throw new Error(`bench: --${k} expects a number ≥ 0, got '${flags.get(k)}'`);
  return v;
};
const QUICK = flags.has('quick');
const ONLY = flags.has('only') ? flags.get('only')!.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : null;
const PEERS = new Set(flags.has('no-peer') ? [] : flags.has('peers') ? flags.get('peers')!.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : ['tfjs', 'torch']);
for (const p of PEERS) if (p !== 'tfjs' && p !== 'torch') throw new Error(`bench: --peers expects tfjs and/or torch, got '${p}'`);
if (flags.has('no-torch')) PEERS.delete('torch');
if (flags.has('no-tfjs')) PEERS.delete('tfjs');
const PEER = PEERS.has('tfjs');
const TORCH = PEERS.has('torch');
const PEER_THREADS = num('peer-threads', 2);
const TORCH_THREADS = num('torch-threads', 2);
const THREADS = 2;
const PEAK = num('peak', REFERENCES.fp32Peak.gflops);
const WASM_CEILING = num('wasm-ceiling', REFERENCES.wasmCeiling.gflops);
const TIMING: MeasureOptions = QUICK
  ? { minSamples: Math.max(1, num('samples', 2)), maxTime: num('max-time', 0), minWarmups: 1, minWarmupMs: 0, waitQuietS: num('wait-quiet', 0) }
  : { minSamples: Math.max(1, num('samples', 5)), maxTime: num('max-time', 2), minWarmups: 2, minWarmupMs: 300, waitQuietS: num('wait-quiet', 0) };

const ROOT = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/run.js → the repository
const OUT = flags.has('out') ? path.resolve(flags.get('out')!)
  : path.join(ROOT, 'bench/results', QUICK ? 'quick.json' : ONLY ? 'partial.json' : 'latest.json');

function readHelp(): string {
  return `usage: npm run bench [-- options]   (or node dist/bench/run.js [options] after npm run build)
  --quick              one shape per kernel, small nets, 2 samples each: a smoke run of < 1 min
  --only=a,b           only rows whose id or label contains one of these substrings
                       (--list shows them: conv3x3/256@56/b1/fwd, conv1x1/512@28/b8/dx, fc6/b8/dw, maxpool/64@224/b1/bwd,
                        lrn/64@224/b1/fwd, vgg-a/224/b1/fwd, vgg-d/224/b1/fwd, train/cifar-vgg11/b64)
  --list               print the rows that would run (id and label) and exit
  --no-peer            verydeep only; neither peer is started
  --peers=tfjs,torch   which peers run (both by default); --no-torch and --no-tfjs drop one
  --peer-threads=N     tfjs-wasm threads: 2 (through the shim of bench/tfjs-peer.ts) or 1 (official)
  --torch-threads=N    PyTorch threads (2); torch runs in bench/torch-peer.py under /usr/bin/python3
                       (or VERYDEEP_TORCH_PYTHON), timed alternately with verydeep, sample by sample
  --samples=N          at least N timed samples per measurement (5; --quick 2)
  --max-time=S         then sample until S seconds have passed (2; --quick 0)
  --wait-quiet=S       before each measurement, wait up to S s for other processes to go idle (0)
  --peak=G, --wasm-ceiling=G   this machine's fp32 peak (233) and WASM SIMD ceiling (116), GFLOP/s
  --out=FILE.json      where to write the results (default bench/results/latest.json; quick.json or
                       partial.json for --quick or --only), with the markdown table beside it (.md)`;
}

// ---------------------------------------------------------------------------------------
// Helpers

/**
 * uniform in [−scale, scale): the counter hash of torch-peer.ts, which bench/torch-peer.py
 * computes bit for bit, so PyTorch gets the same values without their transfer
 */
function randomArray(n: number, seed: number, scale = 1): Float32Array {
  return formulaArray(n, seed, scale);
}

const selected = (id: string, label: string) => !ONLY || ONLY.some((s) => id.toLowerCase().includes(s) || label.toLowerCase().includes(s));

let peer: TfjsPeer | null = null;
let torch: TorchPeer | null = null;
/** why torch is not in the run: --no-torch, or its start failed ('not installed: ...') */
let torchAbsent = 'skipped (--no-torch)';
/** the build of the verydeep column: relaxed SIMD where the engine takes it */
let mainBuild: SimdBuild = 'relaxed';
const rows: Row[] = [];
let done = 0, total = 0;
const started = performance.now();

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
function readback(t: TF.Tensor): Float32Array {
  const v = peerReadsBack ? (t.dataSync() as Float32Array) : EMPTY;
  peerReadsBack = false;
  t.dispose();
  return v;
}
const EMPTY = new Float32Array(0);

/** ours: each output after the first goes back to the pool when the next call starts */
function recycling<T>(fn: () => Promise<T>): () => Promise<T> {
  let calls = 0, last: unknown = null;
  return async () => {
    if (calls++ > 1 && last instanceof Float32Array) release(last);
    last = await fn();
    return last as T;
  };
}

async function useBuild(simd: SimdBuild): Promise<void> {
  const info = await initFastPath({ simd, threads: THREADS });
  if (info.simd !== simd || info.threads !== THREADS) throw new Error(`bench: asked the fast path for ${simd} on ${THREADS} threads, got ${info.simd} on ${info.threads}`);
}

interface RowSpec extends RowMeta {
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

async function runRow(spec: RowSpec): Promise<void> {
  done++;
  console.log(`[${done}/${total}] ${spec.label}  (${spec.id})`);
  const row: Row = {
    id: spec.id, label: spec.label, group: spec.group, pass: spec.pass, batch: spec.batch, flops: spec.flops, bytes: spec.bytes,
    ours: null, oursMulAdd: null, peer: null, peerStatus: 'skipped', agreement: null, notes: [...(spec.notes ?? [])],
    torch: null, torchStatus: 'skipped', torchAgreement: null,
  };
  let oursFirst: Float32Array | null = null;
  const torchRow = torch && spec.torch && !('none' in spec.torch) ? spec.torch : null;
  if (!torch) {
    row.torchStatus = torchAbsent.startsWith('not installed') ? 'not installed' : 'skipped';
    row.torchNote = torchAbsent;
  } else if (!torchRow) {
    row.torchStatus = 'none';
    row.torchNote = spec.torch && 'none' in spec.torch ? String(spec.torch.none) : 'no PyTorch workload for this row';
  }
  let oursDone = false;
  if (torch && torchRow) {
    // ours and torch alternately, sample by sample (harness.ts)
    const t = torch;
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
  if (spec.mulAdd && mainBuild === 'relaxed') {
    try {
      await useBuild('mul+add');
      const m = await measure(`verydeep mul+add ${spec.id}`, recycling(spec.ours), TIMING);
      row.oursMulAdd = m.timing;
      log('verydeep mul+add', m.timing, rate(spec, m.timing));
    } catch (e) {
      row.notes.push(`mul+add build failed: ${(e as Error).message}`);
    } finally {
      await useBuild(mainBuild);
    }
  }
  if (!peer) {
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
      log(`tfjs-wasm ${peer.threads}t`, m.timing, rate(spec, m.timing));
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

interface Case {
  ids: [string, string][];
  run: () => Promise<void>;
}
const cases: Case[] = [];

/** a case runs when any of its rows is selected; its rows are listed so that --only can skip the setup */
function addCase(ids: [string, string][], run: (want: (id: string) => boolean) => Promise<void>) {
  const wanted = ids.filter(([id, label]) => selected(id, label));
  if (!wanted.length) return;
  const set = new Set(wanted.map(([id]) => id));
  cases.push({ ids: wanted, run: () => run((id) => set.has(id)) });
}

const fmtC = (n: number) => n.toLocaleString('en-US');

// ---------------------------------------------------------------------------------------
// Convolutions: 3×3 at VGG's five shapes, config C's 1×1, batch 1 and 8

function convCase(K: number, C: number, S: number, N: number, group: string) {
  const d: Conv2dDims = { N, Cin: C, Cout: C, H: S, W: S, K };
  const base = `conv${K}x${K}/${C}@${S}/b${N}`;
  const name = `conv ${K}×${K} ${C}→${C} @${S}² b${N}`;
  const ids: Record<'fwd' | 'dx' | 'dw', [string, string]> = {
    fwd: [`${base}/fwd`, `${name} forward`],
    dx: [`${base}/dx`, `${name} grad input`],
    dw: [`${base}/dw`, `${name} grad weight`],
  };
  addCase(Object.values(ids), async (want) => {
    const flops = 2 * N * C * C * K * K * S * S;
    const wScale = 1 / Math.sqrt(C * K * K);
    const x = randomArray(N * C * S * S, 1), dy = randomArray(N * C * S * S, 2);
    const w = randomArray(C * C * K * K, 3, wScale), b = randomArray(C, 4, 0.1);
    // the same values on torch's side: (seed, scale) of each formula input
    const torchConv = (pass: 'fwd' | 'dx' | 'dw'): TorchRow => ({ kind: 'conv', pass, N, C, S, K, x: [1, 1], dy: [2, 1], w: [3, wScale], b: [4, 0.1] });
    settle(w); // a parameter's filters, as the tensor core marks them: the fast path may keep them resident, as tfjs keeps its weights
    let t: { x: TF.Tensor4D; dy: TF.Tensor4D; f: TF.Tensor4D; b: TF.Tensor1D } | null = null;
    if (peer) {
      const tf = peer.tf;
      t = {
        x: tf.tensor4d(nchwToNhwc(x, N, C, S, S), [N, S, S, C]), dy: tf.tensor4d(nchwToNhwc(dy, N, C, S, S), [N, S, S, C]),
        f: tf.tensor4d(oihwToHwio(w, C, C, K), [K, K, C, C]), b: tf.tensor1d(b),
      };
    }
    const tf = peer?.tf;
    const same = (o: Float32Array, th: Float32Array) => relativeDifference(o, th, nchwIndex(C, S, S));
    const common = { group, batch: N, flops, bytes: null };
    try {
      if (want(ids.fwd[0])) {
        await runRow({
          ...common, id: ids.fwd[0], label: ids.fwd[1], pass: 'forward', mulAdd: true,
          ours: () => runRegistered('conv2dForward', x, w, b, d),
          torch: torchConv('fwd'),
          peer: () => readback(tf!.fused.conv2d({ x: t!.x, filter: t!.f, strides: 1, pad: 'same', bias: t!.b })),
          compare: same,
        });
      }
      if (want(ids.dx[0])) {
        await runRow({
          ...common, id: ids.dx[0], label: ids.dx[1], pass: 'grad input',
          ours: () => runRegistered('conv2dBackwardInput', dy, w, d),
          torch: torchConv('dx'),
          peer: () => readback(tf!.engine().runKernel('Conv2DBackpropInput', { dy: t!.dy, filter: t!.f },
            { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', inputShape: [N, S, S, C] } as unknown as TF.NamedAttrMap)),
          compare: same,
        });
      }
      if (want(ids.dw[0])) {
        const hasKernel = tf && tf.getKernel('Conv2DBackpropFilter', 'wasm');
        await runRow({
          ...common, id: ids.dw[0], label: ids.dw[1], pass: 'grad weight',
          ours: () => runRegistered('conv2dBackwardWeight', dy, x, d),
          torch: torchConv('dw'),
          peer: hasKernel
            ? () => readback(tf!.engine().runKernel('Conv2DBackpropFilter', { x: t!.x, dy: t!.dy },
              { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [K, K, C, C] } as unknown as TF.NamedAttrMap))
            : { none: `tfjs-backend-wasm ${peer?.backendVersion ?? ''} has no Conv2DBackpropFilter kernel` },
          compare: (o, th) => relativeDifference(o, th, (i) => {
            const co = Math.floor(i / (C * K * K)), r = i - co * C * K * K, ci = Math.floor(r / (K * K)), k = r - ci * K * K;
            return (k * C + ci) * C + co;
          }),
        });
      }
    } finally {
      if (t) peer!.tf.dispose([t.x, t.dy, t.f, t.b]);
    }
  });
}

// ---------------------------------------------------------------------------------------
// Fully connected: FC6 (25088→4096) and FC7 (4096→4096), batch 1 and 8

function linearCase(tag: string, In: number, Out: number, N: number) {
  const d: LinearDims = { N, In, Out };
  const base = `${tag}/b${N}`;
  const name = `${tag.toUpperCase()} ${In}→${Out} b${N}`;
  const ids: Record<'fwd' | 'dx' | 'dw', [string, string]> = {
    fwd: [`${base}/fwd`, `${name} forward`], dx: [`${base}/dx`, `${name} grad input`], dw: [`${base}/dw`, `${name} grad weight`],
  };
  addCase(Object.values(ids), async (want) => {
    const flops = 2 * N * In * Out;
    const x = randomArray(N * In, 5), dy = randomArray(N * Out, 6);
    const w = randomArray(Out * In, 7, 1 / Math.sqrt(In)), b = randomArray(Out, 8, 0.1);
    settle(w); // a parameter's weight (see convCase)
    let t: { x: TF.Tensor2D; dy: TF.Tensor2D; w: TF.Tensor2D; b: TF.Tensor1D } | null = null;
    if (peer) {
      const tf = peer.tf;
      const wOI = tf.tensor2d(w, [Out, In]);
      t = { x: tf.tensor2d(x, [N, In]), dy: tf.tensor2d(dy, [N, Out]), w: tf.transpose(wOI), b: tf.tensor1d(b) }; // tfjs's dense layout: [In, Out]
      wOI.dispose();
    }
    const tf = peer?.tf;
    const common = { group: 'fc', batch: N, flops, bytes: null, notes: [] as string[] };
    try {
      if (want(ids.fwd[0])) {
        await runRow({
          ...common, id: ids.fwd[0], label: ids.fwd[1], pass: 'forward',
          ours: () => runRegistered('linearForward', x, w, b, d),
          peer: () => readback(tf!.fused.matMul({ a: t!.x, b: t!.w, bias: t!.b })),
          compare: (o, th) => relativeDifference(o, th),
        });
      }
      if (want(ids.dx[0])) {
        await runRow({
          ...common, id: ids.dx[0], label: ids.dx[1], pass: 'grad input',
          ours: () => runRegistered('linearBackwardInput', dy, w, d),
          peer: () => readback(tf!.matMul(t!.dy, t!.w, false, true)),
          compare: (o, th) => relativeDifference(o, th),
        });
      }
      if (want(ids.dw[0])) {
        await runRow({
          ...common, id: ids.dw[0], label: ids.dw[1], pass: 'grad weight',
          ours: () => runRegistered('linearBackwardWeight', dy, x, d),
          peer: () => readback(tf!.matMul(t!.x, t!.dy, true, false)),
          compare: (o, th) => relativeDifference(o, th, transposedIndex(Out, In)),
        });
      }
    } finally {
      if (t) peer!.tf.dispose([t.x, t.dy, t.w, t.b]);
    }
  });
}

// ---------------------------------------------------------------------------------------
// Max-pool 2×2 and LRN (memory-bound)

function poolCase(C: number, S: number, N: number) {
  const d: MapDims = { N, C, H: S, W: S };
  const base = `maxpool/${C}@${S}/b${N}`;
  const name = `max-pool 2×2 ${C} @${S}² b${N}`;
  const ids: Record<'fwd' | 'bwd', [string, string]> = { fwd: [`${base}/fwd`, `${name} forward`], bwd: [`${base}/bwd`, `${name} backward`] };
  addCase(Object.values(ids), async (want) => {
    const n = N * C * S * S, So = Math.floor(S / 2);
    // positive inputs, as after a ReLU: tfjs-backend-wasm 4.22.0's MaxPoolGrad gives no gradient to a
    // window whose maximum is negative (checked here on a 4×4 input), so Δ would flag its bug, not ours
    const x = randomArray(n, 9).map(Math.abs), dy = randomArray(N * C * So * So, 10);
    let t: { x: TF.Tensor4D; y: TF.Tensor4D; dy: TF.Tensor4D } | null = null;
    if (peer) {
      const tf = peer.tf;
      const xt = tf.tensor4d(nchwToNhwc(x, N, C, S, S), [N, S, S, C]);
      t = { x: xt, y: tf.maxPool(xt, 2, 2, 'valid'), dy: tf.tensor4d(nchwToNhwc(dy, N, C, So, So), [N, So, So, C]) };
    }
    const tf = peer?.tf;
    const common = { group: 'pool', batch: N, flops: null, notes: ['inputs in [0, 1), as after a ReLU: tfjs-wasm 4.22.0\'s MaxPoolGrad drops the gradient of windows whose maximum is negative'] };
    try {
      if (want(ids.fwd[0])) {
        await runRow({
          ...common, id: ids.fwd[0], label: ids.fwd[1], pass: 'forward', bytes: 4 * (n + n / 4),
          ours: () => runRegistered('maxPool2dForward', x, d),
          peer: () => readback(tf!.maxPool(t!.x, 2, 2, 'valid')),
          compare: (o, th) => relativeDifference(o, th, nchwIndex(C, So, So)),
        });
      }
      if (want(ids.bwd[0])) {
        await runRow({
          ...common, id: ids.bwd[0], label: ids.bwd[1], pass: 'backward', bytes: 4 * (n + n / 4 + n),
          ours: () => runRegistered('maxPool2dBackward', dy, x, d),
          peer: () => readback(tf!.engine().runKernel('MaxPoolGrad', { dy: t!.dy, input: t!.x, output: t!.y },
            { filterSize: 2, strides: 2, pad: 'valid' } as unknown as TF.NamedAttrMap)),
          compare: (o, th) => relativeDifference(o, th, nchwIndex(C, S, S)),
        });
      }
    } finally {
      if (t) peer!.tf.dispose([t.x, t.y, t.dy]);
    }
  });
}

function lrnCase(C: number, S: number, N: number) {
  const d: MapDims = { N, C, H: S, W: S };
  const o: LrnOptions = { ...ops.LRN_PAPER_DEFAULTS };
  const base = `lrn/${C}@${S}/b${N}`;
  const name = `LRN (n 5, k 2, α 1e-4, β 0.75) ${C} @${S}² b${N}`;
  const ids: Record<'fwd' | 'bwd', [string, string]> = { fwd: [`${base}/fwd`, `${name} forward`], bwd: [`${base}/bwd`, `${name} backward`] };
  addCase(Object.values(ids), async (want) => {
    const n = N * C * S * S;
    const x = randomArray(n, 11, 4), dy = randomArray(n, 12);
    let t: { x: TF.Tensor4D; y: TF.Tensor4D; dy: TF.Tensor4D } | null = null;
    const radius = (o.size - 1) / 2;
    if (peer) {
      const tf = peer.tf;
      const xt = tf.tensor4d(nchwToNhwc(x, N, C, S, S), [N, S, S, C]);
      t = { x: xt, y: tf.localResponseNormalization(xt, radius, o.k, o.alpha, o.beta), dy: tf.tensor4d(nchwToNhwc(dy, N, C, S, S), [N, S, S, C]) };
    }
    const tf = peer?.tf;
    const note = 'verydeep runs LRN on gpu.js (its cpu mode) in the wasm mode: the fast path has no LRN kernel';
    const common = { group: 'lrn', batch: N, flops: null, notes: [note] };
    const same = (a: Float32Array, th: Float32Array) => relativeDifference(a, th, nchwIndex(C, S, S));
    try {
      if (want(ids.fwd[0])) {
        await runRow({
          ...common, id: ids.fwd[0], label: ids.fwd[1], pass: 'forward', bytes: 8 * n,
          ours: () => runRegistered('lrnForward', x, o, d),
          peer: () => readback(tf!.localResponseNormalization(t!.x, radius, o.k, o.alpha, o.beta)),
          compare: same,
        });
      }
      if (want(ids.bwd[0])) {
        await runRow({
          ...common, id: ids.bwd[0], label: ids.bwd[1], pass: 'backward', bytes: 12 * n,
          ours: () => runRegistered('lrnBackward', dy, x, o, d),
          peer: () => readback(tf!.engine().runKernel('LRNGrad', { x: t!.x, y: t!.y, dy: t!.dy },
            { depthRadius: radius, bias: o.k, alpha: o.alpha, beta: o.beta } as unknown as TF.NamedAttrMap)),
          compare: same,
        });
      }
    } finally {
      if (t) peer!.tf.dispose([t.x, t.y, t.dy]);
    }
  });
}

// ---------------------------------------------------------------------------------------
// Whole nets

/**
 * torch-peer.py's description of `model`: its layers ('M' for a max-pool, a conv by its
 * output channels), widths, and for each parameter in order its name, shape and the
 * formula's (seed, scale), when `fill` also sets ours to those values (He-uniform scale)
 */
function torchVgg(model: Vgg, fill: boolean): Record<string, unknown> {
  const cfg = model.features.layers.flatMap((l): (number | 'M')[] => {
    const ps = l.parameters();
    if (ps.length) return [ps[0].shape[0]];
    if (l.constructor.name === 'MaxPool2d') return ['M'];
    if (l.constructor.name === 'ReLU') return [];
    throw new Error(`bench: torch-peer.py builds convs, ReLUs and max-pools only, not ${l.constructor.name}`);
  });
  const o = model.options;
  const params = model.namedParameters().map(([name, p], j) => {
    const fanIn = p.shape.length > 1 ? p.shape.slice(1).reduce((a, b) => a * b, 1) : 0;
    const seed = 1000 + j, scale = fanIn ? Math.sqrt(6 / fanIn) : 0.01;
    if (fill) p.assign(Promise.resolve(randomArray(p.size, seed, scale)), 'bench torchVgg');
    return { name, shape: [...p.shape], seed, scale };
  });
  return { cfg, inputSize: o.inputSize, fc: o.fcWidth, classes: o.numClasses, dropout: o.dropout, params: fill ? params : null };
}

function vggForwardCase(config: 'A' | 'D', id: string, label: string, options: ConstructorParameters<typeof Vgg>[1], expectedParams: number | null, torchMs: number | null) {
  addCase([[id, label]], async () => {
    const tb = performance.now();
    const model = new Vgg(config, { seed: 1, ...options });
    model.eval();
    const params = model.parameterCount();
    const [N, C, H, W] = model.defaultInputShape();
    // weights from the formula, so that PyTorch computes with the same ones (tfjs copies them)
    const torchRow: TorchRow = { kind: 'vgg', ...torchVgg(model, true), N, x: [13, 1] };
    const xData = randomArray(N * C * H * W, 13);
    const x = Tensor.from(xData, [N, C, H, W]);
    console.log(`  ${model.describe()}: ${fmtC(params)} parameters${expectedParams ? ` (expected ${fmtC(expectedParams)})` : ''}, built in ${((performance.now() - tb) / 1000).toFixed(1)} s`);
    const net = peer ? await vggToTfjs(peer.tf, model) : null;
    const xt = peer ? peer.tf.tensor4d(nchwToNhwc(xData, N, C, H, W), [N, H, W, C]) : null;
    const notes = [`${model.describe()}, ${fmtC(params)} parameters, eval mode, noGrad; weights He-uniform from the formula of torch-peer.ts, the same on every side`];
    if (expectedParams !== null && params !== expectedParams) notes.push(`parameter count ${params} ≠ expected ${expectedParams}`);
    if (net) notes.push('tfjs: the same net and weights in tfjs-core ops (fused conv2d + bias + relu, maxPool, fused matMul)');
    if (torchMs !== null && !torch) notes.push(`PyTorch 1.13.1, 2 threads: ${torchMs} ms (PEERS.md)`);
    if (torch) notes.push('PyTorch: the same layers in torch.nn (torchvision\'s VGG without its average pool), eval(), torch.no_grad()');
    try {
      await runRow({
        id, label, group: 'vgg', pass: 'forward', batch: N, flops: model.forwardFlops() * N, bytes: null, notes,
        ours: () => noGrad(() => tidy(async () => model.forward(x).data())),
        peer: net && xt ? () => readback(net.forward(xt)) : { none: 'not run' },
        compare: (o, th) => relativeDifference(o, th),
        extra: () => ({ params }),
        torch: torchRow,
      });
    } finally {
      net?.dispose();
      xt?.dispose();
      x.dispose();
      for (const p of model.parameters()) p.dispose();
    }
  });
}

function trainCase(batch: number) {
  const id = `train/cifar-vgg11/b${batch}`;
  const label = `train step CIFAR VGG-11 (config A, 32×32, FC 512) b${batch}`;
  addCase([[id, label]], async () => {
    const model = Vgg.configA({ inputSize: 32, numClasses: 10, fcWidth: 512, seed: 1 });
    const params = model.parameterCount();
    const expected = REFERENCES.cifarVgg11Params;
    console.log(`  ${model.describe()}: ${fmtC(params)} parameters (expected ${fmtC(expected)}${params === expected ? ', ok' : ', MISMATCH'})`);
    model.train();
    const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
    const x = Tensor.from(randomArray(batch * 3 * 32 * 32, 14), [batch, 3, 32, 32]);
    const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7 + 3) % 10);
    const torchRow: TorchRow = {
      kind: 'train', ...torchVgg(model, false), N: batch, x: [14, 1], labels: [...labels], lr: 0.01, momentum: 0.9, weightDecay: 5e-4,
    };
    const flops = 3 * model.forwardFlops() * batch;
    const notes = [
      `config A conv stack on 32×32×3, FC 512→512→512→10, dropout 0.5, softmax cross-entropy, SGD lr 0.01 momentum 0.9 weight decay 5e-4; ${fmtC(params)} parameters${params === expected ? '' : ` (expected ${fmtC(expected)})`}`,
      `FLOPs counted as 3 × forward (${(model.forwardFlops() / 1e6).toFixed(1)} MFLOP per image) × ${batch}`,
    ];
    try {
      await runRow({
        id, label, group: 'train', pass: 'forward+backward+SGD', batch, flops, bytes: null, notes,
        ours: async () => {
          const loss = await tidy(async () => {
            const l = ops.softmaxCrossEntropy(model.forward(x), labels);
            await l.backward();
            return l.item();
          });
          await opt.step();
          opt.zeroGrad();
          return Float32Array.of(loss);
        },
        peer: { none: 'tfjs-wasm cannot train a convnet: no Conv2DBackpropFilter kernel' },
        extra: (t) => ({ params, imagesPerSecond: batch / (t.medianMs / 1000) }),
        torch: torchRow,
        // each side draws its own dropout masks and initial weights: the losses are not comparable
        torchCompare: false,
      });
    } finally {
      x.dispose();
    }
  });
}

// ---------------------------------------------------------------------------------------
// The workloads

const CONV3_SHAPES: [number, number][] = QUICK ? [[512, 14]] : [[64, 224], [128, 112], [256, 56], [512, 28], [512, 14]];
const CONV1_SHAPES: [number, number][] = QUICK ? [[512, 14]] : [[256, 56], [512, 28], [512, 14]];
const BATCHES = QUICK ? [1] : [1, 8];
for (const [C, S] of CONV3_SHAPES) for (const N of BATCHES) convCase(3, C, S, N, 'conv3x3');
for (const [C, S] of CONV1_SHAPES) for (const N of BATCHES) convCase(1, C, S, N, 'conv1x1');
for (const N of BATCHES) {
  if (!QUICK) linearCase('fc6', 25088, 4096, N);
  linearCase('fc7', 4096, 4096, N);
}
for (const N of BATCHES) poolCase(64, QUICK ? 56 : 224, N);
lrnCase(64, QUICK ? 56 : 224, 1);
if (QUICK) {
  vggForwardCase('A', 'vgg-a-mini/64/b1/fwd', 'VGG-A forward, width ×0.25, 64×64, FC 512, b1 (smoke)', { inputSize: 64, widthMultiplier: 0.25, fcWidth: 512 }, null, null);
  trainCase(8);
} else {
  vggForwardCase('A', 'vgg-a/224/b1/fwd', 'VGG-A (VGG-11) forward 224×224 b1', {}, REFERENCES.vggParams.A, REFERENCES.torchVggForwardMs.A);
  vggForwardCase('D', 'vgg-d/224/b1/fwd', 'VGG-D (VGG-16) forward 224×224 b1', {}, REFERENCES.vggParams.D, REFERENCES.torchVggForwardMs.D);
  trainCase(64);
}

// ---------------------------------------------------------------------------------------
// Run

const realCpus = os.cpus(); // before the tfjs shim changes what os.cpus() reports
total = cases.reduce((n, c) => n + c.ids.length, 0);
if (total === 0) throw new Error(`bench: --only=${flags.get('only')} matches no row (--list lists them)`);
if (flags.has('list')) {
  for (const c of cases) for (const [id, label] of c.ids) console.log(`${id.padEnd(28)} ${label}`);
  console.log(`${total} rows`);
  process.exit(0);
}

const backendInfo = await setBackend('wasm');
try {
  await useBuild('relaxed');
} catch (e) {
  // an engine without relaxed SIMD: the mul + add build is all there is, and the mul+add column stays empty
  mainBuild = 'mul+add';
  await useBuild('mul+add');
  console.log(`warning: no relaxed-SIMD build here (${(e as Error).message}); measuring the mul + add build only`);
}
console.log(`verydeep: ${backendInfo.reason}; fast path ${JSON.stringify(getFastPathInfo())}`);
let peerError: string | null = null;
if (PEER) {
  try {
    peer = await loadTfjs(PEER_THREADS);
    console.log(`tfjs-core ${peer.version}, tfjs-backend-wasm ${peer.backendVersion}: SIMD ${peer.simd}, ${peer.threads} thread(s)${peer.shim ? ' (threaded build through the shim of bench/tfjs-peer.ts)' : ' (official Node configuration)'}`);
    if (peer.threads !== PEER_THREADS) console.log(`  warning: asked tfjs-wasm for ${PEER_THREADS} threads, it runs ${peer.threads}`);
  } catch (e) {
    peerError = (e as Error).message;
    console.log(`tfjs-wasm could not start, the tfjs columns stay empty: ${peerError}`);
  }
}
if (TORCH) {
  try {
    torch = await TorchPeer.start(path.join(ROOT, 'bench/torch-peer.py'), TORCH_THREADS);
    console.log(`PyTorch: ${torch.describe()}; alternating with verydeep sample by sample`);
    if (torch.info.threads !== TORCH_THREADS) console.log(`  warning: asked PyTorch for ${TORCH_THREADS} threads, it runs ${torch.info.threads}`);
  } catch (e) {
    torchAbsent = `not installed: ${(e as Error).message.split('\n')[0]}`;
    console.log(`PyTorch could not start, its columns say 'not installed' (${torchAbsent})`);
  }
} else {
  torchAbsent = flags.has('no-peer') ? 'skipped (--no-peer)' : 'skipped (--peers / --no-torch)';
}
const runMeter = loadMeter();
const loadStart = os.loadavg();
console.log(`${total} rows${QUICK ? ' (--quick)' : ''}${ONLY ? ` (--only=${ONLY.join(',')})` : ''}; samples: ≥ ${TIMING.minSamples}, ≥ ${TIMING.maxTime} s each\n`);
// The training row runs first. It has no peer, and after the peer's rows (tfjs's VGG passes
// leave GBs of its heap in this process) the same step measured 15–20% slower (710 against
// 598 ms, and 625 ms after tfjs's VGG-A alone), which says nothing about verydeep. The
// table keeps the order in which the rows were defined.
const first = cases.filter((c) => c.ids.some(([id]) => id.startsWith('train/')));
for (const c of [...first, ...cases.filter((c) => !first.includes(c))]) {
  await c.run();
  clearPool(); // one case's free arrays (other sizes) would only sit in memory during the next
}
const defined = cases.flatMap((c) => c.ids.map(([id]) => id));
rows.sort((a, b) => defined.indexOf(a.id) - defined.indexOf(b.id));

const gitOf = (cmd: string) => {
  try {
    return execSync(cmd, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};
const report: Report = {
  meta: {
    date: new Date().toISOString(),
    command: `node dist/bench/run.js ${argv.join(' ')}`.trim(),
    quick: QUICK,
    only: ONLY,
    totalSeconds: +((performance.now() - started) / 1000).toFixed(1),
    machine: {
      cpu: realCpus[0]?.model ?? 'unknown', cores: realCpus.length, memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`, node: process.version, v8: process.versions.v8,
      loadavgStart: loadStart, loadavgEnd: os.loadavg(), otherProcessesCores: runMeter(),
    },
    git: { commit: gitOf('git rev-parse --short HEAD'), dirty: (gitOf('git status --porcelain') ?? '') !== '' },
    verydeep: { mode: backendInfo.mode, reason: backendInfo.reason, fastPath: getFastPathInfo(), mulAddRows: 'the convolution forward rows again with the mul + add build' },
    peer: peer
      ? { name: '@tensorflow/tfjs-backend-wasm', version: peer.backendVersion, core: peer.version, threads: peer.threads, requestedThreads: peer.requestedThreads, simd: peer.simd, shim: peer.shim, layout: 'NHWC' }
      : { skipped: PEER ? `failed to start: ${peerError}` : flags.has('no-peer') ? '--no-peer' : 'not in --peers' },
    torch: torch ? { ...torch.info, requestedThreads: torch.requestedThreads, description: torch.describe(), timing: 'alternating with verydeep, one sample each, the order swapped every round' } : { skipped: torchAbsent },
    timing: { ...TIMING, harness: 'benchmark.js 2.1.4, deferred; warm-up first; medians of the samples' },
    references: { ...REFERENCES, fp32Peak: { ...REFERENCES.fp32Peak, gflops: PEAK }, wasmCeiling: { ...REFERENCES.wasmCeiling, gflops: WASM_CEILING } },
  },
  rows,
};
const md = markdownReport(report);
mkdirSync(path.dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(report, null, 1) + '\n');
writeFileSync(OUT.replace(/\.json$/, '') + '.md', md);
console.log(`\n${md}`);
console.log(`wrote ${path.relative(process.cwd(), OUT)} and ${path.relative(process.cwd(), OUT.replace(/\.json$/, '') + '.md')} in ${report.meta.totalSeconds} s`);
torch?.stop();
process.exit(0); // tfjs's pthread workers would keep Node alive
