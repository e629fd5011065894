export { fit, evaluate, topK, writeCurves } from './trainer.js';
export type { FitOptions, FitResult, Metrics, EvaluateOptions } from './trainer.js';
export { runTraining, checkRunOptions, RUN_DEFAULTS } from './run.js';
export type { RunOptions, RunResult } from './run.js';
export { curvesSvg } from './curves.js';
export type { EpochRecord, StepRecord } from './curves.js';
export { Progress } from './progress.js';
export type { StepProgress } from './progress-lines.js';
