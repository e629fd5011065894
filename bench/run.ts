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
 *   more: --threads=N (every core), --peer-threads=1|2 (2), --torch-threads=N (2), --samples=N (5), --max-time=S (2),
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
 *
 * The parts: options.ts (the flags), rows.ts (measuring one row: runRow, addCase, the state
 * the run shares with the rows), cases-conv.ts, cases-fc.ts, cases-pool-lrn.ts and
 * cases-nets.ts (the workloads); this file lists the workloads and runs them.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setBackend } from '../lib/index.js';
import { clearPool } from '../kernels/pool.js';
import { getFastPathInfo } from '../kernels/wasm/fastpath.js';
import { loadMeter } from './harness.js';
import { TorchPeer } from './torch-peer.js';
import { loadTfjs } from './tfjs-peer.js';
import { markdownReport, type Report, REFERENCES } from './report.js';
import { argv, flags, QUICK, ONLY, PEER, TORCH, PEER_THREADS, TORCH_THREADS, PEAK, WASM_CEILING, TIMING, ROOT, OUT } from './options.js';
import { state, rows, cases, useBuild } from './rows.js';
import { convCase } from './cases-conv.js';
import { linearCase } from './cases-fc.js';
import { poolCase, lrnCase } from './cases-pool-lrn.js';
import { vggForwardCase, trainCase } from './cases-nets.js';

const started = performance.now();

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
state.total = cases.reduce((n, c) => n + c.ids.length, 0);
if (state.total === 0) throw new Error(`bench: --only=${flags.get('only')} matches no row (--list lists them)`);
if (flags.has('list')) {
  for (const c of cases) for (const [id, label] of c.ids) console.log(`${id.padEnd(28)} ${label}`);
  console.log(`${state.total} rows`);
  process.exit(0);
}

const backendInfo = await setBackend('wasm');
try {
  await useBuild('relaxed');
} catch (e) {
  // an engine without relaxed SIMD: the mul + add build is all there is, and the mul+add column stays empty
  state.mainBuild = 'mul+add';
  await useBuild('mul+add');
  console.log(`warning: no relaxed-SIMD build here (${(e as Error).message}); measuring the mul + add build only`);
}
console.log(`verydeep: ${backendInfo.reason}; fast path ${JSON.stringify(getFastPathInfo())}`);
let peerError: string | null = null;
if (PEER) {
  try {
    const peer = state.peer = await loadTfjs(PEER_THREADS);
    console.log(`tfjs-core ${peer.version}, tfjs-backend-wasm ${peer.backendVersion}: SIMD ${peer.simd}, ${peer.threads} thread(s)${peer.shim ? ' (threaded build through the shim of bench/tfjs-peer.ts)' : ' (official Node configuration)'}`);
    if (peer.threads !== PEER_THREADS) console.log(`  warning: asked tfjs-wasm for ${PEER_THREADS} threads, it runs ${peer.threads}`);
  } catch (e) {
    peerError = (e as Error).message;
    console.log(`tfjs-wasm could not start, the tfjs columns stay empty: ${peerError}`);
  }
}
if (TORCH) {
  try {
    const torch = state.torch = await TorchPeer.start(path.join(ROOT, 'bench/torch-peer.py'), TORCH_THREADS);
    console.log(`PyTorch: ${torch.describe()}; alternating with verydeep sample by sample`);
    if (torch.info.threads !== TORCH_THREADS) console.log(`  warning: asked PyTorch for ${TORCH_THREADS} threads, it runs ${torch.info.threads}`);
  } catch (e) {
    state.torchAbsent = `not installed: ${(e as Error).message.split('\n')[0]}`;
    console.log(`PyTorch could not start, its columns say 'not installed' (${state.torchAbsent})`);
  }
} else {
  state.torchAbsent = flags.has('no-peer') ? 'skipped (--no-peer)' : 'skipped (--peers / --no-torch)';
}
const runMeter = loadMeter();
const loadStart = os.loadavg();
console.log(`${state.total} rows${QUICK ? ' (--quick)' : ''}${ONLY ? ` (--only=${ONLY.join(',')})` : ''}; samples: ≥ ${TIMING.minSamples}, ≥ ${TIMING.maxTime} s each\n`);
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
const { peer, torch } = state;
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
    torch: torch ? { ...torch.info, requestedThreads: torch.requestedThreads, description: torch.describe(), timing: 'alternating with verydeep, one sample each, the order swapped every round' } : { skipped: state.torchAbsent },
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
