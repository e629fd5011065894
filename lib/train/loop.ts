/**
 * The training procedure of §3.1, without files: mini-batch SGD with momentum, weight decay
 * and dropout, the learning rate divided by 10 when validation accuracy stops improving (at
 * most 3 times), and batches of 256 built from micro-batches by gradient accumulation (§3.3
 * averages the gradients of its GPUs' batches the same way). Each epoch ends with the
 * validation top-1 / top-5.
 *
 * For a script or a page: `onStep` and `onEpochEnd` get each step's and each epoch's record
 * (to plot, log or save), and an AbortSignal stops the run between two steps.
 *
 * Browser-safe: it imports no Node module. What a run keeps between epochs (the Node fit's
 * output folder: checkpoint, history, curves, resume) comes through a FitStore
 * (folder-store.ts); the Node `fit` is trainer.ts, the browser's is browser.ts.
 */
import { Tensor, tidy } from '../core/tensor.js';
import * as ops from '../core/ops.js';
import { Module } from '../nn/module.js';
import { SGD } from '../optim/sgd.js';
import { ReduceLROnPlateau } from '../optim/schedule.js';
import { DataLoader } from '../data/loader.js';
import type { Dataset } from '../data/array-dataset.js';
import { isBatchSource, type BatchSource } from '../data/batch-source.js';
import type { Image } from '../data/transforms.js';
import type { Rng } from '../core/random.js';
import { NumericsError, ValueError, describeValue } from '../core/errors.js';
import { ProgressLines, type StepProgress } from './progress-lines.js';
import { evaluate, type Metrics } from './evaluate.js';
import type { EpochRecord, StepRecord } from './curves.js';

/** fit's options: the data, the §3.1 hyper-parameters, the output folder and the callbacks. Checked before any work (a ValueError naming the option). */
export interface FitOptions {
  /** the network to train, in place (e.g. a Vgg) */
  model: Module;
  /** an in-memory Dataset (batched by DataLoader with trainTransform), or a BatchSource such as an image folder with a transform */
  trainSet: Dataset | BatchSource;
  /** a Dataset, or a BatchSource (evaluated on its evaluationSet()) */
  validationSet: Dataset | BatchSource;
  /** the epoch to stop after, counted from the run's start (a resume goes on to it), ≥ 1 */
  epochs: number;
  /** images per SGD step (§3.1: 256) */
  batchSize: number;
  /** images per forward/backward; gradients accumulate up to batchSize (default: batchSize) */
  microBatchSize?: number;
  /** initial learning rate (§3.1: 10⁻², the default); divided by 10 on a plateau, at most 3 times */
  lr?: number;
  /** SGD momentum in [0, 1) (§3.1: 0.9, the default) */
  momentum?: number;
  /** L2 weight decay (§3.1: 5·10⁻⁴, the default) */
  weightDecay?: number;
  /** epochs without a better validation accuracy before the lr is divided by 10 */
  patience?: number;
  /** seeds the shuffling and the transforms' random draws (default 0); the model's init has its own seed */
  seed?: number;
  /** folder for checkpoint.safetensors, curves.svg and history.json; none: nothing is written (Node only: a page's fit refuses it) */
  outDir?: string;
  /** continue from outDir's checkpoint (a missing or damaged one, or one that does not fit the model, is a CheckpointError; Node only) */
  resume?: boolean;
  /** each training image of an in-memory Dataset as the network sees it (augmentation, mean subtraction); default: as stored. A BatchSource brings its own */
  trainTransform?: (img: Image, rng: Rng) => Image;
  /** each validation image as the network sees it (e.g. padded and mean-subtracted); default: as stored */
  evalTransform?: (img: Image, rng: Rng) => Image;
  /** log lines (default: console.log) */
  log?: (line: string) => void;
  /** show a live bar (default: when stdout is a terminal; a page logs lines) */
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

/** What fit returns once it stops: at its last epoch, on stopAfterEpochs, or on the signal. */
export interface FitResult {
  /** one record per epoch of the run, a resumed run's earlier epochs included */
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
   * Where an abort stopped inside an epoch: that epoch (from 1) and its steps taken, of
   * `of`. Absent when no step of the epoch under way was taken (an abort between epochs or
   * before the first step) and when the run was not aborted.
   */
  stoppedAt?: {
    /** the epoch under way, from 1 */
    epoch: number;
    /** the steps of it taken */
    step: number;
    /** the steps of a whole epoch */
    of: number;
  };
  /**
   * On a resume with no epoch left: the outputs in the folder that did not match the
   * checkpoint (a run killed after its last checkpoint, before its other writes) and were
   * written again. Empty for a finished run, whose folder is left untouched.
   */
  completed: string[];
  /** wall-clock seconds of this call, from the start of training (after any resume) to the final metrics */
  seconds: number;
}

/** What a run restores on resume: the last epoch trained (from 0) and the records so far. */
export interface ResumedState {
  epoch: number;
  history: EpochRecord[];
  steps: StepRecord[];
}

/** The training state a store saves or restores. */
export interface Training {
  model: Module;
  opt: SGD;
  sched: ReduceLROnPlateau;
}

/**
 * Where a run keeps its state between epochs. The loop calls `open` once before the first
 * step, `epochEnd` after each epoch's validation (before onEpochEnd), and `finish` at the
 * end of a call that trained no epoch and was not aborted.
 */
export interface FitStore {
  /** the checkpoint's path, for messages */
  readonly checkpoint: string;
  /** prepares the store; with `resume`, loads the last checkpoint into `training` and returns its state */
  open(training: Training, resume: boolean): Promise<ResumedState | null>;
  /** whether a checkpoint exists now (what a run that diverged keeps) */
  hasCheckpoint(): boolean;
  /** saves epoch `epoch` (from 0): the history and steps include it */
  epochEnd(epoch: number, history: EpochRecord[], steps: StepRecord[]): Promise<void>;
  /** a resume with no epoch left: writes again what a killed run left behind; returns their names */
  finish(history: EpochRecord[], steps: StepRecord[]): Promise<string[]>;
}

/** What differs between the Node fit and a page's: where the state goes, how progress shows. */
export interface FitEnvironment {
  store?: FitStore;
  progress?: (label: string, total: number, log: (line: string) => void, columns: readonly string[]) => StepProgress;
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

/**
 * Checks fit's options before any work: a ValueError naming the option, what it expects and
 * what it got. `outDir` only for its pairing with resume; whether it can be written is the
 * Node fit's check.
 */
export function checkFitOptions(o: FitOptions): void {
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
 * Trains `o.model` by §3.1 with options already checked (checkFitOptions); see FitOptions. A
 * loss that becomes NaN or Inf stops the run with a NumericsError before the step that
 * would spread it into the weights, and the store keeps the last good epoch.
 */
export async function runFit(o: FitOptions, env: FitEnvironment = {}): Promise<FitResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const store = env.store;
  const progressOf = env.progress ?? ((label, total, lg, columns) => new ProgressLines(label, total, lg, columns));
  const seed = o.seed ?? 0;
  const micro = o.microBatchSize ?? o.batchSize;
  const opt = new SGD(o.model.parameters(), { lr: o.lr ?? 1e-2, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 5e-4 });
  const sched = new ReduceLROnPlateau(opt, { patience: o.patience ?? 1 });
  // a BatchSource (an image folder) makes its own batches, asynchronously, with the same order and seeding rules
  const source = isBatchSource(o.trainSet) ? o.trainSet : null;
  const loader = source ? null : new DataLoader(o.trainSet as Dataset, { batchSize: o.batchSize, shuffle: true, seed, transform: o.trainTransform });
  const batchesPerEpoch = source ? Math.ceil(source.length / o.batchSize) : loader!.length;
  const validationSet = isBatchSource(o.validationSet) ? await o.validationSet.evaluationSet() : o.validationSet;
  let history: EpochRecord[] = [];
  let steps: StepRecord[] = [];
  let startEpoch = 0;
  const resumed = store ? await store.open({ model: o.model, opt, sched }, !!o.resume) : null;
  if (resumed) {
    ({ history, steps } = resumed);
    startEpoch = resumed.epoch + 1;
    if (o.overrideLr !== undefined && o.overrideLr !== opt.lr) {
      log(`the checkpoint's lr ${opt.lr} replaced by ${o.overrideLr}`);
      opt.lr = o.overrideLr;
    }
    log(`resumed from ${store!.checkpoint}: epoch ${startEpoch} of ${o.epochs}, lr ${opt.lr}`);
  }
  /** what a diverged run leaves, and what to try */
  const kept = () => `${store?.hasCheckpoint() ? `${store.checkpoint} keeps the last good epoch` : 'no checkpoint was written'}; try a lower learning rate (--lr)`;
  const started = Date.now();
  let epochsRun = 0, stepsRun = 0;
  /** set when the signal is seen aborted, between steps only */
  let aborted = false;
  let stoppedAt: FitResult['stoppedAt'];
  /** whether the weights moved since the last validation (an abort mid-epoch) */
  let unmeasured = false;
  const abortSeen = () => (aborted ||= o.signal?.aborted === true);
  o.model.train();
  for (let epoch = startEpoch; epoch < o.epochs; epoch++) {
    if (o.stopAfterEpochs !== undefined && epochsRun >= o.stopAfterEpochs) break;
    if (abortSeen()) break;
    const epochStart = Date.now();
    const progress = progressOf(`epoch ${epoch + 1}/${o.epochs}`, batchesPerEpoch, log, ['loss', 'lr', 'img/s']);
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
      stoppedAt = { epoch: epoch + 1, step, of: batchesPerEpoch };
      log(`stopped by the signal after step ${step} of ${batchesPerEpoch} of epoch ${epoch + 1}${store ? `; ${store.checkpoint} keeps the last whole epoch` : ''}`);
      break;
    }
    const val = await evaluate(o.model, validationSet, { batchSize: Math.max(o.batchSize, 128), transform: o.evalTransform });
    // finite weights can still be large enough to overflow the logits: that epoch is no checkpoint either
    if (!Number.isFinite(val.loss)) throw new NumericsError(`train.fit: after epoch ${epoch + 1} the validation loss is ${val.loss} (lr ${opt.lr.toExponential(1)}): the weights diverged; ${kept()}`);
    const record: EpochRecord = { epoch: epoch + 1, trainLoss: lossSum / seen, validationLoss: val.loss, top1: val.top1, top5: val.top5, lr: opt.lr, seconds: (Date.now() - epochStart) / 1000 };
    history.push(record);
    log(`epoch ${epoch + 1}/${o.epochs}: train loss ${record.trainLoss.toFixed(4)}, validation loss ${val.loss.toFixed(4)}, top-1 ${(val.top1 * 100).toFixed(2)}%, top-5 ${(val.top5 * 100).toFixed(2)}%, lr ${opt.lr.toExponential(1)}, ${record.seconds.toFixed(1)} s (${(seen / record.seconds).toFixed(1)} img/s)`);
    if (sched.step(val.top1)) log(`validation accuracy stopped improving: lr divided by 10 to ${opt.lr.toExponential(1)} (${sched.reductions} of ${sched.maxReductions})`);
    if (store) await store.epochEnd(epoch, history, steps);
    epochsRun++;
    unmeasured = false;
    if (o.onEpochEnd) await o.onEpochEnd({ ...record });
  }
  if (aborted && !unmeasured) log(`stopped by the signal ${stepsRun ? `after epoch ${history.length}` : 'before the first step'}`);
  const completed = store && epochsRun === 0 && history.length && !aborted ? await store.finish(history, steps) : [];
  const last = history[history.length - 1];
  const final = last && !unmeasured ? { top1: last.top1, top5: last.top5, loss: last.validationLoss } : await evaluate(o.model, validationSet, { transform: o.evalTransform });
  return { history, epochsRun, stepsRun, aborted, ...(stoppedAt ? { stoppedAt } : {}), completed, seconds: (Date.now() - started) / 1000, final };
}
