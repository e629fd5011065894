/**
 * ONNX import: io.loadOnnx and io.loadOnnxModel read a VGG-style ONNX graph (verydeep's
 * export, torch.onnx.export of torchvision's vgg11/13/16/19, or any chain of the ops
 * lib/io/onnx-graph.ts reads) into verydeep layers with the graph's weights.
 *
 * What comes back:
 *  - a Vgg where the chain is one of Table 1's configurations: built with the options of the
 *    'vgg' metadata where the file has it (verydeep's export writes it; a graph that does
 *    not hold that model is a WeightsError listing the differences), else with the options
 *    read off the shapes: the configuration from the layer sequence, widthMultiplier and
 *    inputChannels from the first conv, fcWidth and numClasses from the FC layers, inputSize
 *    from the graph's input (or FC6's inputs, channels · side², as 32 · side for five
 *    pools), dropout and seed their defaults. A graph that ends in a Softmax gives
 *    `new Sequential(vgg, new Softmax())`;
 *  - else a Sequential of our layers, in the chain's order.
 * Weights are assigned all or nothing (lib/io/model.ts's assignParsed), bit for bit as the
 * file holds them. An ONNX graph is an inference graph: the model comes in eval mode
 * (dropout off); `model.train()` turns it on for fine-tuning.
 */
import { Module } from '../nn/module.js';
import { Conv2d, Dropout, Flatten, LocalResponseNorm, Linear, MaxPool2d, ReLU, Sequential, Softmax } from '../nn/layers.js';
import { Vgg, VGG_CONFIGS, type ConfigName, type VggOptions } from '../models/vgg.js';
import { ValueError, WeightsError, describeValue, messageOf } from '../core/errors.js';
import { formatShape } from '../core/tensor.js';
import type { Preprocessing } from '../data/preprocess.js';
import { readBytes, type NamedArray } from './safetensors.js';
import { assignParsed, classesOf, preprocessingOf, vggMetadataOf } from './model.js';
import { decodeModel } from './onnx-proto.js';
import { hasWeights, readChain, type OnnxGraph, type Step } from './onnx-graph.js';

/** An ONNX graph read back as a model, with what the file says about it. */
export interface OnnxModel {
  /** the net: a Vgg where the graph is one of Table 1's, otherwise a Sequential of the layers */
  model: Vgg | Sequential;
  /** the file's metadata_props, every key as stored */
  metadata: Record<string, string>;
  /** the preprocessing the file says its weights expect (its 'preprocessing' metadata), if it says */
  preprocessing?: Preprocessing;
  /** the class names of its 'classes' metadata, if any */
  classes?: string[];
  /** the graph's input: its name and shape, a symbolic dimension by its name ('N') */
  input: {
    /** the input's name in the graph */
    name: string;
    /** the dimensions of [N, C, H, W]: a number each, or a name for a symbolic one */
    shape: (number | string)[];
  };
  /** the graph's output */
  output: {
    /** its name in the graph (verydeep writes 'logits', or 'probabilities' after a Softmax) */
    name: string;
  };
}

/** The options of reading an ONNX file or its bytes. */
export interface OnnxLoadOptions {
  /** what errors call a source given as bytes ('the ONNX bytes') */
  name?: string;
}

/** The model of an ONNX file (a path, or its bytes); see the module's comment. */
export async function loadOnnx(source: string | Uint8Array, options: OnnxLoadOptions = {}): Promise<Vgg | Sequential> {
  return (await load(source, options, 'io.loadOnnx')).model;
}

/** The model of an ONNX file with its metadata, preprocessing, class names, input and output. */
export function loadOnnxModel(source: string | Uint8Array, options: OnnxLoadOptions = {}): Promise<OnnxModel> {
  return load(source, options, 'io.loadOnnxModel');
}

async function load(source: string | Uint8Array, options: OnnxLoadOptions, where: string): Promise<OnnxModel> {
  if (typeof source !== 'string' && !(source instanceof Uint8Array)) throw new ValueError(`${where}: expected a path or the file's bytes (a Uint8Array), got ${describeValue(source)}`);
  const name = typeof source === 'string' ? source : options.name ?? 'the ONNX bytes';
  const bytes = typeof source === 'string' ? await readBytes(source, where) : source;
  const graph = readChain(decodeModel(bytes, name, where), name, where);
  const { metadata, steps } = graph;
  const preprocessing = preprocessingOf(metadata, name, where);
  const params = steps.filter(hasWeights);
  const outputs = params.length ? params[params.length - 1].weight.shape[0] : undefined;
  const classes = classesOf(metadata, outputs, name, where);
  const softmax = steps.length > 0 && steps[steps.length - 1].op === 'softmax';

  const vgg = vggOf(graph, name, where);
  let model: Vgg | Sequential;
  let target: Module;
  if (vgg) {
    target = new Vgg(vgg.config, vgg.options);
    model = softmax ? new Sequential(target, new Softmax()) : (target as Vgg);
  } else model = target = sequentialOf(steps);
  const tensors = new Map<string, NamedArray>();
  const named = target.namedParameters();
  params.forEach((s, i) => {
    tensors.set(named[2 * i][0], s.weight);
    tensors.set(named[2 * i + 1][0], s.bias ?? { shape: [s.weight.shape[0]], data: new Float32Array(s.weight.shape[0]) });
  });
  try {
    assignParsed(target, { tensors, metadata }, name, where);
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  return { model, metadata, preprocessing, classes, input: graph.input, output: graph.output };
}

/** a step as a token of the layer sequence: 'conv3', 'conv1', 'relu', 'pool', 'lrn', 'flatten', 'linear' */
const token = (s: Step) => (s.op === 'conv' ? `conv${s.weight.shape[2]}` : s.op);

/** the layer sequence of a Vgg of `config`, dropouts left out */
function vggTokens(config: ConfigName): string[] {
  const out: string[] = [];
  for (const spec of VGG_CONFIGS[config].layers) {
    if (spec === 'M') out.push('pool');
    else if (spec === 'LRN') out.push('lrn');
    else out.push(typeof spec === 'number' ? 'conv3' : 'conv1', 'relu');
  }
  return [...out, 'flatten', 'linear', 'relu', 'linear', 'relu', 'linear'];
}

/** A-LRN's LRN (§2.2: n 5, α 1e-4 summed, β 0.75, k 2), as ONNX writes it: alpha·size in float32 */
function isPaperLrn(s: Step): boolean {
  if (s.op !== 'lrn') return true;
  const o = s.options;
  return o.size === 5 && Math.abs(o.alpha / 5 - 1e-4) <= 1e-10 && o.beta === 0.75 && o.k === 2;
}

/**
 * The configuration and options of the Vgg the chain is, or null where it is none. With
 * 'vgg' metadata, the model it states, checked against the chain (a WeightsError listing the
 * differences); without, the configuration whose layer sequence the chain has, and the
 * options read off its shapes, kept only where Vgg.parameterShapes gives the chain's shapes.
 */
function vggOf(graph: OnnxGraph, name: string, where: string): { config: ConfigName; options: VggOptions } | null {
  const layers = graph.steps.filter((s) => s.op !== 'dropout');
  if (layers[layers.length - 1]?.op === 'softmax') layers.pop(); // a Softmax can only be last (onnx-graph.ts)
  const tokens = layers.map(token).join(' ');
  const shapes = layers.filter(hasWeights).flatMap((s) => [s.weight.shape, [s.weight.shape[0]]]);
  const fits = (config: ConfigName, options: VggOptions) => {
    if (vggTokens(config).join(' ') !== tokens || !layers.every(isPaperLrn)) return false;
    const expected = Vgg.parameterShapes(config, options);
    return expected.length === shapes.length && expected.every(([, s], i) => formatShape(s) === formatShape(shapes[i]));
  };

  const stated = vggMetadataOf(graph.metadata, name, where);
  if (stated) {
    const { config, options } = stated;
    try {
      if (fits(config, options)) return { config, options };
    } catch (e) {
      if (e instanceof ValueError) throw new WeightsError(`${where}: ${name}: the 'vgg' metadata states a model that cannot be built: ${messageOf(e)}`, { cause: e });
      throw e;
    }
    const expected = Vgg.parameterShapes(config, options).map(([, s]) => formatShape(s)).join(' ');
    throw new WeightsError(`${where}: ${name}: its 'vgg' metadata states VGG-${config} (${JSON.stringify(options)}), but the graph holds another net:\n` +
      `  VGG-${config}: ${vggTokens(config).join(' ')}; weights ${expected}\n  the graph: ${tokens}; weights ${shapes.map(formatShape).join(' ')}`);
  }

  const convs = layers.filter(hasWeights).filter((s) => s.op === 'conv'), fcs = layers.filter(hasWeights).filter((s) => s.op === 'linear');
  const config = (Object.keys(VGG_CONFIGS) as ConfigName[]).find((c) => vggTokens(c).join(' ') === tokens);
  if (!config || !convs.length || fcs.length !== 3) return null;
  const pools = VGG_CONFIGS[config].layers.filter((l) => l === 'M').length;
  const lastChannels = convs[convs.length - 1].weight.shape[0];
  const side = Math.sqrt(fcs[0].weight.shape[1] / lastChannels);
  if (!Number.isInteger(side)) return null;
  const [, , h, w] = graph.input.shape;
  const inputSize = typeof h === 'number' && h === w && Math.floor(h / 2 ** pools) === side ? h : side * 2 ** pools;
  const options: VggOptions = {
    widthMultiplier: convs[0].weight.shape[0] / 64, inputChannels: convs[0].weight.shape[1],
    fcWidth: fcs[0].weight.shape[0], numClasses: fcs[2].weight.shape[0], inputSize,
  };
  try {
    return fits(config, options) ? { config, options } : null;
  } catch (e) {
    if (e instanceof ValueError) return null; // shapes no VGG has
    throw e;
  }
}

/** our layers for the chain's steps (weights assigned afterwards) */
function sequentialOf(steps: Step[]): Sequential {
  return new Sequential(...steps.map((s): Module => {
    switch (s.op) {
      case 'conv': return new Conv2d(s.weight.shape[1], s.weight.shape[0], s.weight.shape[2]);
      case 'linear': return new Linear(s.weight.shape[1], s.weight.shape[0]);
      case 'relu': return new ReLU();
      case 'pool': return new MaxPool2d();
      case 'lrn': return new LocalResponseNorm(s.options);
      case 'flatten': return new Flatten();
      case 'dropout': return new Dropout(s.p);
      case 'softmax': return new Softmax();
    }
  }));
}
