/**
 * `verydeep eval --data <folder> --weights <file>`: top-1 and top-5 error on a folder of
 * labelled images. Each image is decoded at each scale Q, downscaled by sharp (antialiased,
 * as torchvision's pipeline does; lib/data/images.ts).
 */
import { Progress } from '../train/progress.js';
import { setBackend, type BackendRequest } from '../core/backend.js';
import type { Vgg } from '../models/vgg.js';
import { loadWeights } from '../io/weights.js';
import { imageFolder, scalableImage } from '../data/images.js';
import type { Preprocessing } from '../data/preprocess.js';
import { errors, type Protocol } from '../eval/index.js';
import { DataError, UsageError } from '../core/errors.js';
import { COMMON_OPTIONS, helpText, list, oneOf, runCommand, weightsOptions, type FlagSpec } from './args.js';
import { checkPaths, describePreprocessing, readLabels } from './common.js';

const EVAL_OPTIONS: Record<string, FlagSpec> = {
  data: { type: 'string', help: 'a folder with one sub-folder of images per class (torchvision\'s ImageFolder layout)' },
  protocol: { type: 'string', parse: oneOf('eval', 'protocol', ['dense', 'multicrop', 'both']), help: 'dense, multicrop, or both (each and their combination, Table 5) (both)' },
  scales: { type: 'string', parse: list('eval', 'scales'), help: 'smallest image sides Q (256,384,512 at input 224, in proportion at other sizes; §4.2)' },
  ...weightsOptions('eval'),
  labels: { type: 'string', help: 'class names, one per line, class 0 first: a class folder is the class of its name (without: the i-th folder is class i)' },
  ...COMMON_OPTIONS,
};

export const evalHelp = (): string => helpText('Usage: verydeep eval --data <folder> --weights <file.safetensors> [options]',
  'Prints the top-1 and top-5 error (§4) of the weights on a folder of labelled images; a file that does not decode is skipped with a warning.', EVAL_OPTIONS);

/** `verydeep eval ...argv` (without the command); --help prints its help. */
export const evalCommand = (argv: string[]): Promise<number> => runCommand('eval', argv, EVAL_OPTIONS, evalHelp, false, (_, flags) => evaluate(flags));

const percent = (v: number) => `${(v * 100).toFixed(2)}%`;

async function evaluate(f: Record<string, any>): Promise<number> {
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
  for await (const sample of folder.samples((path) => scalableImage(path, { preprocessing }).load(scales))) {
    const report = await errors(model, [{ image: sample.image, label: classOf[sample.label] }], { protocol, scales, flip, grid: f.grid });
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
