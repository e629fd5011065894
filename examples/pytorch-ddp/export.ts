/**
 * Step 1 of examples/pytorch-ddp: a verydeep VGG written with torchvision's state_dict
 * names, for train_ddp.py to load into a torch module (README.md has the three steps).
 *
 *   node dist/examples/pytorch-ddp/export.js --out runs/ddp/exported.safetensors
 *   node dist/examples/pytorch-ddp/export.js --weights runs/fmnist/model.safetensors --out runs/ddp/exported.safetensors
 *
 * A new net (default VGG-A at width 0.25, 32×32 grey inputs, FC 256, 10 classes: 678,218
 * parameters, a few steps a second on CPUs), or one loaded with --weights (a verydeep run's
 * model.safetensors). io.saveSafetensors stores beside the weights the 'vgg' metadata (the
 * configuration and options, so that the reduced net is rebuilt the same on both sides)
 * and the 'preprocessing' (the file's own, else the trainer's for Fashion-MNIST). It also
 * writes labels.txt beside the output for `verydeep classify`.
 */
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Vgg, io, data, setBackend, UsageError } from '../../lib/index.js';
import { messageOf } from '../../lib/core/errors.js';
import { fashionTransform, trainerPreprocessing, FASHION_MNIST_DIR } from './fashion.js';

const HELP = `Usage: node dist/examples/pytorch-ddp/export.js [options]

  --out <file>        where to write the weights (runs/ddp/exported.safetensors)
  --weights <file>    export these weights (a verydeep or torchvision-named file) instead of a new net
  --config <A|B|D|E>  a new net's configuration (A)
  --width <w>         its width multiplier (0.25)
  --fc-width <n>      the width of FC6 and FC7 (256)
  --input <n>         the input side, 28×28 images zero-padded to it (32)
  --seed <n>          the seed of its initialisation (1)
  --data <folder>     the Fashion-MNIST IDX files, for the preprocessing's mean (${FASHION_MNIST_DIR})`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        out: { type: 'string', default: 'runs/ddp/exported.safetensors' }, weights: { type: 'string' }, config: { type: 'string', default: 'A' },
        width: { type: 'string', default: '0.25' }, 'fc-width': { type: 'string', default: '256' }, input: { type: 'string', default: '32' },
        seed: { type: 'string', default: '1' }, data: { type: 'string', default: FASHION_MNIST_DIR }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError(`export.js: ${messageOf(e)}\n${HELP}`);
  }
  if (values.help) return void console.log(HELP);
  const number = (flag: string, text: string, integer: boolean) => {
    const v = Number(text);
    if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) throw new UsageError(`export.js: --${flag} expects ${integer ? 'an integer ≥ 1' : 'a number > 0'}, got '${text}'`);
    return v;
  };
  const seedOf = (text: string) => {
    if (!/^-?\d+$/.test(text)) throw new UsageError(`export.js: --seed expects an integer, got '${text}'`);
    return Number(text);
  };
  if (!['A', 'B', 'D', 'E'].includes(values.config.toUpperCase())) throw new UsageError(`export.js: --config expects A, B, D or E (the configurations torchvision names), got '${values.config}'`);

  await setBackend('auto');
  let model: Vgg;
  let preprocessing;
  if (values.weights) {
    let stated = true;
    ({ model, preprocessing } = await io.loadWeights(values.weights, { note: () => { stated = false; } }));
    if (model.options.inputChannels !== 1 || model.options.numClasses !== 10) {
      throw new UsageError(`export.js: --weights ${values.weights} holds a net for ${model.options.inputChannels}-channel images and ${model.options.numClasses} classes; Fashion-MNIST has 1 and 10`);
    }
    // a file that does not state its preprocessing gets the trainer's (loadWeights would assume torchvision's RGB)
    if (!stated) preprocessing = trainerPreprocessing(values.data);
  } else {
    model = Vgg.config(values.config, {
      numClasses: 10, inputChannels: 1, inputSize: number('input', values.input, true), widthMultiplier: number('width', values.width, false),
      fcWidth: number('fc-width', values['fc-width'], true), init: 'glorot', seed: seedOf(values.seed),
    });
    preprocessing = trainerPreprocessing(values.data);
  }
  fashionTransform(preprocessing, model.options.inputSize); // a grey preprocessing, or a DataError now rather than in Python
  mkdirSync(dirname(values.out), { recursive: true });
  await io.saveSafetensors(model, values.out, { naming: 'torchvision', preprocessing });
  const labels = join(dirname(values.out), 'labels.txt');
  await io.writeFileAtomic(labels, data.FASHION_MNIST_CLASSES.join('\n') + '\n');
  console.log(JSON.stringify({
    out: values.out, labels, model: model.describe(), parameters: model.parameterCount(), options: { config: model.config, ...model.options }, preprocessing,
  }));
  model.dispose();
}

try {
  await main();
} catch (e) {
  console.error(`error: ${messageOf(e)}`);
  process.exit(e instanceof UsageError ? 2 : 1);
}
