/**
 * Model weights in and out as safetensors.
 *
 * Naming: 'verydeep' (the default) uses `model.namedParameters()`; 'torchvision' uses the
 * state_dict names of torchvision's vgg11/13/16/19 (configurations A, B, D, E), e.g.
 * `features.0.weight` and `classifier.6.bias`. verydeep lays its VGG out as torchvision
 * does (conv, ReLU and pool layers counted in `features`; FC, ReLU, dropout in
 * `classifier`; torchvision's parameter-free avgpool is not counted), so for those
 * configurations the two namings agree name for name, and the option checks that the
 * configuration has a torchvision counterpart.
 *
 * Loading checks every name and shape before it changes anything: a mismatch throws an
 * Error listing the mismatched tensors and leaves the model untouched.
 *
 * Metadata: 'format', 'naming', for a Vgg 'vgg' (its configuration and options as JSON),
 * and with the `preprocessing` option 'preprocessing' (JSON of lib/data/preprocess.ts's
 * object: the channel order, range, mean and std the weights expect).
 */
import { Module } from '../nn/module.js';
import { Vgg } from '../models/vgg.js';
import { formatShape } from '../tensor.js';
import { checkPreprocessing, type Preprocessing } from '../data/preprocess.js';
import { readSafetensors, writeSafetensors, type NamedArray } from './safetensors.js';

export type Naming = 'verydeep' | 'torchvision';

const TORCHVISION_NAMES: Record<string, string> = { A: 'vgg11', B: 'vgg13', D: 'vgg16', E: 'vgg19' };

function namesFor(model: Module, naming: Naming, where: string): [string, string][] {
  if (naming !== 'verydeep' && naming !== 'torchvision') throw new Error(`${where}: expected naming 'verydeep' or 'torchvision', got '${String(naming)}'`);
  if (naming === 'torchvision') {
    if (!(model instanceof Vgg) || !(model.config in TORCHVISION_NAMES)) {
      const what = model instanceof Vgg ? `configuration ${model.config}` : model.describe();
      throw new Error(`${where}: torchvision naming covers VGG configurations A, B, D and E (vgg11, vgg13, vgg16, vgg19), not ${what}`);
    }
  }
  return model.namedParameters().map(([name]) => [name, name]);
}

export interface SaveOptions {
  naming?: Naming;
  /** extra string metadata */
  metadata?: Record<string, string>;
  /** the preprocessing these weights expect, stored as JSON under 'preprocessing' */
  preprocessing?: Preprocessing;
}

export interface LoadResult {
  /** the file's metadata, every key as stored */
  metadata: Record<string, string>;
  /** the preprocessing the file says its weights expect (from 'preprocessing'), if it says */
  preprocessing?: Preprocessing;
}

export async function saveSafetensors(model: Module, path: string, options: SaveOptions = {}): Promise<void> {
  const naming = options.naming ?? 'verydeep';
  const names = new Map(namesFor(model, naming, 'io.saveSafetensors'));
  const tensors: Record<string, NamedArray> = {};
  for (const [name, p] of model.namedParameters()) tensors[names.get(name)!] = { shape: [...p.shape], data: await p.data() };
  const meta: Record<string, string> = { format: 'verydeep-weights-1', naming, ...(options.metadata ?? {}) };
  if (options.preprocessing) meta.preprocessing = JSON.stringify(checkPreprocessing(options.preprocessing, 'io.saveSafetensors: preprocessing'));
  if (model instanceof Vgg) meta.vgg = JSON.stringify({ config: model.config, ...model.options });
  await writeSafetensors(path, tensors, meta);
}

export async function loadSafetensors(model: Module, path: string, options: { naming?: Naming } = {}): Promise<LoadResult> {
  const naming = options.naming ?? 'verydeep';
  const names = namesFor(model, naming, 'io.loadSafetensors');
  const file = await readSafetensors(path);
  const preprocessing = preprocessingOf(file.metadata, path);
  const params = new Map(model.namedParameters());
  const problems: string[] = [];
  const expected = new Set(names.map(([, fileName]) => fileName));
  for (const [ours, theirs] of names) {
    const p = params.get(ours)!;
    const t = file.tensors.get(theirs);
    if (!t) problems.push(`${theirs}: missing from the file (the model has ${formatShape(p.shape)})`);
    else if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) problems.push(`${theirs}: ${formatShape(t.shape)} in the file, ${formatShape(p.shape)} in the model`);
  }
  for (const name of file.tensors.keys()) if (!expected.has(name)) problems.push(`${name}: in the file but not in the model`);
  if (problems.length) {
    throw new Error(`io.loadSafetensors: ${path} does not match ${model.describe()} (${naming} naming), nothing was loaded:\n  ${problems.join('\n  ')}`);
  }
  for (const [ours, theirs] of names) params.get(ours)!.assign(Promise.resolve(file.tensors.get(theirs)!.data), 'io.loadSafetensors');
  return { metadata: file.metadata, preprocessing };
}

/** The preprocessing a file's metadata states under 'preprocessing' (checked), if any. */
export function preprocessingOf(metadata: Record<string, string>, path: string): Preprocessing | undefined {
  if (metadata.preprocessing === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata.preprocessing);
  } catch (e) {
    throw new Error(`io.loadSafetensors: ${path}: the 'preprocessing' metadata is not JSON: ${(e as Error).message}`);
  }
  return checkPreprocessing(parsed, `io.loadSafetensors: ${path}: the 'preprocessing' metadata`);
}
