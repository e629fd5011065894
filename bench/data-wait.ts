/**
 * The image-folder pipeline's data wait (issue 15): a folder of 10,000 pictures of 200–500
 * px (bench/picture-folder.ts: Fashion-MNIST clothes, MNIST digits, pictures from Debian
 * packages, as JPEG, PNG and WebP, colour and grey), and the demo network (VGG-A at width
 * 0.25, FC 256, input 32, batch 64, the wasm fast path) trained on it for one epoch as
 * train.fit trains: the time the loop waited for its next batch, as a share of the
 * epoch's time. The target is under 5%.
 *
 *   node dist/bench/data-wait.js [--dir /tmp/verydeep-pictures] [--images 10000] [--steps N] [--cache] [--workers N] [--scale 37 | --scale 256:512]
 *
 * The folder is made once and kept in --dir (made again when its count differs).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setBackend } from '../lib/core/backend.js';
import { tidy } from '../lib/core/tensor.js';
import * as ops from '../lib/core/ops.js';
import { Vgg } from '../lib/models/vgg.js';
import { SGD } from '../lib/optim/sgd.js';
import { imageFolder } from '../lib/data/images.js';
import { makePictureFolder } from './picture-folder.js';

const { values: a } = parseArgs({
  options: {
    dir: { type: 'string', default: '/tmp/verydeep-pictures' }, images: { type: 'string', default: '10000' },
    steps: { type: 'string' }, cache: { type: 'boolean', default: false }, workers: { type: 'string' }, scale: { type: 'string' },
  },
});
const total = Number(a.images);
const stamp = join(a.dir!, 'made.json');
const classes = 21; // 10 clothes, 10 digits, the Debian pictures
const perClass = Math.ceil(total / classes);
if (!existsSync(stamp) || JSON.parse(readFileSync(stamp, 'utf8')).perClass !== perClass) {
  rmSync(a.dir!, { recursive: true, force: true });
  const t0 = Date.now();
  const made = await makePictureFolder(a.dir!, { perClass, minSide: 200, maxSide: 500, layout: 'flat', seed: 15 });
  writeFileSync(stamp, JSON.stringify({ perClass, ...made }));
  console.log(`made ${made.files} pictures in ${made.classes.length} classes in ${a.dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
const info = await setBackend('wasm');
const scale = a.scale ? (a.scale.includes(':') ? (a.scale.split(':').map(Number) as [number, number]) : Number(a.scale)) : undefined;
const train = imageFolder(a.dir!, {
  split: 'train', valFraction: 0.1, seed: 1, cache: a.cache, workers: a.workers ? Number(a.workers) : undefined,
  transform: { input: 32, scale, flip: true, pcaColour: true },
});
const t0 = performance.now();
const stats = await train.statistics();
console.log(`${train.length} training pictures, ${train.numClasses} classes; mean RGB [${stats.mean.map((m) => m.toFixed(1)).join(', ')}] from ${Math.min(1000, train.length)} of them in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const model = Vgg.config('A', { numClasses: train.numClasses, inputSize: 32, inputChannels: 3, widthMultiplier: 0.25, fcWidth: 256, seed: 1 });
const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
model.train();
const steps = a.steps ? Number(a.steps) : Infinity;
const waiting = train.pipeline.waiting;
const start = performance.now();
let step = 0, seen = 0;
for await (const batch of train.batches(0, 64, 1)) {
  // as train.fit's step: forward, backward, SGD
  await tidy(async () => {
    const loss = ops.softmaxCrossEntropy(model.forward(batch.x), batch.labels);
    await loss.backward();
    return loss.item();
  });
  batch.x.dispose();
  await opt.step();
  opt.zeroGrad();
  seen += batch.labels.length;
  if (++step >= steps) break;
}
const seconds = (performance.now() - start) / 1000;
console.log(`backend ${info.mode}; ${step} steps of batch 64 (${seen} pictures) in ${seconds.toFixed(1)} s, ${(seen / seconds).toFixed(0)} img/s; ` +
  `waited for data ${(waiting.ms / 1000).toFixed(2)} s: ${((100 * waiting.ms) / 1000 / seconds).toFixed(2)}% of the step time` +
  ` (workers: ${a.workers ?? 'default'}, cache: ${a.cache ? 'on' : 'off'}, scale: ${train.pipeline.scale.join(':')})`);
await train.close();
