/**
 * Validation during training: top-1 / top-5 accuracy and mean cross-entropy of a model on
 * an in-memory Dataset, one view per image or (§3.2) averaged with its mirror. Browser-safe:
 * the training loop (loop.ts) and both entries use it.
 */
import { noGrad, tidy } from '../core/tensor.js';
import type { Module } from '../nn/module.js';
import { DataLoader } from '../data/loader.js';
import type { Dataset } from '../data/array-dataset.js';
import { horizontalFlip, type Image } from '../data/transforms.js';
import type { Rng } from '../core/random.js';
import { topK } from '../eval/topk.js';

/** How well a model classifies a dataset: what evaluate returns and FitResult.final holds. */
export interface Metrics {
  /** share of images whose highest-scoring class is the label, in [0, 1] */
  top1: number;
  /** share of images whose label is among the 5 highest-scoring classes, in [0, 1] (all classes when there are fewer) */
  top5: number;
  /** mean cross-entropy of the softmax posteriors, in nats */
  loss: number;
}

/** evaluate's options; all are optional. */
export interface EvaluateOptions {
  /** images per forward pass (default 256) */
  batchSize?: number;
  /** the image as the network sees it, e.g. padded and mean-subtracted */
  transform?: (img: Image, rng: Rng) => Image;
  /**
   * Also run each image mirrored left to right (after `transform`) and average the two
   * softmax posteriors, as §3.2 augments the test set by horizontal flipping. The loss is
   * then the cross-entropy of the averaged posteriors. Default false: one view.
   */
  flip?: boolean;
}

/** top-1 / top-5 accuracy and mean loss of `model` on `dataset`, in eval mode. */
export async function evaluate(model: Module, dataset: Dataset, options: EvaluateOptions = {}): Promise<Metrics> {
  const wasTraining = model.training;
  model.eval();
  const batchSize = options.batchSize ?? 256;
  const transform = options.transform ?? ((img: Image) => img);
  const views = [new DataLoader(dataset, { batchSize, transform })];
  if (options.flip) views.push(new DataLoader(dataset, { batchSize, transform: (img, rng) => horizontalFlip(transform(img, rng)) }));
  let top1 = 0, top5 = 0, lossSum = 0;
  try {
    const streams = views.map((loader) => loader.batches(0));
    for (;;) {
      const batches = streams.map((s) => s.next());
      if (batches[0].done) break;
      const labels = batches[0].value.labels;
      const logits: Float32Array[] = [];
      for (const b of batches) {
        logits.push(await tidy(async () => noGrad(async () => model.forward(b.value!.x).data())));
        b.value!.x.dispose();
      }
      const K = logits[0].length / labels.length;
      // in float64 on the host: each view's log-softmax, then the log of their mean posterior
      const logPosteriors = new Float64Array(logits[0].length);
      const perView = logits.map((z) => logSoftmaxRows(z, K));
      for (let i = 0; i < logPosteriors.length; i++) {
        const ls = perView.map((v) => v[i]);
        const top = Math.max(...ls);
        logPosteriors[i] = top + Math.log(ls.reduce((sum, l) => sum + Math.exp(l - top), 0) / ls.length);
      }
      const ranks = topK(logPosteriors, K, Math.min(5, K));
      labels.forEach((label, n) => {
        if (ranks[n][0] === label) top1++;
        if (ranks[n].includes(label)) top5++;
        lossSum -= logPosteriors[n * K + label];
      });
    }
  } finally {
    model.train(wasTraining);
  }
  return { top1: top1 / dataset.length, top5: top5 / dataset.length, loss: lossSum / dataset.length };
}

/** log-softmax of each row of a [N, K] array, in float64 */
function logSoftmaxRows(z: Float32Array, K: number): Float64Array {
  const out = new Float64Array(z.length);
  for (let n = 0; n < z.length; n += K) {
    let top = -Infinity;
    for (let k = 0; k < K; k++) top = Math.max(top, z[n + k]);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(z[n + k] - top);
    const lse = top + Math.log(sum);
    for (let k = 0; k < K; k++) out[n + k] = z[n + k] - lse;
  }
  return out;
}
