/**
 * Loss and accuracy curves as an SVG file that a person can open, drawn by vega-lite
 * (a well-kept chart library that renders SVG in Node without a browser or canvas), through
 * viz.chartSvg. Browser-safe: the file is written by train/folder-store.ts's writeCurves.
 */
import { chartSvg } from '../viz/index.js';

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  validationLoss: number;
  top1: number;
  top5: number;
  lr: number;
  seconds: number;
}

export interface StepRecord {
  /** fractional epoch: epoch + step / steps */
  epoch: number;
  loss: number;
}

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
