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
 * Loading reads the whole file, checks it (lib/io/safetensors-bytes.ts), checks every name and
 * shape against the model, and only then assigns: a damaged file, or one that does not
 * fit, is a WeightsError (a mismatch lists every mismatched tensor), and the model keeps
 * every weight it had. The source is a path or the file's bytes (tests, browsers).
 *
 * Metadata: 'format', 'naming', for a Vgg 'vgg' (its configuration and options as JSON),
 * with the `preprocessing` option 'preprocessing' (JSON of lib/data/preprocess.ts's
 * object: the channel order, range, mean and std the weights expect), and with the
 * `classes` option 'classes' (a JSON array of the class names, class 0 first: what
 * scripts/torchvision_to_safetensors.py writes from torchvision's ImageNet categories).
 *
 * This file is the part that works on bytes and parsed files, with no Node module (the
 * browser bundle uses it); lib/io/model.ts reads and writes the files.
 */
import { Module } from '../nn/module.js';
import { Vgg, VGG_CONFIGS, type ConfigName, type VggOptions } from '../models/vgg.js';
import { checkNumerics, formatShape } from '../core/tensor.js';
import { DisposedError, ValueError, WeightsError, describeValue, messageOf } from '../core/errors.js';
import { checkPreprocessing, type Preprocessing } from '../data/preprocess.js';
import { encodeSafetensors, type NamedArray, type SafetensorsFile } from './safetensors-bytes.js';

/**
 * The parameter names in a file: 'verydeep' (this model's own), or 'torchvision', the same
 * dotted names, accepted only for the configurations torchvision has (A, B, D, E: vgg11 ... vgg19).
 */
export type Naming = 'verydeep' | 'torchvision';

/** the VGG configurations torchvision has, by its names */
export const TORCHVISION_NAMES: Record<string, string> = { A: 'vgg11', B: 'vgg13', D: 'vgg16', E: 'vgg19' };

/** The (model name, file name) pairs of `model`'s parameters under `naming` (a ValueError naming `where` for a naming the model cannot have). */
export function namesFor(model: Module, naming: Naming, where: string): [string, string][] {
  if (naming !== 'verydeep' && naming !== 'torchvision') throw new ValueError(`${where}: expected naming 'verydeep' or 'torchvision', got '${String(naming)}'`);
  if (naming === 'torchvision') {
    if (!(model instanceof Vgg) || !(model.config in TORCHVISION_NAMES)) {
      const what = model instanceof Vgg ? `configuration ${model.config}` : model.describe();
      throw new ValueError(`${where}: torchvision naming covers VGG configurations A, B, D and E (vgg11, vgg13, vgg16, vgg19), not ${what}`);
    }
  }
  return model.namedParameters().map(([name]) => [name, name]);
}

/** The options of saving a model's weights as safetensors. */
export interface SaveOptions {
  /** the parameter names to write ('verydeep') */
  naming?: Naming;
  /** extra string metadata */
  metadata?: Record<string, string>;
  /** the preprocessing these weights expect, stored as JSON under 'preprocessing' */
  preprocessing?: Preprocessing;
  /** the class names, class 0 first (one per class of the model), stored as JSON under 'classes' */
  classes?: string[];
}

/** What loading weights into a model returns besides the weights: what the file says about them. */
export interface LoadResult {
  /** the file's metadata, every key as stored */
  metadata: Record<string, string>;
  /** the preprocessing the file says its weights expect (from 'preprocessing'), if it says */
  preprocessing?: Preprocessing;
  /** the class names the file gives (from 'classes'), class 0 first, if it gives them */
  classes?: string[];
}

/**
 * A model's weights as safetensors tensors and metadata (see the module's comment): what
 * io.saveSafetensors writes and io.encodeWeights encodes. `where` is the function errors name.
 */
export async function weightsTensors(model: Module, options: SaveOptions, where: string): Promise<{ tensors: Record<string, NamedArray>; metadata: Record<string, string> }> {
  const naming = options.naming ?? 'verydeep';
  const names = new Map(namesFor(model, naming, where));
  const classes = options.classes === undefined ? undefined : checkClasses(options.classes, classCount(model), `${where}: classes`);
  const tensors: Record<string, NamedArray> = {};
  for (const [name, p] of model.namedParameters()) tensors[names.get(name)!] = { shape: [...p.shape], data: await p.data() };
  const metadata: Record<string, string> = { format: 'verydeep-weights-1', naming, ...(options.metadata ?? {}) };
  if (options.preprocessing) metadata.preprocessing = JSON.stringify(checkPreprocessing(options.preprocessing, `${where}: preprocessing`));
  if (classes) metadata.classes = JSON.stringify(classes);
  if (model instanceof Vgg) metadata.vgg = JSON.stringify({ config: model.config, ...model.options });
  return { tensors, metadata };
}

/** A model's weights as the bytes of a safetensors file, what io.saveSafetensors writes (for a download, or a browser's storage). */
export async function encodeWeights(model: Module, options: SaveOptions = {}): Promise<Uint8Array> {
  const { tensors, metadata } = await weightsTensors(model, options, 'io.encodeWeights');
  return encodeSafetensors(tensors, metadata);
}

/** The options of loading safetensors weights into a model. */
export interface LoadOptions {
  /** the parameter names the file uses ('verydeep') */
  naming?: Naming;
  /** what errors call a source given as bytes ('the safetensors bytes') */
  name?: string;
}

/**
 * A parsed file's tensors into `model`, all or nothing: every check (names, shapes, a live
 * model, finite values where checkNumerics is on) comes before the first assignment.
 */
export function loadParsed(model: Module, file: SafetensorsFile, name: string, naming: Naming, where: string): LoadResult {
  const names = namesFor(model, naming, where);
  const preprocessing = preprocessingOf(file.metadata, name, where);
  const classes = classesOf(file.metadata, classCount(model), name, where);
  const params = new Map(model.namedParameters());
  const problems: string[] = [];
  const expected = new Set(names.map(([, fileName]) => fileName));
  for (const [ours, theirs] of names) {
    const p = params.get(ours)!;
    const t = file.tensors.get(theirs);
    if (!t) problems.push(`${theirs}: missing from the file (the model has ${formatShape(p.shape)})`);
    else if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) problems.push(`${theirs}: ${formatShape(t.shape)} in the file, ${formatShape(p.shape)} in the model`);
  }
  for (const fileName of file.tensors.keys()) if (!expected.has(fileName)) problems.push(`${fileName}: in the file but not in the model`);
  if (problems.length) {
    throw new WeightsError(`${where}: ${name} does not match ${model.describe()} (${naming} naming), nothing was loaded:\n  ${problems.join('\n  ')}`);
  }
  assignParsed(model, file, name, where);
  return { metadata: file.metadata, preprocessing, ...(classes && { classes }) };
}

/**
 * The assignment stage of loadParsed, for a file already checked against `model` (every
 * parameter's tensor present under its own name, with its shape): all or nothing, the live
 * model and finite values (where checkNumerics is on) are checked before the first assignment.
 */
export function assignParsed(model: Module, file: SafetensorsFile, name: string, where: string): void {
  const params = model.namedParameters();
  for (const [ours, p] of params) {
    if (p.isDisposed) throw new DisposedError(`${where}: ${model.describe()}'s parameter '${ours}' was disposed; nothing was loaded`);
  }
  if (checkNumerics()) {
    for (const [theirs] of params) {
      const bad = file.tensors.get(theirs)!.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new WeightsError(`${where}: ${name}: tensor '${theirs}' holds ${file.tensors.get(theirs)!.data[bad]} at index ${bad} (checkNumerics is on); nothing was loaded`);
    }
  }
  for (const [theirs, p] of params) p.assign(Promise.resolve(file.tensors.get(theirs)!.data), where);
}

/**
 * A metadata entry that holds JSON, parsed and checked by `check` (whose ValueError becomes
 * a WeightsError naming the file): undefined where the file has no such entry.
 */
function jsonMetadata<T>(metadata: Record<string, string>, key: string, name: string, where: string, check: (parsed: unknown, what: string) => T): T | undefined {
  if (metadata[key] === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata[key]);
  } catch (e) {
    throw new WeightsError(`${where}: ${name}: the '${key}' metadata is not JSON: ${(e as Error).message}`, { cause: e });
  }
  try {
    return check(parsed, `${where}: ${name}: the '${key}' metadata`);
  } catch (e) {
    throw new WeightsError(messageOf(e), { cause: e });
  }
}

/**
 * The model a file's metadata states under 'vgg', `{ config, ...options }` as
 * io.saveSafetensors and the ONNX export write it (a WeightsError naming the file where it
 * is not JSON, not an object, or names no configuration of Table 1; the options are checked
 * when the model is built), if it states one.
 */
export function vggMetadataOf(metadata: Record<string, string>, name: string, where: string): { config: ConfigName; options: VggOptions } | undefined {
  return jsonMetadata(metadata, 'vgg', name, where, (parsed, what) => {
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new WeightsError(`${what} is ${metadata.vgg.slice(0, 40)}; expected an object { config, ...options }`);
    const { config, ...options } = parsed as Record<string, unknown>;
    if (typeof config !== 'string' || !Object.hasOwn(VGG_CONFIGS, config)) {
      throw new WeightsError(`${what} has config ${JSON.stringify(config)}; expected one of ${Object.keys(VGG_CONFIGS).join(', ')}`);
    }
    return { config: config as ConfigName, options: options as VggOptions };
  });
}

/** The preprocessing a file's metadata states under 'preprocessing' (checked: a WeightsError), if any. */
export function preprocessingOf(metadata: Record<string, string>, name: string, where = 'io.loadSafetensors'): Preprocessing | undefined {
  return jsonMetadata(metadata, 'preprocessing', name, where, checkPreprocessing);
}

/** a Vgg's number of classes; undefined for another module (its class names are checked as strings only) */
export const classCount = (model: Module): number | undefined => (model instanceof Vgg ? model.options.numClasses : undefined);

/**
 * Checks class names: an array of `count` strings (any count where undefined). A ValueError
 * naming `what` that says what it got; returns a copy.
 */
export function checkClasses(classes: unknown, count: number | undefined, what: string): string[] {
  const expected = `an array of ${count === undefined ? '' : `${count} `}class names (strings, class 0 first)`;
  if (!Array.isArray(classes)) throw new ValueError(`${what}: expected ${expected}, got ${describeValue(classes)}`);
  const bad = classes.findIndex((c) => typeof c !== 'string');
  if (bad >= 0) throw new ValueError(`${what}: expected ${expected}, got ${describeValue(classes[bad])} at index ${bad}`);
  if (count !== undefined && classes.length !== count) throw new ValueError(`${what}: expected ${expected}, got ${classes.length} names`);
  return [...classes] as string[];
}

/**
 * The class names a file's metadata gives under 'classes' (checked: a JSON array of
 * `count` strings, where count is known; a WeightsError naming the file), if it gives them.
 */
export function classesOf(metadata: Record<string, string>, count: number | undefined, name: string, where = 'io.loadSafetensors'): string[] | undefined {
  return jsonMetadata(metadata, 'classes', name, where, (parsed, what) => checkClasses(parsed, count, what));
}
