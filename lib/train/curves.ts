/**
 * Loss and accuracy curves as an SVG file that a person can open, drawn by vega-lite
 * (a well-kept chart library that renders SVG in Node without a browser or canvas), through
 * viz.chartSvg. Browser-safe: the file is written by train/folder-store.ts's writeCurves.
 */
import { chartSvg } from '../viz/index.js';

/** One epoch of a run, as fit's history, history.json and onEpochEnd give it. */
export interface EpochRecord {
  /** the epoch, from 1 */
  epoch: number;
  /** mean cross-entropy over the epoch's training images, each step's taken before its update (dropout on) */
  trainLoss: number;
  /** mean cross-entropy on the validation set after the epoch */
  validationLoss: number;
  /** validation top-1 accuracy after the epoch, a fraction in [0, 1] */
  top1: number;
  /** validation top-5 accuracy after the epoch, a fraction in [0, 1] */
  top5: number;
  /** the learning rate the epoch trained with (before the plateau schedule divides it) */
  lr: number;
  /** wall-clock seconds of the epoch, its validation included */
  seconds: number;
}

/** One SGD step of a run, as onStep gives it and curves.svg plots it. */
export interface StepRecord {
  /** fractional epoch: epoch + step / steps */
  epoch: number;
  /** the batch's mean cross-entropy, computed before the step's update */
  loss: number;
}

/**
 * The run's curves as SVG text: train loss per step and validation loss per epoch on the
 * left, validation top-1 / top-5 accuracy (%) per epoch on the right, under `title`.
 */
export async function curvesSvg(epochs: EpochRecord[], steps: StepRecord[], title: string): Promise<string> {
  const lossValues = [
    ...steps.map((s) => ({ epoch: s.epoch, value: s.loss, series: 'train loss (per step)' })),
    ...epochs.map((e) => ({ epoch: e.epoch, value: e.validationLoss, series: 'validation loss' })),
  ];
  const accValues = epochs.flatMap((e) => [
    { epoch: e.epoch, value: e.top1 * 100, series: 'top-1' },
    { epoch: e.epoch, value: e.top5 * 100, series: 'top-5' },
  ]);
  const panel = (values: object[], y: string, points: boolean) => ({
    width: 360, height: 220, data: { values },
    mark: { type: 'line', point: points },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'value', type: 'quantitative', title: y, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400 } },
    },
  });
  return chartSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    hconcat: [panel(lossValues, 'cross-entropy', false), panel(accValues, 'validation accuracy (%)', true)],
    resolve: { scale: { color: 'independent' } },
  });
}
