/**
 * The options of `npm run bench` (bench/run.ts): the command-line flags, checked here
 * (--help prints them and exits, an unknown one throws), and the constants they set: which
 * peers run, their threads, the timing of each measurement, the machine's reference figures
 * and where the results go.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MeasureOptions } from './harness.js';
import { REFERENCES } from './report.js';

export const argv = process.argv.slice(2);
export const flags = new Map(argv.map((a) => {
  const [k, ...v] = a.replace(/^--/, '').split('=');
  return [k, v.length ? v.join('=') : 'true'] as [string, string];
}));
if (flags.has('help') || flags.has('h')) {
  console.log(readHelp());
  process.exit(0);
}
const known = new Set(['list', 'quick', 'only', 'no-peer', 'peers', 'no-torch', 'no-tfjs', 'torch-threads', 'peer-threads', 'threads', 'samples', 'max-time', 'wait-quiet', 'peak', 'wasm-ceiling', 'out']);
for (const k of flags.keys()) if (!known.has(k)) throw new Error(`bench: unknown option --${k} (--help lists them)`);
const num = (k: string, fallback: number) => {
  if (!flags.has(k)) return fallback;
  const v = Number(flags.get(k));
  if (!Number.isFinite(v) || v < 0) throw new Error(`bench: --${k} expects a number ≥ 0, got '${flags.get(k)}'`);
  return v;
};
export const QUICK = flags.has('quick');
export const ONLY = flags.has('only') ? flags.get('only')!.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : null;
const PEERS = new Set(flags.has('no-peer') ? [] : flags.has('peers') ? flags.get('peers')!.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : ['tfjs', 'torch']);
for (const p of PEERS) if (p !== 'tfjs' && p !== 'torch') throw new Error(`bench: --peers expects tfjs and/or torch, got '${p}'`);
if (flags.has('no-torch')) PEERS.delete('torch');
if (flags.has('no-tfjs')) PEERS.delete('tfjs');
export const PEER = PEERS.has('tfjs');
export const TORCH = PEERS.has('torch');
export const PEER_THREADS = num('peer-threads', 2);
export const TORCH_THREADS = num('torch-threads', 2);
/** verydeep's fast-path threads: every core (os.availableParallelism(), the fast path's default), or --threads=N */
export const THREADS = num('threads', os.availableParallelism());
export const PEAK = num('peak', REFERENCES.fp32Peak.gflops);
export const WASM_CEILING = num('wasm-ceiling', REFERENCES.wasmCeiling.gflops);
export const TIMING: MeasureOptions = QUICK
  ? { minSamples: Math.max(1, num('samples', 2)), maxTime: num('max-time', 0), minWarmups: 1, minWarmupMs: 0, waitQuietS: num('wait-quiet', 0) }
  : { minSamples: Math.max(1, num('samples', 5)), maxTime: num('max-time', 2), minWarmups: 2, minWarmupMs: 300, waitQuietS: num('wait-quiet', 0) };

export const ROOT = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench/options.js → the repository
export const OUT = flags.has('out') ? path.resolve(flags.get('out')!)
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
  --threads=N          verydeep's fast-path threads (every core: os.availableParallelism())
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
