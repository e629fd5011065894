/**
 * `verydeep classify <image>... --weights <file>`: the top-5 classes of each image, named by
 * --labels, else by the weights file's class names (scripts/torchvision_to_safetensors.py
 * writes ImageNet's), else `class k`. Each image is decoded at each scale Q the protocol
 * needs, downscaled by sharp (antialiased, as torchvision's pipeline does; lib/data/images.ts).
 */
import { statSync } from 'node:fs';
import { setBackend, type BackendRequest } from '../core/backend.js';
import type { Vgg } from '../models/vgg.js';
import { loadWeights } from '../io/weights.js';
import { loadSharp, scalableImage } from '../data/images.js';
import type { Preprocessing } from '../data/preprocess.js';
import { dense, multiCrop, topK } from '../eval/index.js';
import { DataError, UsageError, messageOf } from '../core/errors.js';
import { COMMON_OPTIONS, helpText, list, oneLine, oneOf, runCommand, weightsOptions, type FlagSpec } from './args.js';
import { checkPaths, describePreprocessing, readLabels } from './common.js';

const CLASSIFY_OPTIONS: Record<string, FlagSpec> = {
  protocol: { type: 'string', parse: oneOf('classify', 'protocol', ['center', 'dense', 'multicrop']), help: 'center (smallest side rescaled to input·256/224, then the centre crop), dense or multicrop (§3.2) (center)' },
  scales: { type: 'string', parse: list('classify', 'scales'), help: 'dense and multicrop: smallest image sides Q, e.g. 256,384,512 (input·256/224: 256 for 224)' },
  ...weightsOptions('classify'),
  ...COMMON_OPTIONS,
};

export const classifyHelp = (): string => helpText('Usage: verydeep classify <image>... --weights <file.safetensors> [options]',
  'Prints the top-5 classes of each image (JPEG, PNG, WebP, TIFF, GIF) with their probabilities.', CLASSIFY_OPTIONS);

/** `verydeep classify ...argv` (without the command); --help prints its help. */
export const classifyCommand = (argv: string[]): Promise<number> => runCommand('classify', argv, CLASSIFY_OPTIONS, classifyHelp, true, classify);

async function classify(files: string[], f: Record<string, any>): Promise<number> {
  if (!files.length) throw new UsageError('verydeep classify: expected at least one image file (verydeep classify photo.jpg --weights model.safetensors)');
  if (!f.weights) throw new UsageError('verydeep classify: --weights <file.safetensors> is required');
  checkPaths('classify', '--weights', [f.weights]);
  if (f.labels) checkPaths('classify', '--labels', [f.labels]);
  // every image missing: one error before the model loads; some missing: each is named, the rest classified (exit 1)
  if (files.every((file) => !statSync(file, { throwIfNoEntry: false }))) checkPaths('classify', files.length > 1 ? 'images' : 'image', files);
  await loadSharp(); // without it, one error rather than one per image
  await setBackend((f.backend ?? 'auto') as BackendRequest);
  const { model, preprocessing, classes } = await loadWeights(f.weights, f);
  try {
    return await classifyWith(model, preprocessing, classes, files, f);
  } finally {
    model.dispose();
  }
}

async function classifyWith(model: Vgg, preprocessing: Preprocessing, classes: string[] | undefined, files: string[], f: Record<string, any>): Promise<number> {
  const { inputSize: size, inputChannels } = model.options;
  const channels = preprocessing.channelOrder === 'gray' ? 1 : 3;
  if (inputChannels !== channels) throw new DataError(`verydeep classify: ${f.weights} holds a net for ${inputChannels}-channel images, but its preprocessing (${preprocessing.channelOrder}) gives ${channels}`);
  const labels = f.labels || !classes ? readLabels(f.labels, model.options.numClasses) : classes;
  const protocol = (f.protocol ?? 'center') as 'center' | 'dense' | 'multicrop';
  const Q = Math.round((size * 256) / 224);
  const scales: number[] = f.scales ?? [Q];
  const flip = !f['no-flip'], grid: number = f.grid ?? 5;
  const how = {
    center: `the ${size}×${size} centre crop of the image rescaled to smallest side ${Q}`,
    dense: `dense evaluation at Q = ${scales.join(', ')}${flip ? ', with flips' : ''}`,
    multicrop: `${grid}×${grid} crops${flip ? ' and their flips' : ''} at Q = ${scales.join(', ')}`,
  }[protocol];
  const names = f.labels ? `; class names from ${f.labels}` : classes ? `; class names from ${f.weights}` : '';
  console.log(`${model.describe()} from ${f.weights}; preprocessing ${describePreprocessing(preprocessing)}; ${how}${names}`);
  let failed = 0;
  for (const file of files) {
    let image;
    try {
      image = await scalableImage(file, { preprocessing }).load(protocol === 'center' ? [Q] : scales);
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
