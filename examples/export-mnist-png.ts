/**
 * Writes MNIST validation digits as PNG files in an image folder (one sub-folder per
 * class), padded to 32×32 as the demo's network sees them, so that `verydeep eval` and
 * `verydeep classify` can be tried on real image files:
 *
 *   node dist/examples/export-mnist-png.js /tmp/mnist-png 20      # 20 digits per class
 *   npx verydeep eval --data /tmp/mnist-png --weights runs/demo/model.safetensors --protocol both --scales 32,40
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { data } from '../lib/index.js';
import { loadSharp } from '../lib/data/images.js';

const [folder = 'mnist-png', perClassArg = '20'] = process.argv.slice(2);
const perClass = Number(perClassArg);
const sharp = await loadSharp();
const { validation } = data.mnist();
const written = new Array(10).fill(0);
for (let i = 0; i < validation.length && written.some((n) => n < perClass); i++) {
  const { image, label } = validation.get(i);
  if (written[label] >= perClass) continue;
  const padded = data.pad(image, 32);
  const pixels = Buffer.from(Array.from(padded.data as Float32Array, (v) => Math.round(v * 255)));
  const dir = join(folder, `digit ${label}`);
  mkdirSync(dir, { recursive: true });
  await sharp(pixels, { raw: { width: 32, height: 32, channels: 1 } }).png().toFile(join(dir, `${i}.png`));
  written[label]++;
}
console.log(`wrote ${written.reduce((a, b) => a + b, 0)} PNG digits (${perClass} per class) to ${folder}`);
