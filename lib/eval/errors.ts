/**
 * Top-1 and top-5 error over a set of images (§4): the fraction of images whose label is
 * not the first class, or not among the first five classes, of the posteriors. Reported
 * for dense evaluation, multi-crop, and both combined (Table 5: the average of the dense
 * and multi-crop posteriors), of one net or of several fused (Table 6: the average of
 * their posteriors).
 */
import type { Vgg } from '../models/vgg.js';
import type { Dataset, Sample } from '../data/array-dataset.js';
import { dense } from './dense.js';
import { multiCrop } from './multicrop.js';
import { fuse, topK, type EvalSample } from './posteriors.js';
import { DataError, ValueError, describeValue } from '../core/errors.js';

/** Which of the paper's test protocols (§3.2, Table 5) errors() runs. */
export type Protocol = 'dense' | 'multicrop' | 'both';

/** The options of errors(); each one left out takes the default given. */
export interface ErrorOptions {
  /** 'dense', 'multicrop' or 'both' (dense, multi-crop and combined); default 'dense' */
  protocol?: Protocol;
  /** the smallest image sides Q (default [inputSize]; see scalesFor) */
  scales?: readonly number[];
  /** average with horizontal flips (default true) */
  flip?: boolean;
  /** multi-crop grid per side (default 5) */
  grid?: number;
  /** multi-crop views per forward pass (default 10) */
  batchSize?: number;
  /** called after each image, e.g. to show progress */
  onProgress?: (done: number, total: number) => void;
}

/** error rates in [0, 1] */
export interface TopErrors {
  /** the fraction of images whose label is not the top class */
  top1: number;
  /** the fraction of images whose label is not among the five top classes (the ILSVRC measure) */
  top5: number;
}

/** What errors() returns: the top-1 and top-5 errors of each protocol run. */
export interface ErrorReport {
  /** the number of images evaluated */
  images: number;
  /** dense evaluation's errors (protocol 'dense' or 'both') */
  dense?: TopErrors;
  /** multi-crop evaluation's errors (protocol 'multicrop' or 'both') */
  multicrop?: TopErrors;
  /** Table 5's "dense + multi-crop": the mean of the two posteriors */
  combined?: TopErrors;
}

/**
 * Top-1 / top-5 error of `models` (one net, or several whose posteriors are averaged) on
 * `samples` (a Dataset, or an array of { image, label }, whose image is any EvalImage:
 * an ndarray [C, H, W], a Tensor, or a ScalableImage).
 */
export async function errors(models: Vgg | readonly Vgg[], samples: Dataset | readonly (Sample | EvalSample)[], options: ErrorOptions = {}): Promise<ErrorReport> {
  const nets = Array.isArray(models) ? models : [models as Vgg];
  if (nets.length === 0) throw new ValueError('evaluate.errors: expected at least one model, got an empty array');
  if (options === null || typeof options !== 'object') throw new ValueError(`evaluate.errors: expected options { protocol, scales, flip, grid, batchSize, onProgress }, got ${describeValue(options)}`);
  const { protocol = 'dense', onProgress, ...rest } = options;
  if (!['dense', 'multicrop', 'both'].includes(protocol)) throw new ValueError(`evaluate.errors: expected protocol 'dense', 'multicrop' or 'both', got ${describeValue(protocol)}`);
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new ValueError(`evaluate.errors: expected onProgress to be a function (done, total) => void, got ${describeValue(onProgress)}`);
  // without a length the loop would run no image and report NaN error rates
  if (!samples || typeof samples.length !== 'number' || (!Array.isArray(samples) && typeof (samples as Dataset).get !== 'function')) {
    throw new DataError(`evaluate.errors: expected a Dataset or an array of { image, label }, got ${describeValue(samples)}`);
  }
  const sample = (i: number): EvalSample => {
    const s: EvalSample = Array.isArray(samples) ? (samples as readonly EvalSample[])[i] : (samples as Dataset).get(i);
    if (!s || typeof s.label !== 'number' || !Number.isInteger(s.label)) throw new DataError(`evaluate.errors: sample ${i} is not { image, label } with an integer label: got ${describeValue(s)}${s ? ` with label ${describeValue(s.label)}` : ''}`);
    return s;
  };
  const total = samples.length;
  if (total === 0) throw new DataError('evaluate.errors: expected at least one sample, got none');
  const wrong = { dense: [0, 0], multicrop: [0, 0], combined: [0, 0] };
  const count = (which: keyof typeof wrong, posteriors: Float32Array, label: number) => {
    const ranked = topK(posteriors, 5);
    if (ranked[0] !== label) wrong[which][0]++;
    if (!ranked.includes(label)) wrong[which][1]++;
  };
  for (let i = 0; i < total; i++) {
    const { image, label } = sample(i);
    const perNet = async (protocolOf: typeof dense | typeof multiCrop) => {
      const out: Float32Array[] = [];
      for (const net of nets) out.push(await protocolOf(net, image, rest));
      return fuse(out);
    };
    const d = protocol !== 'multicrop' ? await perNet(dense) : null;
    const m = protocol !== 'dense' ? await perNet(multiCrop) : null;
    if (d) count('dense', d, label);
    if (m) count('multicrop', m, label);
    if (d && m) count('combined', fuse([d, m]), label);
    onProgress?.(i + 1, total);
  }
  const rates = (which: keyof typeof wrong): TopErrors => ({ top1: wrong[which][0] / total, top5: wrong[which][1] / total });
  return {
    images: total,
    ...(protocol !== 'multicrop' && { dense: rates('dense') }),
    ...(protocol !== 'dense' && { multicrop: rates('multicrop') }),
    ...(protocol === 'both' && { combined: rates('combined') }),
  };
}
