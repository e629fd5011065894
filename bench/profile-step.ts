/**
 * `node dist/bench/profile-step.js [--steps=10] [--batch=64] [--rounds=3] [--no-torch]`:
 * where the CIFAR VGG-11 training step's time goes, on the 'wasm' mode and in PyTorch,
 * kernel by kernel (issue 16: "for each target missed, the measurement that shows what
 * limits it").
 *
 * Ours: every kernel of the registry is wrapped before the fast path registers its own
 * (registerKernels keeps the first registration), and the wrapper runs the calls one at a
 * time (a chain), timing each from its start to its result; what is left of the step's
 * time is JavaScript: autograd, the storage pool, dropout's masks (drawn on the host),
 * promise hops. The step is the bench's (bench/cases-nets.ts trainCase): the same model,
 * input, labels and SGD settings.
 * PyTorch: bench/torch-profile.py runs the same step under torch.profiler and prints its
 * operators' self CPU time per step, grouped the same way.
 * The two sides alternate, `rounds` times, so that both see the same host; the medians of
 * the rounds are printed as one markdown table.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Tensor, Vgg, optim, setBackend } from '../lib/index.js';
import { KERNEL_NAMES, registerKernels, type KernelName, type KernelSet } from '../kernels/registry.js';
import * as fast from '../kernels/wasm/fastpath.js';
import { dropoutPasses } from '../kernels/dropout.js';
import { formulaArray as randomArray, median, sgdStep } from './values.js';

const arg = (name: string, fallback: number) => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : fallback;
};
const STEPS = arg('steps', 10), BATCH = arg('batch', 64), ROUNDS = arg('rounds', 3);
const TORCH = !process.argv.includes('--no-torch');

/** kernel name → the group the table shows it in (the same groups as torch-profile.py's) */
function group(name: KernelName, dims: unknown): string {
  const d = dims as { Cin?: number; Cout?: number; H?: number };
  if (name === 'conv2dForward') return `conv fwd ${d.Cin}→${d.Cout} @${d.H}²`;
  if (name === 'conv2dBackwardInput' || name === 'conv2dBackwardWeight') return `conv backward (input + weight) ${d.Cin}→${d.Cout} @${d.H}²`;
  if (name === 'conv2dBackwardBias' || name === 'linearBackwardBias') return 'bias gradients';
  if (name.startsWith('linear')) return 'fully connected (3 layers, all passes)';
  if (name.startsWith('relu')) return 'ReLU fwd + bwd';
  if (name.startsWith('maxPool')) return 'max-pool fwd + bwd';
  if (name.startsWith('dropout')) return 'dropout fwd + bwd';
  if (name === 'sgdUpdate') return 'SGD update';
  if (name.startsWith('softmax') || name.startsWith('crossEntropy') || name === 'sum' || name === 'scale') return 'softmax cross-entropy';
  return `other (${name})`;
}

const totals = new Map<string, number>();
/** the conv backward's two passes over all layers (torch runs them as one operator, so the table's rows join them) */
const passTotals = new Map<string, number>();
let chain: Promise<unknown> = Promise.resolve();
const wrapped: Partial<KernelSet> = {};
const source = { ...fast, ...dropoutPasses(fast.dropoutApply) } as unknown as KernelSet;
for (const name of KERNEL_NAMES) {
  const impl = source[name] as ((...a: unknown[]) => Promise<Float32Array>) | undefined;
  if (!impl) continue;
  (wrapped as Record<string, unknown>)[name] = (...args: unknown[]) => {
    const run = chain.then(async () => {
      const t0 = performance.now();
      const out = await impl(...args);
      const ms = performance.now() - t0, key = group(name, args[args.length - 1]);
      totals.set(key, (totals.get(key) ?? 0) + ms);
      if (name === 'conv2dBackwardInput' || name === 'conv2dBackwardWeight') passTotals.set(name, (passTotals.get(name) ?? 0) + ms);
      return out;
    });
    chain = run.catch(() => undefined);
    return run;
  };
}
registerKernels('wasm', wrapped);
await setBackend('wasm');

const model = Vgg.configA({ inputSize: 32, numClasses: 10, fcWidth: 512, seed: 1 });
model.train();
const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
const x = Tensor.from(randomArray(BATCH * 3 * 32 * 32, 14), [BATCH, 3, 32, 32]);
const labels = Int32Array.from({ length: BATCH }, (_, i) => (i * 7 + 3) % 10);
const step = () => sgdStep(model, opt, x, labels);

/** one round of ours: per-group ms per step, and the step's own median */
async function oursRound(): Promise<Map<string, number>> {
  for (let i = 0; i < 3; i++) await step();
  totals.clear();
  passTotals.clear();
  const steps: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    await step();
    steps.push(performance.now() - t0);
  }
  const out = new Map([...totals].map(([k, v]) => [k, v / STEPS]));
  const kernels = [...out.values()].reduce((a, b) => a + b, 0);
  const whole = steps.reduce((a, b) => a + b, 0) / STEPS;
  out.set('host side (autograd, pool, masks, hops)', Math.max(0, whole - kernels));
  out.set('whole step', whole);
  out.set(OF_WHICH_DX, (passTotals.get('conv2dBackwardInput') ?? 0) / STEPS);
  out.set(OF_WHICH_DW, (passTotals.get('conv2dBackwardWeight') ?? 0) / STEPS);
  return out;
}

const OF_WHICH_DX = '(all conv backward rows: of which grad input)', OF_WHICH_DW = '(all conv backward rows: of which grad weight)';
const here = dirname(fileURLToPath(import.meta.url));
function torchRound(): Map<string, number> {
  const script = join(here, '../../bench/torch-profile.py');
  const r = spawnSync('/usr/bin/python3', [script, `--steps=${STEPS}`, `--batch=${BATCH}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`torch-profile.py failed: ${r.stderr.slice(-2000)}`);
  return new Map(Object.entries(JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>));
}

const ours: Map<string, number>[] = [], theirs: Map<string, number>[] = [];
for (let r = 0; r < ROUNDS; r++) {
  ours.push(await oursRound());
  if (TORCH) theirs.push(torchRound());
  console.error(`round ${r + 1}/${ROUNDS}: ours ${ours[r].get('whole step')!.toFixed(0)} ms` + (TORCH ? `, torch ${theirs[r].get('whole step')!.toFixed(0)} ms` : ''));
}
const med = (rounds: Map<string, number>[], k: string) => (rounds.length ? median(rounds.map((m) => m.get(k) ?? 0)) : NaN);
const keys = [...new Set([...ours.flatMap((m) => [...m.keys()]), ...theirs.flatMap((m) => [...m.keys()])])]
  .filter((k) => k !== 'whole step' && k !== OF_WHICH_DX && k !== OF_WHICH_DW)
  .sort((a, b) => med(ours, b) - med(ours, a));
keys.push(OF_WHICH_DX, OF_WHICH_DW);
const wholeOurs = med(ours, 'whole step'), wholeTorch = med(theirs, 'whole step');
const f = (v: number) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(2) : v.toFixed(1)) : '—');
console.log(`CIFAR VGG-11 training step, batch ${BATCH}: medians of ${ROUNDS} rounds of ${STEPS} steps, ours and PyTorch alternately.\n`);
console.log('| part of the step | verydeep ms | % | PyTorch ms | % | PyTorch ms ÷ ours |');
console.log('|---|---|---|---|---|---|');
for (const k of keys) {
  const a = med(ours, k), b = med(theirs, k);
  console.log(`| ${k} | ${f(a)} | ${((100 * a) / wholeOurs).toFixed(1)}% | ${f(b)} | ${TORCH ? ((100 * b) / wholeTorch).toFixed(1) + '%' : '—'} | ${a > 0 && b > 0 ? (b / a).toFixed(2) + '×' : '—'} |`);
}
console.log(`| **whole step** | **${f(wholeOurs)}** | 100% | **${f(wholeTorch)}** | 100% | **${(wholeTorch / wholeOurs).toFixed(2)}×** |`);
process.exit(0);
