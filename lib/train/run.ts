/**
 * A whole training run from plain options (the CLI's `verydeep train`): datasets,
 * transforms, the model, `fit`, and for Fashion-MNIST a final test-set evaluation.
 *
 * Data (§3.1, scaled to 28×28 digits): the image is zero-padded to the input size, the
 * pixels are taken in [0, 255] and the training set's mean intensity is subtracted (§2.1:
 * "the only pre-processing we do is subtracting the mean RGB value", on the 0–255 pixels
 * of the authors' Caffe set-up; with Glorot's init, this input scale is what lets an
 * 11-layer net without normalisation start learning at lr 10⁻²), and with augmentation on,
 * training images are padded 2 pixels more and randomly cropped (small translations).
 * Flips are off by default (digits and characters are not mirror-symmetric); `flip` turns them on
 * (for clothing).
 *
 * An image folder (`data` a path; run-folder.ts) follows §3.1 on real pictures: the
 * image rescaled to smallest side S (fixed or jittered), a random crop, optional flips and
 * PCA colour shift, the training set's mean RGB subtracted (computed once, stored in the
 * checkpoint and in model.safetensors), decoded and augmented in worker threads.
 *
 * Every option is checked before any work (checkRunOptions: a UsageError naming the
 * flag), and the output folder is locked for the whole run (io/lock.ts), so a second run
 * given the same --out refuses rather than overwriting the first's checkpoints. A
 * resumed run takes the options it is not given from its checkpoint; options given that
 * differ from the run's are refused unless `override` is set.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../core/random.js';
import { Vgg, VGG_CONFIGS } from '../models/vgg.js';
import { mnist, fashionMnistSplit, missingFashionMnistFiles, FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, type ArrayDataset } from '../data/datasets.js';
import type { Preprocessing } from '../data/preprocess.js';
import { saveSafetensors } from '../io/model.js';
import { writeFileAtomic } from '../io/atomic.js';
import { lockFolder, outputFolderProblem } from '../io/lock.js';
import { pad, randomCrop, randomFlip, subtractMean, channelMean, scale, type Image } from '../data/transforms.js';
import { setBackend, MODES, type BackendRequest } from '../core/backend.js';
import { CheckpointError, DataError, LockError, UsageError } from '../core/errors.js';
import { fit, evaluate, type FitResult, type Metrics } from './trainer.js';
import { CHECKPOINT, readCheckpointState } from './checkpoint.js';
import type { InitScheme } from '../nn/init.js';
import type { ImageFolder } from '../data/images.js';
import { checkFolderOptions, openFolderData, parseScale } from './run-folder.js';

/** datasets hold pixels in [0, 1]; the network sees them in [0, 255] as in the paper's Caffe set-up */
export const PIXEL_SCALE = 255;

/** runTraining's options: the CLI's flags of `verydeep train` (flagOf names each one), with RUN_DEFAULTS' defaults. */
export interface RunOptions {
  /** the VGG configuration of Table 1: A, A-LRN, B, C, D or E ('A') */
  config: string;
  /** mnist, fashion-mnist, or the path of an image folder (one sub-folder per class, or train/ val/ [test/] each so) */
  data: string;
  /** where Fashion-MNIST's IDX files are (Debian's /usr/share/datasets/fashion-mnist) */
  dataDir?: string;
  /** an image folder without train/ and val/: the share of each class held out for validation (0.1) */
  valFraction?: number;
  /** an image folder: smallest side S, 'S' or 'S_min:S_max' (jittered per image); default round(input · 256/224) */
  scale?: string;
  /** an image folder: AlexNet's PCA colour shift with the training set's eigenvectors */
  pcaColour?: boolean;
  /** an image folder: keep the decoded images in memory when they fit */
  cache?: boolean;
  /** an image folder: decoding worker threads (the cores less one, 1 to 4) */
  workers?: number;
  /** width multiplier of every conv layer (0.25; the paper's is 1) */
  width: number;
  /** side of the square input: 28×28 images are padded to it, a folder's images cropped to it; at least 32, for the 5 max-pools (32) */
  input: number;
  /** width of FC6 and FC7 (256; the paper's is 4096) */
  fcWidth: number;
  /** dropout after FC6 and FC7, in [0, 1) (0.5, §3.1) */
  dropout: number;
  /** 'paper' (N(0, 0.01²)) or 'glorot' ('glorot') */
  init: InitScheme;
  /** the epoch to stop after, counted from the run's start (12) */
  epochs: number;
  /** images per SGD step (64; §3.1's is 256) */
  batch: number;
  /** images per forward pass; gradients accumulate up to `batch` (default: batch) */
  microBatch?: number;
  /** initial learning rate, divided by 10 on a plateau, at most 3 times (0.01, §3.1) */
  lr: number;
  /** SGD momentum, in [0, 1) (0.9, §3.1) */
  momentum: number;
  /** L2 weight decay (5e-4, §3.1) */
  weightDecay: number;
  /** epochs without a better validation accuracy before the lr is divided by 10 (1) */
  patience: number;
  /** seed of every random draw: the init, dropout, shuffling, augmentation and a folder's validation split (1) */
  seed: number;
  /** output folder for checkpoint.safetensors, history.json, curves.svg, model.safetensors and labels.txt; none: nothing is written */
  out?: string;
  /** continue the run in `out` from its checkpoint, with its options where none are given */
  resume: boolean;
  /** with resume: options given that differ from the run's replace them (else they are refused) */
  override?: boolean;
  /** random-crop augmentation: training images padded 2 pixels more and cropped back to `input` (true; the CLI's --no-augment) */
  augment: boolean;
  /** random horizontal flips of training images (label-preserving for clothing, not for digits) */
  flip: boolean;
  /** the compute mode (one of MODES), or 'auto' to pick the fastest that works ('auto') */
  backend: BackendRequest;
  /** train on the first N training images only (quick runs) */
  limit?: number;
  /** show a live progress bar (default: when stdout is a terminal) */
  interactive?: boolean;
  /** log lines (default: console.log) */
  log?: (line: string) => void;
  /**
   * Stops the run after the step under way (the CLI's Ctrl-C): fit's signal. The checkpoint
   * keeps the last whole epoch; an aborted run writes no model.safetensors and scores no
   * test set (--resume finishes the run, and writes them).
   */
  signal?: AbortSignal;
}

/** The options of a run that gives none: a small VGG-A on MNIST, 12 epochs (the CLI's defaults). */
export const RUN_DEFAULTS: RunOptions = {
  config: 'A', data: 'mnist', width: 0.25, input: 32, fcWidth: 256, dropout: 0.5, init: 'glorot', epochs: 12, batch: 64,
  lr: 0.01, momentum: 0.9, weightDecay: 5e-4, patience: 1, seed: 1, resume: false, augment: true, flip: false, backend: 'auto',
};

/** What runTraining returns: fit's result, the test-set scores and the backend it ran on. */
export interface RunResult extends FitResult {
  /** the test set (Fashion-MNIST), one view per image */
  test?: Metrics;
  /** the test set with each image's posteriors averaged with its mirror's (§3.2), for a run trained with flips */
  testFlip?: Metrics;
  /** the mode setBackend chose, e.g. 'cpu' or 'webgpu' */
  backend: string;
}

const IMAGE_SIDE = 28; // MNIST's and Fashion-MNIST's
const POOLS = 5; // every configuration halves the map five times, and each max-pool needs a 2×2 map

/** the options of a run that its checkpoint keeps (not out, resume, override, log, interactive: where and how this call runs it) */
const RUN_KEYS = ['config', 'data', 'width', 'input', 'fcWidth', 'dropout', 'init', 'epochs', 'batch', 'microBatch', 'lr', 'momentum',
  'weightDecay', 'patience', 'seed', 'augment', 'flip', 'limit', 'backend', 'dataDir', 'valFraction', 'scale', 'pcaColour', 'cache'] as const;
type RunKey = (typeof RUN_KEYS)[number];

/**
 * What a resume may change without `override`: more epochs continue a finished run, and the
 * backend and the micro-batch change how the same batches are computed, not what.
 */
const FREE_ON_RESUME: ReadonlySet<RunKey> = new Set(['epochs', 'microBatch', 'backend', 'dataDir', 'cache']);

/** the command-line flag of an option */
function flagOf(key: string): string {
  const flags: Record<string, string> = {
    fcWidth: '--fc-width', microBatch: '--micro-batch', weightDecay: '--weight-decay', augment: '--no-augment',
    dataDir: '--data-dir', valFraction: '--val-fraction', pcaColour: '--pca-colour',
  };
  return flags[key] ?? `--${key}`;
}

/** an option's value as a flag would give it (`--lr 0.05`, `--no-augment`), or, `bare`, its value alone */
function showOption(key: string, v: unknown, bare = false): string {
  if (key === 'augment') return v === false ? '--no-augment' : 'augmentation on';
  if (typeof v === 'boolean') return v ? flagOf(key) : `no ${flagOf(key)}`;
  if (v === undefined) return `no ${flagOf(key)}`;
  return bare ? String(v) : `${flagOf(key)} ${String(v)}`;
}

/**
 * Checks every option of a run before any work (the backend, the data, the output
 * folder): a UsageError naming the flag, what it expects and what it got. For --out, the
 * nearest part of the path that exists must be a writable folder on a real file system
 * (not /proc or /sys); nothing is created here. Fashion-MNIST's files must be installed (a
 * DataError).
 */
export function checkRunOptions(o: RunOptions): void {
  const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : String(v));
  const fail = (key: string, expected: string, got: unknown): never => {
    throw new UsageError(`verydeep train: ${flagOf(key)} expects ${expected}, got ${show(got)}`);
  };
  const oneOf = (key: keyof RunOptions, choices: readonly string[]) => {
    if (!choices.includes(o[key] as string)) fail(key, `one of ${choices.join(', ')}`, o[key]);
  };
  const integer = (key: keyof RunOptions, min: number, max = Infinity, why = '') => {
    const v = o[key];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max)) fail(key, (max < Infinity ? `an integer from ${min} to ${max}` : `an integer ≥ ${min}`) + why, v);
  };
  const number = (key: keyof RunOptions, ok: (v: number) => boolean, expected: string) => {
    const v = o[key];
    if (!(typeof v === 'number' && Number.isFinite(v) && ok(v))) fail(key, expected, v);
  };
  oneOf('config', Object.keys(VGG_CONFIGS));
  const folder = isFolderData(o.data);
  if (typeof o.data !== 'string' || !o.data) fail('data', 'mnist, fashion-mnist or an image folder', o.data);
  if (!folder && !['mnist', 'fashion-mnist'].includes(o.data)) {
    fail('data', `mnist, fashion-mnist or an image folder (one sub-folder per class), and there is no folder ${o.data}`, o.data);
  }
  number('width', (v) => v > 0, 'a number > 0');
  if (folder) integer('input', 2 ** POOLS, Infinity, ` (${POOLS} max-pools that each need a 2×2 map)`);
  else integer('input', Math.max(IMAGE_SIDE, 2 ** POOLS), Infinity, ` (${IMAGE_SIDE}×${IMAGE_SIDE} images, and ${POOLS} max-pools that each need a 2×2 map)`);
  integer('fcWidth', 1);
  number('dropout', (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  oneOf('init', ['paper', 'glorot']);
  integer('epochs', 1);
  integer('batch', 1);
  if (o.microBatch !== undefined) integer('microBatch', 1, o.batch, ' (at most --batch)');
  number('lr', (v) => v > 0, 'a number > 0');
  number('momentum', (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  number('weightDecay', (v) => v >= 0, 'a number ≥ 0');
  integer('patience', 0);
  if (!Number.isInteger(o.seed)) fail('seed', 'an integer', o.seed);
  oneOf('backend', [...MODES, 'auto']);
  if (o.limit !== undefined) integer('limit', 1);
  if (o.valFraction !== undefined) number('valFraction', (v) => v > 0 && v < 1, 'a number in (0, 1)');
  if (o.scale !== undefined && !(typeof o.scale === 'string' && parseScale(o.scale, o.input))) {
    fail('scale', `S or S_min:S_max, integers with --input (${o.input}) ≤ S_min ≤ S_max`, o.scale);
  }
  if (o.workers !== undefined) integer('workers', 1);
  if (o.dataDir !== undefined && (typeof o.dataDir !== 'string' || !o.dataDir)) fail('dataDir', 'a folder', o.dataDir);
  for (const key of ['resume', 'augment', 'flip', 'override', 'pcaColour', 'cache'] as const) if (o[key] !== undefined && typeof o[key] !== 'boolean') fail(key, 'true or false', o[key]);
  if (o.out !== undefined) {
    if (typeof o.out !== 'string' || !o.out) fail('out', 'a folder', o.out);
    const problem = outputFolderProblem(o.out);
    if (problem) throw new UsageError(`verydeep train: --out ${o.out}: ${problem}`);
  }
  if (o.resume && o.out === undefined) throw new UsageError('verydeep train: --resume needs --out <folder>, the folder of the run to continue');
  if (o.override && !o.resume) throw new UsageError('verydeep train: --override only applies with --resume (it lets a resumed run change its options)');
  if (folder) checkFolderOptions(o, fail);
  else {
    for (const key of ['valFraction', 'scale', 'pcaColour', 'cache', 'workers'] as const) {
      if (o[key] !== undefined && o[key] !== false) throw new UsageError(`verydeep train: ${flagOf(key)} applies to an image folder (--data <folder>), not to --data ${o.data}`);
    }
  }
  if (o.dataDir !== undefined && o.data !== 'fashion-mnist') throw new UsageError(`verydeep train: --data-dir says where Fashion-MNIST is; it does not apply to --data ${o.data}`);
  if (o.data === 'fashion-mnist') {
    const dir = o.dataDir ?? FASHION_MNIST_DIR;
    const missing = missingFashionMnistFiles(dir);
    if (missing.length) {
      throw new DataError(`verydeep train: --data fashion-mnist needs Fashion-MNIST's IDX files in ${dir}` + (o.dataDir ? ' (--data-dir)' : ' (Debian\'s dataset-fashion-mnist: apt-get install dataset-fashion-mnist; or --data-dir <folder>)') +
        `: ${missing.map((f) => join(dir, f)).join(', ')}(.gz) missing`);
    }
  }
}

/** whether --data names a folder (mnist and fashion-mnist are the built-in sets, even where a folder has that name) */
export function isFolderData(data: unknown): data is string {
  return typeof data === 'string' && data !== 'mnist' && data !== 'fashion-mnist' && !!statSync(data, { throwIfNoEntry: false })?.isDirectory();
}

/** the options of `o` that a checkpoint keeps */
const runOptionsOf = (o: Partial<RunOptions>): Partial<RunOptions> =>
  Object.fromEntries(RUN_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

/**
 * The options of a resumed run: those given, the rest from the checkpoint's. Options given
 * that differ from the run's are a UsageError listing every one, unless `override`; with
 * it they are logged and take effect. Returns the options and the keys that changed.
 */
async function resumedOptions(given: Partial<RunOptions>, log: (line: string) => void): Promise<{ options: RunOptions; changed: RunKey[] }> {
  const path = join(given.out!, CHECKPOINT);
  const { config } = await readCheckpointState(path, 'verydeep train: --resume');
  if (!config) {
    log(`note: ${path} does not record its run's options; continuing with those given and the defaults`);
    return { options: { ...RUN_DEFAULTS, ...given }, changed: [] };
  }
  const stored = runOptionsOf(config as Partial<RunOptions>);
  const changed = RUN_KEYS.filter((k) => !FREE_ON_RESUME.has(k) && given[k] !== undefined && given[k] !== stored[k]);
  const differences = changed.map((k) => `${showOption(k, given[k])} (the run's: ${showOption(k, stored[k], true)})`).join(', ');
  if (changed.length && !given.override) {
    throw new UsageError(`verydeep train: --resume: the options given differ from those of the run in ${given.out}: ${differences}; ` +
      'leave them out to continue the run as it was, or add --override to change them');
  }
  if (changed.length) log(`--override: continuing the run in ${given.out} with ${differences}`);
  return { options: { ...RUN_DEFAULTS, ...stored, ...given }, changed };
}

function loadData(o: RunOptions): { train: ArrayDataset; validation: ArrayDataset; test?: ArrayDataset } {
  if (o.data === 'mnist') return mnist();
  // a fixed 5,000 training images held out for the schedule; the test set unseen until the end
  return fashionMnistSplit(o.dataDir);
}

/**
 * A whole run: checks (checkRunOptions), locks the output folder, and trains; see the
 * header. The lock is released at the end, on an error too.
 */
export async function runTraining(options: Partial<RunOptions>): Promise<RunResult> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<RunOptions>;
  let o: RunOptions = { ...RUN_DEFAULTS, ...given };
  const log = o.log ?? ((line: string) => console.log(line));
  checkRunOptions(o);
  if (o.resume && !existsSync(join(o.out!, CHECKPOINT))) {
    throw new CheckpointError(`verydeep train: --resume: there is no run to continue in ${o.out}: ${join(o.out!, CHECKPOINT)} does not exist`);
  }
  const lock = o.out ? await lockFolder(o.out, { what: `verydeep train: --out ${o.out}`, log }) : null;
  try {
    let changed: RunKey[] = [];
    if (o.resume) {
      ({ options: o, changed } = await resumedOptions(given, log));
      checkRunOptions(o);
    }
    const result = await runChecked(o, log, changed.includes('lr'));
    if (lock?.lost) throw new LockError(`verydeep train: --out ${o.out}: the lock on the folder was lost during the run; another run may have written there`);
    return result;
  } finally {
    await lock?.release();
  }
}

/** The run itself, once its options are checked and its folder is locked; `newLr`: a resume goes on with o.lr, not the checkpoint's. */
async function runChecked(o: RunOptions, log: (line: string) => void, newLr: boolean): Promise<RunResult> {
  const info = await setBackend(o.backend);
  log(`backend: ${info.mode} (${info.reason})`);
  if (isFolderData(o.data)) return runFolder(o, log, newLr, info.mode);
  let { train, validation, test } = loadData(o);
  if (o.limit !== undefined) train = train.subset(`${train.name}, first ${o.limit}`, Int32Array.from({ length: Math.min(o.limit, train.length) }, (_, i) => i));
  const C = train.imageShape[0];
  const mean = channelMean(Array.from({ length: train.length }, (_, i) => train.get(i).image)).map((m) => m * PIXEL_SCALE);
  const toPixels = (img: Image) => scale(img, PIXEL_SCALE);
  const evalTransform = (img: Image) => subtractMean(toPixels(pad(img, o.input)), mean);
  const place = o.augment ? (img: Image, rng: Rng) => randomCrop(pad(img, o.input + 4), o.input, rng) : (img: Image) => pad(img, o.input);
  const trainTransform = o.augment || o.flip
    ? (img: Image, rng: Rng) => subtractMean(toPixels(place(o.flip ? randomFlip(img, rng) : img, rng)), mean)
    : evalTransform;
  const model = Vgg.config(o.config, {
    numClasses: train.numClasses, inputSize: o.input, inputChannels: C, widthMultiplier: o.width,
    fcWidth: o.fcWidth, dropout: o.dropout, init: o.init, seed: o.seed,
  });
  try {
    log(`${model.describe()}: ${model.parameterCount().toLocaleString('en-US')} parameters; ${train.length} training and ${validation.length} validation images`);
    const result = await fit({
      model, trainSet: train, validationSet: validation, epochs: o.epochs, batchSize: o.batch, microBatchSize: o.microBatch,
      lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, patience: o.patience, seed: o.seed, outDir: o.out,
      resume: o.resume, overrideLr: newLr ? o.lr : undefined, trainTransform, evalTransform, log, interactive: o.interactive, config: runOptionsOf(o),
      signal: o.signal,
    });
    // stopped weights are mid-epoch: neither the run's model nor worth a test-set pass
    if (result.aborted) return { ...result, backend: info.mode };
    if (o.out) {
      // weights for `verydeep classify` / `eval`: with the preprocessing the net was trained on. A resume
      // with no epoch left writes them only where they are missing or differ (a run killed before them)
      const ifChanged = result.epochsRun === 0;
      const preprocessing: Preprocessing = { channelOrder: C === 1 ? 'gray' : 'RGB', range: '0-255', mean, std: mean.map(() => 1) };
      const names = o.data === 'fashion-mnist' ? FASHION_MNIST_CLASSES : Array.from({ length: 10 }, (_, d) => `digit ${d}`);
      if (await saveSafetensors(model, join(o.out, 'model.safetensors'), { preprocessing, classes: names, ifChanged }) && ifChanged) result.completed.push('model.safetensors');
      if (await writeFileAtomic(join(o.out, 'labels.txt'), names.join('\n') + '\n', { ifChanged }) && ifChanged) result.completed.push('labels.txt');
      if (!ifChanged) log(`wrote ${join(o.out, 'model.safetensors')} (weights, preprocessing and class names) and labels.txt`);
      else if (result.completed.length) log(`no epoch left to train; wrote ${result.completed.join(', ')}, which an interrupted run had left missing or behind its checkpoint`);
    }
    const out: RunResult = { ...result, backend: info.mode };
    if (test) {
      out.test = await evaluate(model, test, { transform: evalTransform });
      log(`test set (${test.length} images): top-1 ${(out.test.top1 * 100).toFixed(2)}%, top-5 ${(out.test.top5 * 100).toFixed(2)}%`);
      if (o.flip) {
        // a net trained on mirrored images can be tested on them too: §3.2 averages the two posteriors
        out.testFlip = await evaluate(model, test, { transform: evalTransform, flip: true });
        log(`test set with flips (§3.2: each image's posteriors averaged with its mirror's): top-1 ${(out.testFlip.top1 * 100).toFixed(2)}%, top-5 ${(out.testFlip.top5 * 100).toFixed(2)}%`);
      }
    }
    return out;
  } finally {
    model.dispose();
  }
}

/** A run on an image folder (run-folder.ts opens it): fit on its batches, then model.safetensors, labels.txt and the test split. */
async function runFolder(o: RunOptions, log: (line: string) => void, newLr: boolean, backend: string): Promise<RunResult> {
  const folders = await openFolderData(o, log);
  const { train, validation, test, statistics } = folders;
  const model = Vgg.config(o.config, {
    numClasses: train.numClasses, inputSize: o.input, inputChannels: 3, widthMultiplier: o.width,
    fcWidth: o.fcWidth, dropout: o.dropout, init: o.init, seed: o.seed,
  });
  try {
    log(`${model.describe()}: ${model.parameterCount().toLocaleString('en-US')} parameters; ${train.length} training and ${validation.length} validation images in ${train.numClasses} classes`);
    const result = await fit({
      model, trainSet: train, validationSet: validation, epochs: o.epochs, batchSize: o.batch, microBatchSize: o.microBatch,
      lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, patience: o.patience, seed: o.seed, outDir: o.out,
      resume: o.resume, overrideLr: newLr ? o.lr : undefined, log, interactive: o.interactive,
      config: { ...runOptionsOf(o), dataStatistics: statistics }, signal: o.signal,
    });
    if (result.aborted) return { ...result, backend };
    const waiting = train.pipeline.waiting;
    if (waiting.batches) log(`data: the trainer waited ${(waiting.ms / 1000).toFixed(2)} s for ${waiting.batches} batches, ${((100 * waiting.ms) / 1000 / result.seconds).toFixed(2)}% of the run's ${result.seconds.toFixed(1)} s`);
    if (o.out) {
      const ifChanged = result.epochsRun === 0;
      const preprocessing: Preprocessing = { channelOrder: 'RGB', range: '0-255', mean: statistics.mean, std: [1, 1, 1] };
      if (await saveSafetensors(model, join(o.out, 'model.safetensors'), { preprocessing, classes: train.classes, ifChanged }) && ifChanged) result.completed.push('model.safetensors');
      if (await writeFileAtomic(join(o.out, 'labels.txt'), train.classes.join('\n') + '\n', { ifChanged }) && ifChanged) result.completed.push('labels.txt');
      if (!ifChanged) log(`wrote ${join(o.out, 'model.safetensors')} (weights, preprocessing and class names) and labels.txt`);
    }
    const out: RunResult = { ...result, backend };
    if (test) await scoreTest(model, test, o, out, log);
    return out;
  } finally {
    model.dispose();
    await folders.close();
  }
}

/** the test split scored once, and with flips for a net trained on them (§3.2) */
async function scoreTest(model: Vgg, test: ImageFolder, o: RunOptions, out: RunResult, log: (line: string) => void): Promise<void> {
  const set = await test.evaluationSet();
  out.test = await evaluate(model, set);
  log(`test set (${set.length} images): top-1 ${(out.test.top1 * 100).toFixed(2)}%, top-5 ${(out.test.top5 * 100).toFixed(2)}%`);
  if (o.flip) {
    out.testFlip = await evaluate(model, set, { flip: true });
    log(`test set with flips (§3.2): top-1 ${(out.testFlip.top1 * 100).toFixed(2)}%, top-5 ${(out.testFlip.top5 * 100).toFixed(2)}%`);
  }
}
