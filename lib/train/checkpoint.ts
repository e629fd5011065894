/**
 * The trainer's checkpoint: one safetensors file with the weights (by parameter name), the
 * optimiser's velocities (`optimizer.velocity.<i>`, in parameter order) and, in its
 * metadata, the training state as JSON (epoch, history, steps, the optimiser's lr, the
 * schedule, the dropout RNGs, and the run's options).
 *
 * A checkpoint is read whole and checked before anything is changed: a damaged file, a
 * state that lacks a field, or a tensor whose name or exact shape the model does not have
 * (a transposed [3, 3, 1, 8] for [8, 1, 3, 3] has the right size and would load as noise)
 * is a CheckpointError naming the file. A checkpoint is never written with NaN or Inf in
 * it, so a run that diverges leaves the last good one in place.
 */
import { existsSync } from 'node:fs';
import type { Module } from '../nn/module.js';
import { Dropout } from '../nn/layers.js';
import type { SGD, SgdState } from '../optim/sgd.js';
import type { ReduceLROnPlateau, PlateauState } from '../optim/schedule.js';
import { readSafetensors, readSafetensorsMetadata, writeSafetensors, type NamedArray, type SafetensorsFile } from '../io/safetensors.js';
import { CheckpointError, NumericsError, messageOf } from '../core/errors.js';
import type { EpochRecord, StepRecord } from './curves.js';

export const CHECKPOINT = 'checkpoint.safetensors';
const FORMAT = 'verydeep-checkpoint-1';

export interface CheckpointMeta {
  /** the last epoch trained, from 0 */
  epoch: number;
  optimizer: Omit<SgdState, 'velocities'>;
  scheduler: PlateauState;
  dropoutRng: Record<string, number>;
  history: EpochRecord[];
  steps: StepRecord[];
  /** the options of the run (runTraining's), for a resume to continue it */
  config?: Record<string, unknown>;
}

const velocityName = (i: number) => `optimizer.velocity.${i}`;

/** names of the tensors that hold a NaN or an Inf */
function nonFinite(tensors: Record<string, NamedArray>): string[] {
  return Object.entries(tensors).filter(([, t]) => !t.data.every(Number.isFinite)).map(([name]) => name);
}

/** the first few of a list, and how many more */
const some = (items: string[], n = 6) => items.slice(0, n).join('; ') + (items.length > n ? `; and ${items.length - n} more` : '');

/**
 * Writes the checkpoint (atomically). Throws a NumericsError, writing nothing, if a weight
 * or velocity holds NaN or Inf: the file keeps the last good epoch.
 */
export async function saveCheckpoint(path: string, model: Module, opt: SGD, sched: ReduceLROnPlateau,
  meta: Omit<CheckpointMeta, 'optimizer' | 'scheduler' | 'dropoutRng'>): Promise<void> {
  const tensors: Record<string, NamedArray> = {};
  for (const [name, p] of model.namedParameters()) tensors[name] = { shape: [...p.shape], data: await p.data() };
  const state = await opt.stateDict();
  state.velocities.forEach((v, i) => {
    if (v) tensors[velocityName(i)] = { shape: [...opt.params[i].shape], data: v };
  });
  const bad = nonFinite(tensors);
  if (bad.length) {
    throw new NumericsError(`train.fit: after epoch ${meta.epoch + 1} the weights hold NaN or Inf (${some(bad)}); ` +
      `${existsSync(path) ? `${path} keeps the last good epoch` : 'no checkpoint was written'}; try a lower learning rate (--lr)`);
  }
  const dropoutRng = Object.fromEntries(model.namedModules().filter(([, m]) => m instanceof Dropout).map(([n, m]) => [n, (m as Dropout).rng.state]));
  const full: CheckpointMeta = {
    ...meta, dropoutRng,
    optimizer: { lr: state.lr, momentum: state.momentum, weightDecay: state.weightDecay },
    scheduler: { ...sched.stateDict(), best: Number.isFinite(sched.best) ? sched.best : -1 },
  };
  await writeSafetensors(path, tensors, { format: FORMAT, state: JSON.stringify(full) });
}

/** The training state in a checkpoint's metadata, checked field by field. */
function parseState(metadata: Record<string, string>, path: string, what: string): CheckpointMeta {
  if (metadata.format !== FORMAT) throw new CheckpointError(`${what}: ${path} is not a verydeep checkpoint (format '${metadata.format ?? 'none'}', expected '${FORMAT}')`);
  let m: any;
  try {
    m = JSON.parse(metadata.state);
  } catch (e) {
    throw new CheckpointError(`${what}: ${path} has a damaged training state (its 'state' metadata is not JSON: ${messageOf(e)})`, { cause: e });
  }
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const problems = [
    !(Number.isInteger(m?.epoch) && m.epoch >= 0) && `epoch (an integer ≥ 0): ${JSON.stringify(m?.epoch)}`,
    !Array.isArray(m?.history) && 'history (an array of epochs)',
    !Array.isArray(m?.steps) && 'steps (an array)',
    !(isObject(m?.optimizer) && isNumber(m.optimizer.lr) && m.optimizer.lr > 0) && 'optimizer (with an lr > 0)',
    !(isObject(m?.scheduler) && ['best', 'badEpochs', 'reductions'].every((k) => isNumber(m.scheduler[k]))) && 'scheduler (best, badEpochs, reductions)',
    !isObject(m?.dropoutRng) && 'dropoutRng (an object)',
    m?.config !== undefined && !isObject(m.config) && 'config (an object)',
  ].filter((p): p is string => !!p);
  if (problems.length) throw new CheckpointError(`${what}: ${path} has a damaged training state: missing or wrong ${problems.join(', ')}`);
  return m as CheckpointMeta;
}

/**
 * The training state of a checkpoint without its tensors: the safetensors header only
 * (8-byte little-endian length, then the JSON), for a resume that needs the run's options
 * before it builds anything.
 */
export async function readCheckpointState(path: string, what: string): Promise<CheckpointMeta> {
  let metadata: Record<string, string>;
  try {
    metadata = await readSafetensorsMetadata(path, 'io.readSafetensorsMetadata');
  } catch (e) {
    throw new CheckpointError(`${what}: cannot read the checkpoint ${path}: ${messageOf(e)}`, { cause: e });
  }
  return parseState(metadata, path, what);
}

/**
 * Loads a checkpoint into model, optimiser and schedule. Everything is checked first
 * (the state's fields, every tensor's name and shape, finite values): on any problem
 * nothing is changed.
 */
export async function loadCheckpoint(path: string, model: Module, opt: SGD, sched: ReduceLROnPlateau, what: string): Promise<CheckpointMeta> {
  let file: SafetensorsFile;
  try {
    file = await readSafetensors(path);
  } catch (e) {
    throw new CheckpointError(`${what}: cannot read the checkpoint ${path}: ${messageOf(e)}`, { cause: e });
  }
  const meta = parseState(file.metadata, path, what);
  const expected = new Map<string, readonly number[]>(model.namedParameters().map(([name, p]) => [name, p.shape]));
  opt.params.forEach((p, i) => expected.set(velocityName(i), p.shape));
  const problems: string[] = [];
  for (const [name, p] of model.namedParameters()) if (!file.tensors.has(name)) problems.push(`${name} [${p.shape.join(', ')}]: missing`);
  for (const [name, t] of file.tensors) {
    const shape = expected.get(name);
    if (!shape) problems.push(`${name} [${t.shape.join(', ')}]: not in the model`);
    else if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) problems.push(`${name}: [${t.shape.join(', ')}] in the file, [${shape.join(', ')}] in the model`);
    else if (!t.data.every(Number.isFinite)) problems.push(`${name}: holds NaN or Inf`);
  }
  if (problems.length) throw new CheckpointError(`${what}: ${path} does not fit the model: ${some(problems)}`);
  for (const [name, p] of model.namedParameters()) p.assign(Promise.resolve(file.tensors.get(name)!.data), 'resume');
  opt.loadStateDict({ ...meta.optimizer, velocities: opt.params.map((_, i) => file.tensors.get(velocityName(i))?.data ?? null) });
  sched.loadStateDict({ ...meta.scheduler, best: meta.scheduler.best < 0 ? -Infinity : meta.scheduler.best });
  for (const [name, m] of model.namedModules()) if (m instanceof Dropout && name in meta.dropoutRng) m.rng.state = meta.dropoutRng[name];
  return meta;
}
