/**
 * `verydeep train --data <folder>`: the image folder's layout, its checks, and its splits
 * opened as training sets (lib/data/images.ts, folder-pipeline.ts) for run.ts.
 *
 * Layout: `<folder>/train/<class>/` and `<folder>/val/<class>/` (and an optional
 * `<folder>/test/<class>/`, scored at the end), or `<folder>/<class>/` (or
 * `<folder>/train/<class>/` without val/) split by a seeded, per-class `--val-fraction`
 * (0.1 when not given). The training split's mean RGB and colour PCA are computed once and
 * kept in the checkpoint: a resumed run reads them from there, so it subtracts exactly the
 * mean the run began with.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ImageFolder } from '../data/images.js';
import type { FolderStatistics, FolderTransform } from '../data/folder-pipeline.js';
import { CheckpointError, DataError, UsageError } from '../core/errors.js';
import { CHECKPOINT, readCheckpointState } from './checkpoint.js';

/** the options of runTraining that a folder run reads (RunOptions has them all) */
export interface FolderRunOptions {
  data: string;
  input: number;
  seed: number;
  flip: boolean;
  augment: boolean;
  valFraction?: number;
  scale?: string;
  pcaColour?: boolean;
  cache?: boolean;
  workers?: number;
  limit?: number;
  resume: boolean;
  out?: string;
}

/** 'S' or 'S_min:S_max' as [S_min, S_max], or null where it is not integers with input ≤ S_min ≤ S_max */
export function parseScale(text: string, input: number): [number, number] | null {
  const m = /^\s*(\d+)\s*(?::\s*(\d+)\s*)?$/.exec(text);
  if (!m) return null;
  const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
  return lo >= input && hi >= lo ? [lo, hi] : null;
}

const isDir = (path: string) => !!statSync(path, { throwIfNoEntry: false })?.isDirectory();

/** the folder's splits as ImageFolders (their pipelines start on first use); `statistics` for the training split, when known */
function openSplits(o: FolderRunOptions, statistics?: FolderStatistics, log?: (line: string) => void) {
  const root = o.data;
  const scale = o.scale === undefined ? undefined : parseScale(o.scale, o.input)!;
  const transform: FolderTransform = { input: o.input, scale: scale && (scale[0] === scale[1] ? scale[0] : scale), flip: o.flip, pcaColour: !!o.pcaColour };
  const common = { seed: o.seed, transform, cache: o.cache, workers: o.workers, log };
  let train: ImageFolder, validation: ImageFolder;
  if (isDir(join(root, 'train')) && isDir(join(root, 'val'))) {
    if (o.valFraction !== undefined) throw new UsageError(`verydeep train: --val-fraction: ${root} has its own train/ and val/ folders`);
    train = new ImageFolder(root, { ...common, split: 'train', statistics });
    validation = new ImageFolder(root, { ...common, split: 'val', statistics: train });
  } else {
    // <folder>/<class>/, or <folder>/train/<class>/ without val/: a seeded per-class split
    const base = isDir(join(root, 'train')) ? join(root, 'train') : root;
    const valFraction = o.valFraction ?? 0.1;
    train = new ImageFolder(base, { ...common, split: 'train', valFraction, statistics });
    validation = new ImageFolder(base, { ...common, split: 'val', valFraction, statistics: train });
  }
  const test = isDir(join(root, 'test')) ? new ImageFolder(root, { ...common, split: 'test', statistics: train }) : undefined;
  for (const [name, split] of [['val', validation], ['test', test]] as const) {
    if (split && split.classes.join('\n') !== train.classes.join('\n')) {
      throw new DataError(`verydeep train: --data ${root}: the ${name} split's classes (${split.classes.join(', ')}) differ from the training split's (${train.classes.join(', ')})`);
    }
  }
  return { train, validation, test };
}

/** The checks of a folder run's options and of the folder itself (a UsageError or a DataError), before any work. */
export function checkFolderOptions(o: FolderRunOptions, fail: (key: string, expected: string, got: unknown) => never): void {
  if (o.limit !== undefined) throw new UsageError('verydeep train: --limit applies to mnist and fashion-mnist; for a folder, make a smaller folder');
  if (o.augment === false) throw new UsageError('verydeep train: --no-augment: a folder is trained with §3.1\'s random crops; for the least augmentation give --scale equal to --input and no --flip or --pca-colour');
  if (o.scale !== undefined && !parseScale(o.scale, o.input)) fail('scale', 'S or S_min:S_max', o.scale);
  openSplits(o); // an empty folder, a class folder without images, a split without images: a DataError
}

/** the training split's statistics kept in a checkpoint's options, checked */
async function storedStatistics(o: FolderRunOptions): Promise<FolderStatistics | undefined> {
  if (!o.resume || !o.out) return undefined;
  const path = join(o.out, CHECKPOINT);
  const { config } = await readCheckpointState(path, 'verydeep train: --resume');
  const stats = (config as { dataStatistics?: FolderStatistics } | undefined)?.dataStatistics;
  if (stats === undefined) return undefined;
  const ok = Array.isArray(stats.mean) && stats.mean.length === 3 && stats.mean.every(Number.isFinite);
  if (!ok) throw new CheckpointError(`verydeep train: --resume: ${path} keeps a damaged mean RGB (${JSON.stringify(stats.mean)}), expected 3 finite numbers`);
  return stats;
}

/** The folder's splits, ready to train on; the training split's statistics computed (or read from the checkpoint on a resume). */
export async function openFolderData(o: FolderRunOptions, log: (line: string) => void) {
  const stored = await storedStatistics(o);
  const splits = openSplits(o, stored, log);
  const close = async () => {
    await Promise.all([splits.train.close(), splits.validation.close(), splits.test?.close()]);
  };
  try {
    const started = Date.now();
    const statistics = await splits.train.statistics();
    const mean = statistics.mean.map((m) => m.toFixed(2)).join(', ');
    if (stored) log(`mean RGB [${mean}] (0-255), from the checkpoint`);
    else log(`mean RGB [${mean}] (0-255) and colour PCA from ${Math.min(splits.train.length, 1000)} training images (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return { ...splits, statistics, close };
  } catch (e) {
    await close();
    throw e;
  }
}
