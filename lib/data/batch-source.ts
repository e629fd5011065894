/**
 * BatchSource: a training set that makes its own batches, asynchronously (an image folder
 * decoded and augmented in worker threads, lib/data/folder-pipeline.ts), beside the
 * in-memory Dataset that DataLoader batches. train.fit takes either.
 *
 * Plain TypeScript with no Node import, so that the trainer, which the browser bundle
 * reaches, can recognise one without pulling worker_threads into it.
 */
import type { Batch } from './loader.js';
import type { Dataset } from './array-dataset.js';

/** A training set that makes its own batches (see the header); FolderPipeline and ImageFolder (with a transform) are ones. */
export interface BatchSource {
  /** the set's name, for messages and logs */
  readonly name: string;
  /** images per epoch */
  readonly length: number;
  /** the number of classes: labels are 0 to numClasses − 1 */
  readonly numClasses: number;
  /**
   * The batches of epoch `epoch` (from 0), `batchSize` images each (the last may be
   * smaller): the order and each image's augmentation are functions of (seed, epoch) and
   * the image's index alone, so a resumed run sees what an uninterrupted one sees.
   */
  batches(epoch: number, batchSize: number, seed: number): AsyncGenerator<Batch>;
  /** the set as the network sees it for evaluation (no augmentation), in memory */
  evaluationSet(): Promise<Dataset>;
}

/** whether `x` is a BatchSource (rather than a Dataset) */
export function isBatchSource(x: unknown): x is BatchSource {
  return !!x && typeof (x as BatchSource).batches === 'function' && typeof (x as BatchSource).evaluationSet === 'function';
}
