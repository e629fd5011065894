/**
 * Step 3 of examples/pytorch-ddp: the weights train_ddp.py wrote, brought back into verydeep
 * and scored on Fashion-MNIST's test set.
 *
 *   node dist/examples/pytorch-ddp/evaluate.js --weights runs/ddp/trained.safetensors \
 *     [--limit 10000] [--count 64 --logits runs/ddp/logits-verydeep.json] [--png runs/ddp/png --per-class 20]
 *
 * io.loadWeights rebuilds the Vgg from the file's 'vgg' metadata and loads it under the
 * file's torchvision names; the images are prepared under the file's 'preprocessing'
 * (fashion.ts). It prints one JSON line: the top-1 and top-5 error over the first --limit
 * test images. --logits writes the logits of the first --count test images (JSON, written
 * atomically), which evaluate_torch.py writes too for the same images, for comparing the two
 * frameworks. --png writes test images, padded as the net sees them, as PNG files in one
 * folder per class, for `verydeep eval --data` and `verydeep classify`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { io, data, train, setBackend, noGrad, tidy, UsageError, type BackendRequest } from '../../lib/index.js';
import { messageOf } from '../../lib/core/errors.js';
import { loadSharp } from '../../lib/data/images.js';
import { fashionMnistTest, fashionTransform, FASHION_MNIST_DIR } from './fashion.js';

const HELP = `Usage: node dist/examples/pytorch-ddp/evaluate.js --weights <file> [options]

  --weights <file>   the weights to score (train_ddp.py's output, or any Fashion-MNIST VGG file)
  --limit <n>        score the first n test images (all 10,000)
  --count <n>        with --logits: how many of the first test images (64)
  --logits <file>    write the logits of the first --count test images (JSON)
  --png <folder>     write test images, padded to the input size, as PNG (one sub-folder per class)
  --per-class <n>    with --png: images per class (20)
  --backend <mode>   verydeep's backend (auto)
  --data <folder>    the Fashion-MNIST IDX files (${FASHION_MNIST_DIR})`;

const integer = (flag: string, text: string) => {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`evaluate.js: --${flag} expects an integer ≥ 1, got '${text}'`);
  return v;
};

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        weights: { type: 'string' }, limit: { type: 'string' }, count: { type: 'string', default: '64' }, logits: { type: 'string' },
        png: { type: 'string' }, 'per-class': { type: 'string', default: '20' }, backend: { type: 'string', default: 'auto' },
        data: { type: 'string', default: FASHION_MNIST_DIR }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError(`evaluate.js: ${messageOf(e)}\n${HELP}`);
  }
  if (values.help) return void console.log(HELP);
  if (!values.weights) throw new UsageError(`evaluate.js: --weights <file> is required\n${HELP}`);
  const test = fashionMnistTest(values.data);
  const limit = values.limit === undefined ? test.length : Math.min(integer('limit', values.limit), test.length);
  const count = Math.min(integer('count', values.count), test.length);
  const perClass = integer('per-class', values['per-class']);

  const backend = await setBackend(values.backend as BackendRequest);
  const { model, preprocessing } = await io.loadWeights(values.weights);
  const size = model.options.inputSize;
  const transform = fashionTransform(preprocessing, size);
  const first = (n: number) => test.subset(`fashion-mnist (test), first ${n}`, Int32Array.from({ length: n }, (_, i) => i));
  const started = Date.now();
  const metrics = await train.evaluate(model, first(limit), { transform, batchSize: 128 });
  const result: Record<string, unknown> = {
    weights: values.weights, model: model.describe(), backend: backend.mode, images: limit,
    top1_error: 1 - metrics.top1, top5_error: 1 - metrics.top5, loss: metrics.loss, seconds: (Date.now() - started) / 1000,
  };

  if (values.logits) {
    model.eval();
    const loader = new data.DataLoader(first(count), { batchSize: count, transform });
    const batch = loader.batches(0).next().value!;
    const logits = await tidy(async () => noGrad(async () => model.forward(batch.x).data()));
    batch.x.dispose();
    const K = model.options.numClasses;
    const rows = Array.from({ length: count }, (_, n) => Array.from(logits.subarray(n * K, (n + 1) * K)));
    const predictions = rows.map((r) => r.indexOf(Math.max(...r)));
    await io.writeFileAtomic(values.logits, JSON.stringify({ weights: values.weights, framework: 'verydeep', labels: Array.from(batch.labels), predictions, logits: rows }) + '\n');
    result.logits = values.logits;
  }

  if (values.png) {
    const sharp = await loadSharp();
    const written = new Array(10).fill(0);
    for (let i = 0; i < test.length && written.some((n) => n < perClass); i++) {
      const { image, label } = test.get(i);
      if (written[label] >= perClass) continue;
      const padded = data.pad(image, size);
      const pixels = Buffer.from(Array.from(padded.data as Float32Array, (v) => Math.round(v * 255)));
      // '0 T-shirt-top', '1 Trouser', ...: folders sort in label order, as verydeep eval numbers them
      const dir = join(values.png, `${label} ${data.FASHION_MNIST_CLASSES[label].replace('/', '-')}`);
      mkdirSync(dir, { recursive: true });
      await sharp(pixels, { raw: { width: size, height: size, channels: 1 } }).png().toFile(join(dir, `${i}.png`));
      written[label]++;
    }
    result.png = values.png;
  }
  model.dispose();
  console.log(JSON.stringify(result));
}

try {
  await main();
} catch (e) {
  console.error(`error: ${messageOf(e)}`);
  process.exit(e instanceof UsageError ? 2 : 1);
}
