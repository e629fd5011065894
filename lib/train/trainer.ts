/**
 * train.fit for Node: the training loop of §3.1 (loop.ts, which a page runs too) with an
 * output folder (folder-store.ts: an atomic checkpoint, history.json and curves.svg after
 * each epoch, and `resume` from the last checkpoint) and a live progress bar on a terminal.
 */
import { ValueError } from '../core/errors.js';
import { outputFolderProblem } from '../io/lock.js';
import { checkFitOptions, runFit, type FitOptions, type FitResult } from './loop.js';
import { folderStore } from './folder-store.js';
import { Progress } from './progress.js';

export { evaluate } from './evaluate.js';
export type { Metrics, EvaluateOptions } from './evaluate.js';
export { topK } from '../eval/topk.js';
export { writeCurves } from './folder-store.js';
export type { FitOptions, FitResult } from './loop.js';

/**
 * Trains `model` by §3.1; see FitOptions. Bad options are a ValueError before any work; a
 * loss that becomes NaN or Inf stops the run with a NumericsError before the step that
 * would spread it into the weights, and the checkpoint keeps the last good epoch.
 */
export async function fit(o: FitOptions): Promise<FitResult> {
  checkFitOptions(o);
  if (o.outDir !== undefined) {
    const problem = outputFolderProblem(o.outDir);
    if (problem) throw new ValueError(`train.fit: expected outDir to be a folder it can write, got ${o.outDir}: ${problem}`);
  }
  return runFit(o, {
    store: o.outDir ? folderStore(o.outDir, `VGG training: ${o.trainSet.name}`, o.config) : undefined,
    progress: (label, total, log, columns) => new Progress(label, total, log, columns, o.interactive),
  });
}
