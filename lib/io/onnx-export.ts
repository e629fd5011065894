/**
 * ONNX export: a Vgg, or a Sequential of VGG's layers, as an inference graph (opset 13,
 * default domain) that onnxruntime, PyTorch's onnx tools and the rest can run.
 *
 * What each layer becomes:
 *   Conv2d             Conv, kernel k×k, pads (k−1)/2 on every side, strides 1, group 1
 *   ReLU               Relu
 *   MaxPool2d          MaxPool, kernel 2×2, strides 2, no pads, ceil_mode 0: floor mode, which
 *                      drops an odd last row or column, as ours does (and PyTorch's)
 *   LocalResponseNorm  LRN. ONNX divides its alpha by size (kernels/lrn.ts's 'mean' convention),
 *                      so 'mean' writes α as it is and 'sum' writes α·size. Its window,
 *                      [c − ⌊(n−1)/2⌋, c + ⌈(n−1)/2⌉], is ours only for an odd size: an even
 *                      size is refused
 *   Flatten            Flatten, axis 1
 *   Linear             Gemm, transB 1 (the weight stays [out, in], as ours), alpha 1, beta 1
 *   Dropout            nothing: the graph is for inference
 *   Softmax (last)     Softmax, axis 1; `softmax: true` appends one
 * A Vgg is its features, flatten and classifier; a nested Sequential (or Vgg) is its layers.
 *
 * The graph's input is 'input' [N, C, H, W] (N the dim_param 'N' for batch 'dynamic'), its
 * output 'logits' (or 'probabilities'). Weights are initializers named as the model's
 * parameters ('features.0.weight'), float32 raw data. metadata_props: 'preprocessing' and
 * 'vgg' as io.saveSafetensors stores them, 'classes' (a JSON array of names), and the caller's.
 */
import { readFileSync } from 'node:fs';
import { Module } from '../nn/module.js';
import { Conv2d, Dropout, Flatten, LocalResponseNorm, Linear, MaxPool2d, ReLU, Sequential, Softmax } from '../nn/layers.js';
import { Vgg } from '../models/vgg.js';
import { DisposedError, ValueError, describeValue } from '../core/errors.js';
import { checkPreprocessing, type Preprocessing } from '../data/preprocess.js';
import { writeFileAtomic, type WriteOptions } from './atomic.js';
import { attr, encodeModel, floatTensor, FLOAT, IR_VERSION, OPSET, type NodeProto, type TensorProto, type ValueInfoProto } from './onnx-proto.js';

/** The options of exporting a Vgg or a Sequential as an ONNX graph. */
export interface OnnxExportOptions {
  /** side of the square input (a Vgg's inputSize; required for a Sequential) */
  inputSize?: number;
  /** 'dynamic' (the default: the dim_param 'N') or a fixed batch size */
  batch?: 'dynamic' | number;
  /** end the graph with a Softmax (output 'probabilities') */
  softmax?: boolean;
  /** the preprocessing the weights expect, stored as JSON under 'preprocessing' */
  preprocessing?: Preprocessing;
  /** class names, stored as a JSON array under 'classes' (as many as the model's outputs) */
  classes?: string[];
  /** extra string metadata */
  metadata?: Record<string, string>;
}

const OPTION_KEYS = ['inputSize', 'batch', 'softmax', 'preprocessing', 'classes', 'metadata', 'ifChanged'];
/** ONNX files are single protobuf messages, which protobuf limits to 2 GiB */
const PROTOBUF_LIMIT = 2 ** 31 - 1;
const SUPPORTED = 'Conv2d, ReLU, MaxPool2d, LocalResponseNorm (odd size), Flatten, Linear, Dropout, a last Softmax, and nested Sequential or Vgg';

/** the version in package.json (three folders up from dist/lib/io/), written as producer_version */
function producerVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version ?? '';
  } catch {
    return '';
  }
}

/** the layers of a model, nested Sequentials and Vggs opened, with their dotted paths */
function leaves(m: Module, path: string): [string, Module][] {
  const join = (name: string) => (path ? `${path}.${name}` : name);
  if (m instanceof Vgg) return [...leaves(m.features, join('features')), [join('flatten'), m.flatten], ...leaves(m.classifier, join('classifier'))];
  if (m instanceof Sequential) return m.layers.flatMap((l, i) => leaves(l, join(String(i))));
  return [[path || '(model)', m]];
}

/** the Vgg a model is, or holds as Sequential(vgg, Softmax) (io.loadOnnx's form), for the 'vgg' metadata */
function vggOf(model: Module): Vgg | undefined {
  if (model instanceof Vgg) return model;
  if (model instanceof Sequential && model.layers.length === 2 && model.layers[0] instanceof Vgg && model.layers[1] instanceof Softmax) return model.layers[0];
  return undefined;
}

function checkOptions(where: string, o: OnnxExportOptions): void {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new ValueError(`${where}: expected options { ${OPTION_KEYS.join(', ')} }, got ${describeValue(o)}`);
  const unknown = Object.keys(o).filter((k) => !OPTION_KEYS.includes(k));
  if (unknown.length) throw new ValueError(`${where}: unknown option '${unknown[0]}'; expected one of ${OPTION_KEYS.join(', ')}`);
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
  if (o.inputSize !== undefined && !count(o.inputSize)) throw new ValueError(`${where}: expected inputSize to be a positive integer, got ${describeValue(o.inputSize)}`);
  if (o.batch !== undefined && o.batch !== 'dynamic' && !count(o.batch)) throw new ValueError(`${where}: expected batch 'dynamic' or a positive integer, got ${describeValue(o.batch)}`);
  if (o.softmax !== undefined && typeof o.softmax !== 'boolean') throw new ValueError(`${where}: expected softmax to be true or false, got ${describeValue(o.softmax)}`);
  if (o.classes !== undefined && (!Array.isArray(o.classes) || !o.classes.every((c) => typeof c === 'string'))) {
    throw new ValueError(`${where}: expected classes to be an array of strings, got ${describeValue(o.classes)}`);
  }
  if (o.metadata !== undefined) {
    const bad = o.metadata === null || typeof o.metadata !== 'object' ? [] : Object.entries(o.metadata).filter(([, v]) => typeof v !== 'string');
    if (o.metadata === null || typeof o.metadata !== 'object' || bad.length) {
      throw new ValueError(`${where}: expected metadata to be an object of strings, got ${bad.length ? `'${bad[0][0]}': ${describeValue(bad[0][1])}` : describeValue(o.metadata)}`);
    }
  }
}

/** Builds the nodes and initializers of one layer; returns the name of its output value. */
async function emit(layer: Module, path: string, input: string, output: string, nodes: NodeProto[], initializers: TensorProto[]): Promise<void> {
  const node = (opType: string, inputs: string[], attribute: NodeProto['attribute'] = []) => nodes.push({ name: path, opType, input: inputs, output: [output], attribute });
  const weights = async (l: Conv2d | Linear) => {
    initializers.push(floatTensor(`${path}.weight`, l.weight.shape, await l.weight.data()), floatTensor(`${path}.bias`, l.bias.shape, await l.bias.data()));
    return [input, `${path}.weight`, `${path}.bias`];
  };
  if (layer instanceof Conv2d) {
    const k = layer.kernelSize, p = (k - 1) / 2;
    node('Conv', await weights(layer), [attr.ints('kernel_shape', [k, k]), attr.ints('pads', [p, p, p, p]), attr.ints('strides', [1, 1]), attr.ints('dilations', [1, 1]), attr.int('group', 1)]);
  } else if (layer instanceof ReLU) node('Relu', [input]);
  else if (layer instanceof MaxPool2d) {
    node('MaxPool', [input], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2]), attr.ints('pads', [0, 0, 0, 0]), attr.int('ceil_mode', 0)]);
  } else if (layer instanceof LocalResponseNorm) {
    const o = layer.options;
    node('LRN', [input], [attr.int('size', o.size), attr.float('alpha', o.alphaMode === 'sum' ? o.alpha * o.size : o.alpha), attr.float('beta', o.beta), attr.float('bias', o.k)]);
  } else if (layer instanceof Flatten) node('Flatten', [input], [attr.int('axis', 1)]);
  else if (layer instanceof Linear) node('Gemm', await weights(layer), [attr.float('alpha', 1), attr.float('beta', 1), attr.int('transB', 1)]);
  else if (layer instanceof Softmax) node('Softmax', [input], [attr.int('axis', 1)]);
}

/** why a layer cannot be exported, or null */
function unsupported(layer: Module, index: number, count: number): string | null {
  if (layer instanceof Conv2d || layer instanceof ReLU || layer instanceof MaxPool2d || layer instanceof Flatten || layer instanceof Linear || layer instanceof Dropout) return null;
  if (layer instanceof LocalResponseNorm) {
    return layer.options.size % 2 === 1 ? null : `size ${layer.options.size}: for an even size ONNX's LRN window is not ours`;
  }
  if (layer instanceof Softmax) return index === count - 1 ? null : 'a Softmax before the last layer';
  return 'no ONNX mapping';
}

/** The model as ONNX bytes (see the module's comment). */
export function encodeOnnx(model: Module, options: OnnxExportOptions = {}): Promise<Uint8Array> {
  return encode(model, options, 'io.encodeOnnx');
}

async function encode(model: Module, options: OnnxExportOptions, where: string): Promise<Uint8Array> {
  checkOptions(where, options);
  if (!(model instanceof Module)) throw new ValueError(`${where}: expected a Vgg or a Sequential, got ${describeValue(model)}`);
  if (model.isDisposed) throw new DisposedError(`${where}: expected a live model, got ${model.describe()} whose parameters dispose() freed`);
  const layers = leaves(model, '').filter(([, l]) => !(l instanceof Dropout));
  const all = leaves(model, '');
  const problems = all.map(([path, l], i) => [path, l, unsupported(l, i, all.length)] as const).filter(([, , why]) => why !== null);
  if (problems.length) {
    throw new ValueError(`${where}: ONNX export covers ${SUPPORTED}; ${model.describe()} has ${problems.length} layer${problems.length > 1 ? 's' : ''} it cannot export: ` +
      problems.map(([path, l, why]) => `${path}: ${l.describe()} (${why})`).join(', '));
  }
  const endsInSoftmax = layers.length > 0 && layers[layers.length - 1][1] instanceof Softmax;
  if (options.softmax && endsInSoftmax) throw new ValueError(`${where}: softmax: true, but ${model.describe()} already ends in a Softmax`);

  const vgg = vggOf(model);
  const inputSize = options.inputSize ?? vgg?.options.inputSize;
  if (inputSize === undefined) throw new ValueError(`${where}: expected options.inputSize for ${model.describe()} (a Vgg has its own), got none`);
  const firstConv = layers.find(([, l]) => l instanceof Conv2d)?.[1] as Conv2d | undefined;
  const channels = vgg?.options.inputChannels ?? firstConv?.inChannels;
  if (channels === undefined) throw new ValueError(`${where}: ${model.describe()} has no Conv2d to take its input channels from`);
  const batch = options.batch ?? 'dynamic';
  const outShape = model.outputShape([batch === 'dynamic' ? 1 : batch, channels, inputSize, inputSize]); // a ShapeError where the input does not fit
  if (options.classes && options.classes.length !== outShape[1]) {
    throw new ValueError(`${where}: expected ${outShape[1]} class names (the model's outputs), got ${options.classes.length}`);
  }

  const probabilities = options.softmax || endsInSoftmax;
  const outputName = probabilities ? 'probabilities' : 'logits';
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const steps: [string, Module][] = options.softmax ? [...layers, ['softmax', new Softmax()]] : layers;
  let value = 'input';
  for (const [i, [path, layer]] of steps.entries()) {
    const next = i === steps.length - 1 ? outputName : `${path}_output`;
    await emit(layer, path, value, next, nodes, initializers);
    value = next;
  }
  if (!nodes.length) nodes.push({ name: 'identity', opType: 'Identity', input: ['input'], output: [outputName] });

  const dim = (d: number | 'dynamic') => (d === 'dynamic' ? { dimParam: 'N' } : { dimValue: d });
  const valueInfo = (name: string, dims: (number | 'dynamic')[]): ValueInfoProto => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map(dim) } } } });
  const metadata: Record<string, string> = { ...(options.metadata ?? {}) };
  if (options.preprocessing) metadata.preprocessing = JSON.stringify(checkPreprocessing(options.preprocessing, `${where}: preprocessing`));
  if (vgg) metadata.vgg = JSON.stringify({ config: vgg.config, ...vgg.options });
  if (options.classes) metadata.classes = JSON.stringify(options.classes);

  const bytes = initializers.reduce((n, t) => n + (t.rawData?.length ?? 0), 0);
  if (bytes > PROTOBUF_LIMIT) throw new ValueError(`${where}: ${model.describe()} has ${(bytes / 2 ** 30).toFixed(2)} GiB of weights; an ONNX file holds at most 2 GiB`);
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'verydeep',
    producerVersion: producerVersion(),
    docString: model.describe(),
    graph: {
      name: vgg ? `VGG-${vgg.config}` : 'verydeep',
      node: nodes,
      initializer: initializers,
      input: [valueInfo('input', [batch, channels, inputSize, inputSize])],
      output: [valueInfo(outputName, [batch, ...outShape.slice(1)])],
    },
    metadataProps: Object.entries(metadata).map(([key, v]) => ({ key, value: v })),
  });
}

/** Writes the model as an ONNX file, atomically; resolves to whether it wrote (false only with `ifChanged` and the same bytes there). */
export async function saveOnnx(model: Module, path: string, options: OnnxExportOptions & WriteOptions = {}): Promise<boolean> {
  const bytes = await encode(model, options, 'io.saveOnnx');
  return writeFileAtomic(path, bytes, { ifChanged: options.ifChanged });
}
