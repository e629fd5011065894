/**
 * The `train` namespace of the browser entry (lib/browser.ts): fit, evaluate, topK and
 * curvesSvg, without files. A page has no output folder: its fit takes the same options as
 * Node's but outDir and resume, which are a ValueError saying so; it plots with onStep and
 * onEpochEnd, stops with an AbortSignal, and logs plain progress lines.
 */
import { ValueError, describeValue } from '../core/errors.js';
import { checkFitOptions, runFit, type FitOptions, type FitResult } from './loop.js';

export { evaluate } from './evaluate.js';
export type { Metrics, EvaluateOptions } from './evaluate.js';
export { topK } from '../eval/topk.js';
export { curvesSvg } from './curves.js';
export type { EpochRecord, StepRecord } from './curves.js';
export type { FitResult } from './loop.js';

/** fit's options in a page: those of Node's fit without the output folder */
export type PageFitOptions = Omit<FitOptions, 'outDir' | 'resume'>;

/** Trains by §3.1 in a page; see FitOptions. Nothing is written: keep what you need from onStep and onEpochEnd. */
export async function fit(o: PageFitOptions): Promise<FitResult> {
  const files = o as FitOptions;
  for (const name of ['outDir', 'resume'] as const) {
    if (files?.[name] !== undefined && files[name] !== false) {
      throw new ValueError(`train.fit: expected no ${name} in a browser, got ${describeValue(files[name])}: a page has no folder for checkpoints ` +
        '(train in Node for those; here, keep the records onStep and onEpochEnd give, and the model\'s weights)');
    }
  }
  checkFitOptions(o);
  return runFit(o);
}
