/**
 * The training procedure of §3.1: mini-batch SGD with momentum, weight decay and dropout,
 * the learning rate divided by 10 when validation accuracy stops improving (at most 3
 * times), and batches of 256 built from micro-batches by gradient accumulation (§3.3
 * averages the gradients of its GPUs' batches the same way).
 *
 * Each epoch ends with the validation top-1 / top-5, an atomic checkpoint (weights,
 * optimiser state, RNG states, schedule, history) and the curves. `resume` continues from
 * the last checkpoint; the batch order and augmentation of an epoch depend only on (seed,
 * epoch), and every other random state is in the checkpoint, so a resumed run ends with
 * the same weights as an uninterrupted one.
 *
 * For a script or a page: `onStep` and `onEpochEnd` get each step's and each epoch's record
 * (to plot, log or save), and an AbortSignal stops the run between two steps.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { Tensor, tidy, noGrad } from '../core/tensor.js';
import * as ops from '../core/ops.js';
import { Module } from '../nn/module.js';
import { SGD } from '../optim/sgd.js';
import { ReduceLROnPlateau } from '../optim/schedule.js';
import { DataLoader } from '../data/loader.js';
import type { Dataset } from '../data/array-dataset.js';
import { isBatchSource, type BatchSource } from '../data/batch-source.js';
import { horizontalFlip, type Image } from '../data/transforms.js';
import { Rng } from '../core/random.js';
import { writeFileAtomic, type WriteOptions } from '../io/atomic.js';
import { makeFolder, outputFolderProblem } from '../io/lock.js';
import { CheckpointError, DataError, NumericsError, ValueError, describeValue, messageOf } from '../core/errors.js';
import { CHECKPOINT, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { Progress } from './progress.js';
import { curvesSvg, type EpochRecord, type StepRecord } from './curves.js';
import { topK } from '../eval/topk.js';

export { topK } from '../eval/topk.js';

/** Writes the curves as an SVG file (atomically); resolves to whether it wrote. */
export async function writeCurves(path: string, epochs: EpochRecord[], steps: StepRecord[], title: string, options: WriteOptions = {}): Promise<boolean> {
  return writeFileAtomic(path, await curvesSvg(epochs, steps, title), options);
}

export interface FitOptions {
  model: Module;
  /** an in-memory Dataset (batched by DataLoader with trainTransform), or a BatchSource such as an image folder with a transform */
  trainSet: Dataset | BatchSource;
  /** a Dataset, or a BatchSource (evaluated on its evaluationSet()) */
  validationSet: Dataset | BatchSource;
  epochs: number;
  /** images per SGD step (§3.1: 256) */
  batchSize: number;
  /** images per forward/backward; gradients accumulate up to batchSize (default: batchSize) */
  microBatchSize?: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  /** epochs without a better validation accuracy before the lr is divided by 10 */
  patience?: number;
  seed?: number;
  /** folder for checkpoint.safetensors, curves.svg and history.json; none: nothing is written */
  outDir?: string;
  /** continue from outDir's checkpoint (a missing or damaged one, or one that does not fit the model, is a CheckpointError) */
  resume?: boolean;
  trainTransform?: (img: Image, rng: Rng) => Image;
  evalTransform?: (img: Image, rng: Rng) => Image;
  /** log lines (default: console.log) */
  log?: (line: string) => void;
  /** show a live bar (default: when stdout is a terminal) */
  interactive?: boolean;
  /** on resume, the lr to go on with instead of the checkpoint's (the CLI's --resume --override --lr) */
  overrideLr?: number;
  /** stop after this many epochs of this call (tests interrupt runs with it) */
  stopAfterEpochs?: number;
  /** saved with the checkpoint, e.g. the CLI's options */
  config?: Record<string, unknown>;
  /**
   * Called after each SGD step (after the update) with that step's record: its fractional
   * epoch and its loss. May be async: fit awaits it before the next step. An error it throws
   * stops fit and is fit's error, as thrown.
   */
  onStep?: (record: StepRecord) => void | Promise<void>;
  /**
   * Called after each epoch's validation, checkpoint and curves, with that epoch's record
   * (the entry fit adds to the history). Awaited; an error it throws stops fit, as thrown.
   */
  onEpochEnd?: (record: EpochRecord) => void | Promise<void>;
  /**
   * Stops the run when aborted: fit finishes the step under way (never half an update),
   * takes no other, and resolves with `aborted: true`. Already aborted: no step at all.
   * fit lets the event loop run between steps, so a timer, a SIGINT handler or a click
   * can call abort() while it trains.
   * A checkpoint is written at an epoch's end only, so a resume after an abort mid-epoch
   * redoes that epoch's steps.
   */
  signal?: AbortSignal;
}

export interface Metrics {
  top1: number;
  top5: number;
  loss: number;
}

export interface FitResult {
  history: EpochRecord[];
  /**
   * The validation metrics of the weights fit leaves: the last epoch's. A run aborted after
   * steps that no validation measured (or before any epoch) ends with one validation pass.
   */
  final: Metrics;
  /** whole epochs trained by this call (an aborted epoch is not counted) */
  epochsRun: number;
  /** SGD steps taken by this call */
  stepsRun: number;
  /** whether options.signal stopped the run before its last epoch */
  aborted: boolean;
  /**
   * On a resume with no epoch left: the outputs in the folder that did not match the
   * checkpoint (a run killed after its last checkpoint, before its other writes) and were
   * written again. Empty for a finished run, whose folder is left untouched.
   */
  completed: string[];
  seconds: number;
}

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

/** Splits a batch tensor [B, ...] into micro-batch tensors of at most `size` images. */
async function microBatches(x: Tensor, labels: Int32Array, size: number): Promise<{ x: Tensor; labels: Int32Array }[]> {
  if (labels.length <= size) return [{ x, labels }];
  const values = await x.data();
  const per = x.size / labels.length;
  const out = [];
  for (let s = 0; s < labels.length; s += size) {
    const e = Math.min(s + size, labels.length);
    out.push({ x: Tensor.from(values.subarray(s * per, e * per), [e - s, ...x.shape.slice(1)]), labels: labels.subarray(s, e) });
  }
  x.dispose();
  return out;
}

/** Checks fit's options before any work: a ValueError naming the option, what it expects and what it got. */
function checkFitOptions(o: FitOptions): void {
  const fail = (name: string, expected: string, got: string) => {
    throw new ValueError(`train.fit: expected ${name} to be ${expected}, got ${got}`);
  };
  const integer = (name: keyof FitOptions, min: number, optional = true) => {
    const v = o[name];
    if ((v !== undefined || !optional) && !(Number.isInteger(v) && (v as number) >= min)) fail(name, `an integer ≥ ${min}`, describeValue(v));
  };
  const inRange = (name: keyof FitOptions, ok: (v: number) => boolean, expected: string) => {
    const v = o[name];
    if (v !== undefined && !(typeof v === 'number' && ok(v))) fail(name, expected, describeValue(v));
  };
  integer('epochs', 1, false);
  integer('batchSize', 1, false);
  if (o.microBatchSize !== undefined && !(Number.isInteger(o.microBatchSize) && o.microBatchSize >= 1 && o.microBatchSize <= o.batchSize)) {
    fail('microBatchSize', `an integer in [1, batchSize = ${o.batchSize}]`, describeValue(o.microBatchSize));
  }
  inRange('lr', (v) => v > 0 && Number.isFinite(v), 'a number > 0');
  inRange('overrideLr', (v) => v > 0 && Number.isFinite(v), 'a number > 0');
  inRange('momentum', (v) => v >= 0 && v < 1, 'in [0, 1)');
  inRange('weightDecay', (v) => v >= 0 && Number.isFinite(v), 'a number ≥ 0');
  integer('patience', 0);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) fail('seed', 'an integer', describeValue(o.seed));
  integer('stopAfterEpochs', 0);
  if (!(o.model instanceof Module)) fail('model', 'a Module (e.g. a Vgg)', describeValue(o.model));
  for (const name of ['trainSet', 'validationSet'] as const) {
    if (!(o[name]?.length >= 1)) fail(name, 'a dataset with at least one image', o[name] ? `${o[name].length} images` : describeValue(o[name]));
  }
  if (o.outDir !== undefined) {
    const problem = outputFolderProblem(o.outDir);
    if (problem) fail('outDir', 'a folder it can write', `${o.outDir}: ${problem}`);
  }
  if (o.resume && !o.outDir) fail('outDir', 'the folder of the checkpoint when resume is set', describeValue(o.outDir));
  for (const name of ['onStep', 'onEpochEnd', 'log'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function') fail(name, 'a function', describeValue(o[name]));
  }
  if (o.signal !== undefined && !isAbortSignal(o.signal)) fail('signal', 'an AbortSignal (an AbortController\'s signal)', describeValue(o.signal));
}

/** Resolves after the event loop has run what is waiting (timers, I/O, events): setImmediate where there is one. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** An AbortSignal, or one from another realm or a polyfill (fit reads only `aborted`). */
function isAbortSignal(v: unknown): v is AbortSignal {
  if (typeof AbortSignal !== 'undefined' && v instanceof AbortSignal) return true;
  return !!v && typeof v === 'object' && typeof (v as AbortSignal).aborted === 'boolean' && typeof (v as AbortSignal).addEventListener === 'function';
}

/**
 * Trains `model` by §3.1; see FitOptions. Bad options are a ValueError before any work; a
 * loss that becomes NaN or Inf stops the run with a NumericsError before the step that
 * would spread it into the weights, and the checkpoint keeps the last good epoch.
 */
export async function fit(o: FitOptions): Promise<FitResult> {
  checkFitOptions(o);
  const log = o.log ?? ((line: string) => console.log(line));
  const seed = o.seed ?? 0;
  const micro = o.microBatchSize ?? o.batchSize;
  const opt = new SGD(o.model.parameters(), { lr: o.lr ?? 1e-2, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 5e-4 });
  const sched = new ReduceLROnPlateau(opt, { patience: o.patience ?? 1 });
  // a BatchSource (an image folder) makes its own batches, asynchronously, with the same order and seeding rules
  const source = isBatchSource(o.trainSet) ? o.trainSet : null;
  const loader = source ? null : new DataLoader(o.trainSet as Dataset, { batchSize: o.batchSize, shuffle: true, seed, transform: o.trainTransform });
  const batchesPerEpoch = source ? Math.ceil(source.length / o.batchSize) : loader!.length;
  const validationSet = isBatchSource(o.validationSet) ? await o.validationSet.evaluationSet() : o.validationSet;
  const ckpt = o.outDir ? join(o.outDir, CHECKPOINT) : null;
  if (o.outDir) {
    try {
      makeFolder(o.outDir);
    } catch (e) {
      throw new DataError(`train.fit: cannot create the output folder ${o.outDir}: ${messageOf(e)}`, { cause: e });
    }
  }
  let history: EpochRecord[] = [];
  let steps: StepRecord[] = [];
  let startEpoch = 0;
  if (o.resume) {
    if (!existsSync(ckpt!)) throw new CheckpointError(`train.fit: resume needs a checkpoint, and ${ckpt} does not exist`);
    const meta = await loadCheckpoint(ckpt!, o.model, opt, sched, 'train.fit');
    ({ history, steps } = meta);
    startEpoch = meta.epoch + 1;
    if (o.overrideLr !== undefined && o.overrideLr !== opt.lr) {
      log(`the checkpoint's lr ${opt.lr} replaced by ${o.overrideLr}`);
      opt.lr = o.overrideLr;
    }
    log(`resumed from ${ckpt}: epoch ${startEpoch} of ${o.epochs}, lr ${opt.lr}`);
  }
  /** what a diverged run leaves, and what to try */
  const kept = () => `${ckpt && existsSync(ckpt) ? `${ckpt} keeps the last good epoch` : 'no checkpoint was written'}; try a lower learning rate (--lr)`;
  const started = Date.now();
  let epochsRun = 0, stepsRun = 0;
  /** set when the signal is seen aborted, between steps only */
  let aborted = false;
  /** whether the weights moved since the last validation (an abort mid-epoch) */
  let unmeasured = false;
  const abortSeen = () => (aborted ||= o.signal?.aborted === true);
  o.model.train();
  for (let epoch = startEpoch; epoch < o.epochs; epoch++) {
    if (o.stopAfterEpochs !== undefined && epochsRun >= o.stopAfterEpochs) break;
    if (abortSeen()) break;
    const epochStart = Date.now();
    const progress = new Progress(`epoch ${epoch + 1}/${o.epochs}`, batchesPerEpoch, log, ['loss', 'lr', 'img/s'], o.interactive);
    let lossSum = 0, seen = 0, step = 0;
    try {
      for await (const batch of source ? source.batches(epoch, o.batchSize, seed) : loader!.batches(epoch)) {
        const B = batch.labels.length;
        let batchLoss = 0;
        for (const mb of await microBatches(batch.x, batch.labels, micro)) {
          // the mean over the whole batch: each micro-batch's mean loss weighted by its share
          batchLoss += await tidy(async () => {
            const loss = ops.mul(ops.softmaxCrossEntropy(o.model.forward(mb.x), mb.labels), mb.labels.length / B);
            await loss.backward();
            return loss.item();
          });
          mb.x.dispose();
        }
        if (!Number.isFinite(batchLoss)) {
          throw new NumericsError(`train.fit: the loss became ${batchLoss} at epoch ${epoch + 1}, step ${step + 1} of ${batchesPerEpoch} (lr ${opt.lr.toExponential(1)}); ` +
            `stopped before that step's update; ${kept()}`);
        }
        await opt.step();
        opt.zeroGrad();
        step++;
        lossSum += batchLoss * B;
        seen += B;
        stepsRun++;
        unmeasured = true;
        const record: StepRecord = { epoch: epoch + step / batchesPerEpoch, loss: batchLoss };
        steps.push(record);
        progress.update(step, [batchLoss.toFixed(4), opt.lr.toExponential(2), (seen / ((Date.now() - epochStart) / 1000)).toFixed(1)]);
        // a copy: what the callback does with it cannot change the history or the checkpoint
        if (o.onStep) await o.onStep({ ...record });
        // a step awaits only promises that resolve at once (microtasks) on the CPU modes, so
        // without this no timer, signal handler or click would run until fit returned
        await yieldToEventLoop();
        // the generator builds the next batch only when asked: leaving here takes none
        if (abortSeen()) break;
      }
    } finally {
      progress.stop();
    }
    if (aborted) {
      log(`stopped by the signal after step ${step} of ${batchesPerEpoch} of epoch ${epoch + 1}${ckpt ? `; ${ckpt} keeps the last whole epoch` : ''}`);
      break;
    }
    const val = await evaluate(o.model, validationSet, { batchSize: Math.max(o.batchSize, 128), transform: o.evalTransform });
    // finite weights can still be large enough to overflow the logits: that epoch is no checkpoint either
    if (!Number.isFinite(val.loss)) throw new NumericsError(`train.fit: after epoch ${epoch + 1} the validation loss is ${val.loss} (lr ${opt.lr.toExponential(1)}): the weights diverged; ${kept()}`);
    const record: EpochRecord = { epoch: epoch + 1, trainLoss: lossSum / seen, validationLoss: val.loss, top1: val.top1, top5: val.top5, lr: opt.lr, seconds: (Date.now() - epochStart) / 1000 };
    history.push(record);
    log(`epoch ${epoch + 1}/${o.epochs}: train loss ${record.trainLoss.toFixed(4)}, validation loss ${val.loss.toFixed(4)}, top-1 ${(val.top1 * 100).toFixed(2)}%, top-5 ${(val.top5 * 100).toFixed(2)}%, lr ${opt.lr.toExponential(1)}, ${record.seconds.toFixed(1)} s (${(seen / record.seconds).toFixed(1)} img/s)`);
    if (sched.step(val.top1)) log(`validation accuracy stopped improving: lr divided by 10 to ${opt.lr.toExponential(1)} (${sched.reductions} of ${sched.maxReductions})`);
    if (o.outDir) {
      await saveCheckpoint(ckpt!, o.model, opt, sched, { epoch, history, steps, config: o.config });
      await writeFileAtomic(join(o.outDir, 'history.json'), JSON.stringify(history, null, 2));
      await writeCurves(join(o.outDir, 'curves.svg'), history, steps, `VGG training: ${o.trainSet.name}`);
    }
    epochsRun++;
    unmeasured = false;
    if (o.onEpochEnd) await o.onEpochEnd({ ...record });
  }
  if (aborted && !unmeasured) log(`stopped by the signal ${stepsRun ? `after epoch ${history.length}` : 'before the first step'}`);
  const completed: string[] = [];
  if (o.outDir && epochsRun === 0 && history.length && !aborted) {
    // the checkpoint is written first, so a run killed after it left these one epoch behind
    if (await writeFileAtomic(join(o.outDir, 'history.json'), JSON.stringify(history, null, 2), { ifChanged: true })) completed.push('history.json');
    if (await writeCurves(join(o.outDir, 'curves.svg'), history, steps, `VGG training: ${o.trainSet.name}`, { ifChanged: true })) completed.push('curves.svg');
  }
  const last = history[history.length - 1];
  const final = last && !unmeasured ? { top1: last.top1, top5: last.top5, loss: last.validationLoss } : await evaluate(o.model, validationSet, { transform: o.evalTransform });
  return { history, epochsRun, stepsRun, aborted, completed, seconds: (Date.now() - started) / 1000, final };
}
