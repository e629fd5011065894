/**
 * A VGG built from a weights file: the configuration and options the file says it holds
 * (verydeep's 'vgg' metadata, else the shapes of a torchvision state_dict), then its
 * weights loaded, and the preprocessing they expect.
 *
 * Nothing is built until the file is known to hold the model it claims: the file is read
 * and checked whole (lib/io/safetensors.ts), its claim checked as options, and the
 * parameter names and shapes of that model (Vgg.parameterShapes, computed without
 * building it) compared with the file's tensors. A 200-byte file whose metadata claims a
 * VGG-E fails there, with a WeightsError listing the differences, rather than after
 * 144 M parameters have been allocated and initialised.
 *
 * This file builds the model from a file's bytes, with no Node module (the browser bundle's
 * io.loadWeightsFromBytes); lib/io/weights.ts reads the file (io.loadWeights).
 */
import { Vgg, VGG_CONFIGS, type ConfigName, type VggOptions } from '../models/vgg.js';
import { TORCHVISION_PREPROCESSING, CAFFE_VGG_PREPROCESSING, type Preprocessing } from '../data/preprocess.js';
import { ValueError, WeightsError, describeValue, messageOf } from '../core/errors.js';
import { formatShape } from '../core/tensor.js';
import { parseSafetensors, type NamedArray, type SafetensorsFile } from './safetensors-bytes.js';
import { assignParsed, classesOf, preprocessingOf, vggMetadataOf, TORCHVISION_NAMES, type Naming } from './model-parse.js';

/** the preprocessing presets of the CLI's --preprocessing */
export const PREPROCESSING_PRESETS: Record<string, Preprocessing> = { torchvision: TORCHVISION_PREPROCESSING, caffe: CAFFE_VGG_PREPROCESSING };

/** torchvision's VGG by its number of 3×3 convolutions */
const CONFIG_BY_CONVS: Record<number, ConfigName> = { 8: 'A', 10: 'B', 13: 'D', 16: 'E' };

/**
 * A VGG's configuration and options read off the shapes of a torchvision state_dict (a
 * file without verydeep's 'vgg' metadata): the number of convs gives the configuration,
 * features.0.weight [64·w, C, 3, 3] the width w and the input channels C, the classifier's
 * three weights the FC width and the classes, and FC6's inputs (channels · side²) the
 * input size, 32 · side (torchvision's 25,088 = 512 · 7² gives 224).
 */
export function vggFromTorchvisionShapes(tensors: Map<string, NamedArray>, path: string, where = 'io.loadWeights'): {
  /** the configuration whose parameter shapes these are */
  config: ConfigName;
} & VggOptions {
  const weights = (prefix: string, rank: number) => [...tensors]
    .filter(([name, t]) => new RegExp(`^${prefix}\\.\\d+\\.weight$`).test(name) && t.shape.length === rank)
    .map(([name, t]) => ({ index: Number(name.split('.')[1]), shape: t.shape }))
    .sort((a, b) => a.index - b.index);
  const convs = weights('features', 4), fcs = weights('classifier', 2);
  const config = CONFIG_BY_CONVS[convs.length];
  const side = config && fcs.length === 3 ? Math.sqrt(fcs[0].shape[1] / convs[convs.length - 1].shape[0]) : NaN;
  if (!Number.isInteger(side)) {
    throw new WeightsError(`${where}: ${path} has no 'vgg' metadata (verydeep's io.saveSafetensors writes it) and is not a torchvision VGG state_dict ` +
      `(vgg11, 13, 16, 19: 8, 10, 13 or 16 features.N.weight convs and classifier.0/3/6.weight): it has ${convs.length} conv and ${fcs.length} classifier weights`);
  }
  return { config, widthMultiplier: convs[0].shape[0] / 64, inputChannels: convs[0].shape[1], fcWidth: fcs[0].shape[0], numClasses: fcs[2].shape[0], inputSize: 32 * side };
}

const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;

/** 'VGG-E (inputSize 32, numClasses 10)' */
function describeClaim(config: ConfigName, options: VggOptions): string {
  const entries = Object.entries(options);
  return `VGG-${config}${entries.length ? ` (${entries.map(([k, v]) => `${k} ${typeof v === 'number' ? v : JSON.stringify(v)}`).join(', ')})` : ''}`;
}

/**
 * The differences between the parameters `config` and `options` give and the file's
 * tensors (the same names under either naming), at most 12 listed; none when they fit.
 */
function differences(config: ConfigName, options: VggOptions, tensors: Map<string, NamedArray>, path: string, claim: string, source: string, where: string): string[] {
  let expected: [string, number[]][];
  try {
    expected = Vgg.parameterShapes(config, options);
  } catch (e) {
    if (e instanceof ValueError) throw new WeightsError(`${where}: ${path}: ${claim} (from ${source}) cannot be built: ${messageOf(e)}`, { cause: e });
    throw e;
  }
  const names = new Set(expected.map(([name]) => name));
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) problems.push(`${name}: missing from the file (VGG-${config} has ${formatShape(shape)})`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) problems.push(`${name}: ${formatShape(t.shape)} in the file, ${formatShape(shape)} in VGG-${config}`);
  }
  for (const name of tensors.keys()) if (!names.has(name)) problems.push(`${name}: in the file but not in VGG-${config}`);
  if (!problems.length) return [];
  const count = (shapes: number[][]) => shapes.reduce((sum, s) => sum + s.reduce((a, b) => a * b, 1), 0);
  const ours = count(expected.map(([, s]) => s)), theirs = count([...tensors.values()].map((t) => t.shape));
  return [
    `${claim} has ${ours.toLocaleString('en-US')} parameters in ${expected.length} tensors; the file holds ${theirs.toLocaleString('en-US')} values in ${tensors.size}`,
    ...problems.slice(0, 12),
    ...(problems.length > 12 ? [`… and ${problems.length - 12} more`] : []),
  ];
}

/** The options of reading a VGG and its weights from a file; each one overrides what the file says. */
export interface WeightsOptions {
  /** the configuration, over what the file says ('A', 'A-LRN' or 'ALRN', 'B', ...) */
  config?: string;
  /** the input size, over what the file says */
  input?: number;
  /** the parameter names the file uses (by default, what the file's metadata says) */
  naming?: Naming;
  /** 'torchvision' or 'caffe', over what the file says */
  preprocessing?: string;
  /** told when the file does not say which preprocessing it needs (console.error) */
  note?: (line: string) => void;
}

/** A VGG read from a weights file, and the preprocessing its weights expect. */
export interface LoadedWeights {
  /** the net, built to the file's shapes, its weights loaded */
  model: Vgg;
  /** the preprocessing to apply to images first: the option's, the file's, or torchvision's */
  preprocessing: Preprocessing;
  /** the class names the file gives ('classes' metadata), class 0 first, if it gives them */
  classes?: string[];
}

/** the configuration the options ask for, upper-cased ('ALRN' read as 'A-LRN'), or undefined */
function askedConfig(o: WeightsOptions): string | undefined {
  return o.config?.toUpperCase() === 'ALRN' ? 'A-LRN' : o.config?.toUpperCase();
}

/** Checks the options of loadWeights and loadWeightsFromBytes (a ValueError naming `where`), before any file is read. */
export function checkWeightsOptions(o: WeightsOptions, where: string): void {
  const asked = askedConfig(o);
  if (asked !== undefined && !Object.hasOwn(VGG_CONFIGS, asked)) throw new ValueError(`${where}: expected config ${Object.keys(VGG_CONFIGS).join(', ')}, got ${JSON.stringify(o.config)}`);
  if (o.input !== undefined && !isCount(o.input)) throw new ValueError(`${where}: expected input to be a positive integer, got ${o.input}`);
  if (o.naming !== undefined && o.naming !== 'verydeep' && o.naming !== 'torchvision') throw new ValueError(`${where}: expected naming 'verydeep' or 'torchvision', got ${JSON.stringify(o.naming)}`);
  if (o.preprocessing !== undefined && !Object.hasOwn(PREPROCESSING_PRESETS, o.preprocessing)) {
    throw new ValueError(`${where}: expected preprocessing ${Object.keys(PREPROCESSING_PRESETS).map((k) => `'${k}'`).join(' or ')}, got ${JSON.stringify(o.preprocessing)}`);
  }
}

/**
 * The model of a parsed weights file, as loadWeights and loadWeightsFromBytes build it
 * (checkWeightsOptions first): `path` is what errors call the file, `where` the function.
 */
export function weightsFromParsed(file: SafetensorsFile, path: string, o: WeightsOptions, where: string): LoadedWeights {
  const asked = askedConfig(o);
  const { metadata } = file;
  let stated: { config: ConfigName; options: VggOptions };
  const fromMetadata = vggMetadataOf(metadata, path, where);
  if (fromMetadata) stated = fromMetadata;
  else {
    const { config, ...options } = vggFromTorchvisionShapes(file.tensors, path, where);
    stated = { config, options };
  }
  if (metadata.naming !== undefined && metadata.naming !== 'verydeep' && metadata.naming !== 'torchvision') {
    throw new WeightsError(`${where}: ${path}: the 'naming' metadata is ${JSON.stringify(metadata.naming)}; expected 'verydeep' or 'torchvision'`);
  }
  const config = (asked ?? stated.config) as ConfigName;
  const options: VggOptions = { ...stated.options, ...(o.input !== undefined && { inputSize: o.input }) };
  const naming = o.naming ?? (metadata.naming as Naming | undefined) ?? (fromMetadata ? 'verydeep' : 'torchvision');
  if (naming === 'torchvision' && !Object.hasOwn(TORCHVISION_NAMES, config)) {
    throw new WeightsError(`${where}: ${path}: torchvision naming covers VGG configurations A, B, D and E (vgg11, vgg13, vgg16, vgg19), not ${config}`);
  }
  const filePreprocessing = preprocessingOf(metadata, path, where);
  const claim = describeClaim(config, options);
  const source = `${fromMetadata ? "its 'vgg' metadata" : 'its shapes (a torchvision state_dict)'}${asked || o.input !== undefined ? ' and the options given' : ''}`;
  const problems = differences(config, options, file.tensors, path, claim, source, where);
  if (problems.length) throw new WeightsError(`${where}: ${path} does not hold ${claim} (from ${source}); nothing was built:\n  ${problems.join('\n  ')}`);
  // the claim's last parameter is FC8's bias, one per class (options.numClasses may be left to the default)
  const classes = classesOf(metadata, Vgg.parameterShapes(config, options).at(-1)![1][0], path, where);

  const model = new Vgg(config, options);
  try {
    assignParsed(model, file, path, where);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const named = classes ? { classes } : {};
  if (o.preprocessing) return { model, preprocessing: PREPROCESSING_PRESETS[o.preprocessing], ...named };
  if (filePreprocessing) return { model, preprocessing: filePreprocessing, ...named };
  (o.note ?? ((line) => console.error(line)))(`note: ${path} does not say which preprocessing its weights expect; using torchvision's ` +
    '(RGB, 0-1, ImageNet mean and std); --preprocessing caffe for the paper\'s Caffe weights');
  return { model, preprocessing: TORCHVISION_PREPROCESSING, ...named };
}

/** The options of io.loadWeightsFromBytes: loadWeights's, and what errors call the bytes. */
export interface BytesWeightsOptions extends WeightsOptions {
  /** what errors call the bytes: a file name or URL ('the weights bytes') */
  name?: string;
}

/**
 * io.loadWeights for a file's bytes (a browser's fetch or file picker): a VGG built as the
 * bytes say (the options override), its weights loaded, the preprocessing they expect and
 * the class names they carry, with loadWeights's checks and WeightsErrors.
 */
export function loadWeightsFromBytes(bytes: Uint8Array | ArrayBuffer, o: BytesWeightsOptions = {}): LoadedWeights {
  const where = 'io.loadWeightsFromBytes';
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
    throw new ValueError(`${where}: expected the file's bytes (a Uint8Array or an ArrayBuffer), got ${describeValue(bytes)}`);
  }
  checkWeightsOptions(o, where);
  const name = o.name ?? 'the weights bytes';
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return weightsFromParsed(parseSafetensors(view, name, where), name, o, where);
}
