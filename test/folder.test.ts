/**
 * Tests: training on an image folder (issue 15, §3.1 on real pictures).
 *
 * A folder is made at test time (bench/picture-folder.ts): MNIST digits as JPEG, PNG and
 * WebP of 40–120 px, most grey, some colourised, plus crops of pictures from Debian
 * packages (RGBA and 2100-px PNGs among them).
 *  1. layouts: train/ and val/ folders; a seeded, stratified --val-fraction split;
 *  2. the workers: the same batches with 1 or 2 workers, with or without the cache;
 *     another epoch, other draws; every sample finite and of the right shape;
 *  3. `verydeep train --data <folder>` learns (top-1 far above chance), and stores the
 *     mean RGB in the checkpoint and in model.safetensors's preprocessing;
 *  4. --resume from a folder ends with the same weights as an uninterrupted run;
 *  5. bad folders and flags: one `error:` line naming the problem (DataError, UsageError).
 */
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as data from '../lib/data/index.js';
import { readSafetensors, readSafetensorsMetadata } from '../lib/io/safetensors.js';
import { readCheckpointState } from '../lib/train/checkpoint.js';
import { DataError, ValueError } from '../lib/core/errors.js';
import { makePictureFolder } from '../bench/picture-folder.js';
import { rejectsNamed, throwsNamed } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'verydeep.js');

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, VERYDEEP_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim());

async function batchData(folder: data.ImageFolder, epoch: number, batches: number): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for await (const b of folder.batches(epoch, 16, 3)) {
    out.push(await b.x.data());
    b.x.dispose();
    if (out.length === batches) break;
  }
  return out;
}

const same = (a: Float32Array[], b: Float32Array[]) => a.length === b.length && a.every((x, i) => x.length === b[i].length && x.every((v, j) => v === b[i][j]));

export function registerFolderTests(): void {
  const dir = mkdtempSync(join(tmpdir(), 'verydeep-folder-'));
  const split = join(dir, 'split'), flat = join(dir, 'flat');

  test('folder: a picture folder made at test time (digits and Debian pictures, JPEG/PNG/WebP, 40–120 px)', async (t) => {
    const a = await makePictureFolder(split, { perClass: 150, minSide: 40, maxSide: 120, layout: 'split', valShare: 0.2, greyShare: 0.8, sources: ['digits', 'debian'] });
    const b = await makePictureFolder(flat, { perClass: 12, minSide: 40, maxSide: 120, layout: 'flat', greyShare: 0.3, sources: ['digits'], seed: 2 });
    t.ok(a.files >= 1500 && b.files === 120, `${a.files} pictures in ${a.classes.length} classes (train/ and val/), ${b.files} in ${b.classes.length} (flat)`);
  });

  test('folder: train/ and val/ layout, and a seeded stratified --val-fraction split', async (t) => {
    const tr = data.imageFolder(split, { split: 'train' }), va = data.imageFolder(split, { split: 'val' });
    t.deepEqual(tr.classes, va.classes, `same classes: ${tr.classes.join(', ')}`);
    t.equal(tr.length + va.length, 150 * tr.numClasses, `${tr.length} training + ${va.length} validation images`);
    const f = (s: 'train' | 'val', seed = 1) => data.imageFolder(flat, { split: s, valFraction: 0.25, seed });
    const [ftr, fva] = [f('train'), f('val')];
    const paths = new Set(ftr.files.map((x) => x.path));
    t.ok(fva.files.every((x) => !paths.has(x.path)), 'the two splits are disjoint');
    t.equal(ftr.length + fva.length, 120, 'and cover the folder');
    t.ok(ftr.classes.every((_, c) => fva.files.filter((x) => x.label === c).length === 3), 'stratified: 3 of each class of 12 held out');
    t.deepEqual(f('val').files, fva.files, 'the same seed, the same split');
    t.notDeepEqual(f('val', 2).files, fva.files, 'another seed, another split');
    throwsNamed(t, () => data.imageFolder(flat, { split: 'val' }), DataError, [/no val\/ folder/, /valFraction/], 'a flat folder without valFraction');
    throwsNamed(t, () => data.imageFolder(flat, { split: 'val', valFraction: 1.5 }), DataError, [/valFraction/, /\(0, 1\)/, /1\.5/], 'valFraction 1.5');
  });

  test('folder: decoding workers are deterministic (1 or 2 workers, cache or not); each epoch draws anew', async (t) => {
    const open = (workers: number, cache: boolean) => data.imageFolder(split, { split: 'train', seed: 3, workers, cache, log: () => {}, transform: { input: 32, scale: 40, flip: true, pcaColour: true } });
    const one = open(1, false), two = open(2, false), cached = open(2, true);
    try {
      const [a, b] = [await batchData(one, 0, 3), await batchData(two, 0, 3)];
      t.ok(same(a, b), '1 and 2 workers give the same first 3 batches of epoch 0');
      const c0 = await batchData(cached, 0, 3), c0again = await batchData(cached, 0, 3);
      t.ok(same(a, c0) && same(c0, c0again), 'the cache gives them too, decoded or from memory (a fixed scale is decoded at S either way)');
      const e1 = await batchData(one, 1, 3);
      t.ok(!same(a, e1), 'epoch 1 has other batches');
      t.ok(a.every((x) => x.length === 16 * 3 * 32 * 32 && x.every(Number.isFinite)), 'samples [3, 32, 32], finite');
      const st = await one.statistics();
      t.ok(st.mean.length === 3 && st.mean.every((m) => m > 0 && m < 255) && st.pca!.eigenvalues[0] >= st.pca!.eigenvalues[2], `mean RGB [${st.mean.map((m) => m.toFixed(1)).join(', ')}], PCA eigenvalues [${st.pca!.eigenvalues.map((v) => v.toFixed(4)).join(', ')}]`);
      const ev = await one.evaluationSet();
      t.deepEqual([ev.length, ...ev.imageShape], [one.length, 3, 32, 32], 'the evaluation set: centre crops in memory');
      const jitter = data.imageFolder(split, { split: 'train', seed: 3, workers: 2, log: () => {}, transform: { input: 32, scale: [32, 64] }, statistics: one });
      const j1 = await batchData(jitter, 0, 2);
      const jitter1 = data.imageFolder(split, { split: 'train', seed: 3, workers: 1, log: () => {}, transform: { input: 32, scale: [32, 64] }, statistics: one });
      t.ok(same(j1, await batchData(jitter1, 0, 2)), 'scale jittering [32, 64]: the same draws with 1 or 2 workers');
      await jitter.close();
      await jitter1.close();
      await rejectsNamed(t, () => batchData(data.imageFolder(split, { split: 'train' }), 0, 1), ValueError, [/transform/], 'batches without a transform');
      throwsNamed(t, () => data.imageFolder(split, { split: 'train', transform: { input: 32, scale: [512, 256] } }).pipeline, ValueError, [/scale/, /512, 256/], 'a scale range upside down');
    } finally {
      await Promise.all([one.close(), two.close(), cached.close()]);
    }
  });

  test('folder: verydeep train --data <folder> learns; the mean is in the checkpoint and in model.safetensors', async (t) => {
    const out = join(dir, 'run');
    const r = cli(['train', '--data', split, '--config', 'A', '--width', '0.25', '--input', '32', '--scale', '36', '--epochs', '5', '--patience', '3', '--batch', '16', '--lr', '0.01',
      // dropout 0.25, not the paper's 0.5: with FC 256 and 1,320 images, 0.5 leaves the net near
      // chance for most of 5 epochs, and where it leaves depends on the rounding (seeds 1-4 at 0.25: 40-56%)
      '--dropout', '0.25', '--seed', '1', '--backend', 'wasm', '--out', out]);
    t.equal(r.code, 0, `exit 0${r.code ? `: ${r.stderr}` : ''}`);
    const done = lines(r.stdout).pop() ?? '';
    const top1 = Number(/validation top-1 ([\d.]+)%/.exec(done)?.[1]);
    const chance = 100 / 11;
    t.ok(top1 > 3 * chance, `${done} (chance: ${chance.toFixed(1)}%)`);
    t.comment(`folder: 11 classes, ${split}: ${done}`);
    const wait = lines(r.stdout).find((l) => l.startsWith('data: the trainer waited'));
    t.ok(wait, wait ?? 'a data-wait line');
    const { config } = await readCheckpointState(join(out, 'checkpoint.safetensors'), 'test');
    const mean = (config as { dataStatistics: { mean: number[] } }).dataStatistics.mean;
    const meta = await readSafetensorsMetadata(join(out, 'model.safetensors'));
    const pre = JSON.parse(meta.preprocessing ?? '{}');
    t.deepEqual(pre.mean, mean, `model.safetensors's preprocessing has the checkpoint's mean [${mean.map((m) => m.toFixed(2)).join(', ')}], ${pre.range}, ${pre.channelOrder}`);
    t.equal(readFileSync(join(out, 'labels.txt'), 'utf8').split('\n')[0], 'debian-pictures', 'labels.txt: the class folders, sorted');
  });

  test('folder: --resume from a folder ends where an uninterrupted run ends', async (t) => {
    const base = ['train', '--data', flat, '--val-fraction', '0.25', '--config', 'A', '--width', '0.0625', '--fc-width', '16', '--input', '32', '--scale', '32:40',
      '--flip', '--pca-colour', '--batch', '16', '--seed', '4', '--backend', 'wasm'];
    const whole = join(dir, 'whole'), halves = join(dir, 'halves');
    const a = cli([...base, '--epochs', '2', '--out', whole]);
    const b1 = cli([...base, '--epochs', '1', '--out', halves]);
    const b2 = cli(['train', '--resume', '--epochs', '2', '--out', halves]);
    t.ok(a.code === 0 && b1.code === 0 && b2.code === 0, `three runs exit 0 ${[a, b1, b2].map((r) => r.stderr).join(' ')}`);
    t.ok(/from the checkpoint/.test(b2.stdout), 'the resumed run takes the mean RGB from its checkpoint');
    const [wa, wb] = [await readSafetensors(join(whole, 'model.safetensors')), await readSafetensors(join(halves, 'model.safetensors'))];
    const names = [...wa.tensors.keys()];
    t.ok(names.length > 0 && names.every((n) => wa.tensors.get(n)!.data.every((v, i) => v === wb.tensors.get(n)!.data[i])), `the ${names.length} tensors are equal, bit for bit`);
  });

  test('folder: bad folders and flags are one error line', async (t) => {
    const empty = join(dir, 'empty'), noImages = join(dir, 'no-images');
    mkdirSync(empty);
    mkdirSync(join(noImages, 'cats'), { recursive: true });
    mkdirSync(join(noImages, 'dogs'), { recursive: true });
    writeFileSync(join(noImages, 'cats', 'notes.txt'), 'not a picture');
    writeFileSync(join(noImages, 'dogs', 'a.png'), 'not a png either');
    const cases: [string[], number, RegExp, string][] = [
      [['--data', empty], 1, /DataError|no class sub-folders/, 'an empty folder'],
      [['--data', noImages], 1, /no image files.*cats/, 'a class folder without images'],
      [['--data', flat, '--scale', '512:256'], 2, /--scale expects .*'512:256'/, '--scale 512:256'],
      [['--data', flat, '--val-fraction', '1.5'], 2, /--val-fraction expects a number in \(0, 1\), got 1\.5/, '--val-fraction 1.5'],
      [['--data', split, '--val-fraction', '0.2'], 2, /has its own train\/ and val\//, '--val-fraction with train/ and val/'],
      [['--data', join(dir, 'nowhere')], 2, /--data expects mnist, fashion-mnist or an image folder/, 'a folder that does not exist'],
      [['--data', 'mnist', '--scale', '256'], 2, /--scale applies to an image folder/, '--scale with mnist'],
    ];
    for (const [args, code, pattern, what] of cases) {
      const r = cli(['train', ...args, '--out', join(dir, 'bad')]);
      const err = lines(r.stderr);
      t.ok(r.code === code && err.length === 1 && /^error: /.test(err[0]) && pattern.test(err[0]), `${what}: exit ${r.code}, ${err.join(' | ')}`);
    }
  });

  test('folder: clean up', (t) => {
    rmSync(dir, { recursive: true, force: true });
    t.end();
  });
}
