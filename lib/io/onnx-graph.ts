/**
 * Reading an ONNX graph as a chain of verydeep layers (the first half of io.loadOnnx).
 *
 * Weights are the graph's constants: initializers, Constant nodes, and Identity nodes of a
 * constant (torch.onnx.export shares equal tensors that way: torchvision's zero biases). The
 * rest must be a single chain from the one graph input to the one graph output, each node
 * taking the previous node's value as its only non-constant input. What each node becomes:
 *
 *   Conv                Conv2d: a square odd kernel with pads (k−1)/2 (or auto_pad SAME_*),
 *                       strides 1, dilations 1, group 1
 *   Relu                ReLU
 *   MaxPool             MaxPool2d: kernel 2×2, strides 2, no pads, floor mode (ceil_mode 1
 *                       only where it gives the same, on an even map)
 *   LRN                 LocalResponseNorm, alphaMode 'mean' (ONNX divides alpha by size);
 *                       an odd size only (ONNX's window differs from ours for an even size)
 *   Flatten (axis 1), Reshape to [0, −1] or [N, −1]          Flatten
 *   Gemm (transA 0, alpha 1, beta 1), MatMul (+ Add)        Linear; transB 0 is transposed
 *   Dropout             Dropout of its ratio (inactive in eval mode, as ONNX's inference)
 *   Softmax (last)      Softmax
 *   Identity, and AveragePool / GlobalAveragePool / GlobalMaxPool where they are identities
 *                       (torchvision's AdaptiveAvgPool2d(7) on a 7×7 map is AveragePool 1×1)
 *                       nothing
 *
 * Every problem (an op we do not have, an attribute we do not support, a non-float weight, a
 * branch) is collected over the whole graph and thrown as one WeightsError listing them all.
 */
import type { LrnOptions } from '../core/ops.js';
import { WeightsError } from '../core/errors.js';
import type { NamedArray } from './safetensors.js';
import { Attributes, dimsOf, readFloats, readInts, toNumber, FLOAT, dataTypeName, type ModelProto, type NodeProto, type TensorProto } from './onnx-proto.js';

/** one layer of the chain, with the node it came from ('Conv 'features.0'') */
export type Step = { node: string } & (
  | { op: 'conv'; weight: NamedArray; bias: NamedArray }
  | { op: 'linear'; weight: NamedArray; bias: NamedArray | null }
  | { op: 'relu' } | { op: 'pool' } | { op: 'flatten' } | { op: 'softmax' }
  | { op: 'lrn'; options: Required<LrnOptions> }
  | { op: 'dropout'; p: number });

/** a step with weights */
export type WeightedStep = Extract<Step, { op: 'conv' | 'linear' }>;
export const hasWeights = (s: Step): s is WeightedStep => s.op === 'conv' || s.op === 'linear';

export interface OnnxGraph {
  steps: Step[];
  input: { name: string; shape: (number | string)[] };
  output: { name: string };
  metadata: Record<string, string>;
}

/** the shape of the value flowing down the chain: [N, C, H, W] or [N, features]; undefined where the graph does not say */
interface Flow { rank: number; channels?: number; h?: number; w?: number; features?: number }

const ones = (v: number[] | undefined) => v === undefined || v.every((x) => x === 1);
const zeros = (v: number[] | undefined) => v === undefined || v.every((x) => x === 0);
const list = (v: number[] | undefined) => `[${(v ?? []).join(', ')}]`;

/** Reads `model`'s graph as a chain of steps, or throws one WeightsError listing every problem. */
export function readChain(model: ModelProto, name: string, where: string): OnnxGraph {
  const fail = (what: string) => new WeightsError(`${where}: ${name}: ${what}`);
  const graph = model.graph;
  if (!graph || !(graph.node ?? []).length) throw fail('has no graph (not an ONNX model, or a damaged one)');
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!opset) throw fail('imports no opset of the default domain (ai.onnx)');
  const opsetVersion = toNumber(opset.version);
  const metadata = Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));

  // the constants, and the nodes that only make constants
  const constants = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', t);
  const problems: string[] = [];
  const constantNodes = new Set<NodeProto>();
  for (const n of graph.node ?? []) {
    if (n.opType === 'Constant') {
      constantNodes.add(n);
      const t = constantOf(n, problems);
      if (t) constants.set(n.output?.[0] ?? '', t);
    } else if (n.opType === 'Identity' && constants.has(n.input?.[0] ?? '')) {
      constantNodes.add(n);
      constants.set(n.output?.[0] ?? '', constants.get(n.input![0])!);
    }
  }
  const dataInputs = (n: NodeProto) => (n.input ?? []).filter((i) => i && !constants.has(i));

  const inputs = (graph.input ?? []).filter((i) => !constants.has(i.name ?? ''));
  if (inputs.length !== 1) throw fail(`expected one graph input (the image batch), got ${inputs.length}: ${inputs.map((i) => i.name).join(', ')}`);
  const outputs = graph.output ?? [];
  if (outputs.length !== 1) throw fail(`expected one graph output, got ${outputs.length}: ${outputs.map((o) => o.name).join(', ')}`);
  const inputType = inputs[0].type?.tensorType;
  const shape = (inputType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null ? toNumber(d.dimValue) : '?'));
  if (inputType?.elemType !== FLOAT) throw fail(`the input '${inputs[0].name}' is ${dataTypeName(inputType?.elemType)}; expected float32`);
  if (shape.length !== 4) throw fail(`the input '${inputs[0].name}' has shape [${shape.join(', ')}]; expected [N, C, H, W]`);
  const known = (d: number | string) => (typeof d === 'number' && d > 0 ? d : undefined);
  const input = { name: inputs[0].name ?? '', shape };
  const output = { name: outputs[0].name ?? '' };

  // the chain
  const consumers = new Map<string, NodeProto[]>();
  for (const n of graph.node ?? []) {
    if (constantNodes.has(n)) continue;
    for (const i of new Set(dataInputs(n))) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const steps: Step[] = [];
  const visited = new Set<NodeProto>();
  const flow: Flow = { rank: 4, channels: known(shape[1]), h: known(shape[2]), w: known(shape[3]) };
  const ctx: Context = { steps, flow, constants, opsetVersion, batch: known(shape[0]), consumers, output: output.name };
  let value = input.name;
  let structural: string | null = null;
  while (value !== output.name) {
    const users = consumers.get(value) ?? [];
    if (users.length !== 1) {
      structural = users.length ? `the graph is not a chain: '${value}' goes to ${users.length} nodes (${users.map(describeNode).join(', ')})`
        : `the chain from '${input.name}' ends at '${value}', which no node uses and is not the output '${output.name}'`;
      break;
    }
    const n = users[0];
    const ins = dataInputs(n);
    if (visited.has(n) || ins.length !== 1) {
      structural = `the graph is not a chain: ${describeNode(n)} takes ${ins.length} computed inputs (${ins.join(', ')})`;
      break;
    }
    visited.add(n);
    const faults: string[] = [];
    translate(n, ctx, faults);
    for (const extra of (n.output ?? []).slice(1)) {
      if (extra && (consumers.has(extra) || extra === output.name)) faults.push(`its output '${extra}' is used (only the first output of a node can be)`);
    }
    if (faults.length) problems.push(`${describeNode(n)}: ${faults.join('; ')}`);
    value = n.output?.[0] ?? '';
  }
  const astray = (graph.node ?? []).filter((n) => !constantNodes.has(n) && !visited.has(n));
  if (structural) problems.push(structural);
  else if (astray.length) problems.push(`the graph is not a chain: ${astray.length} node${astray.length > 1 ? 's are' : ' is'} off the chain from input to output: ${astray.slice(0, 8).map(describeNode).join(', ')}`);
  if (problems.length) {
    throw fail(`holds ${problems.length} thing${problems.length > 1 ? 's' : ''} io.loadOnnx cannot read (it reads VGG-style chains of Conv, Relu, MaxPool, LRN, Flatten, Gemm, Dropout and Softmax):\n  ${problems.join('\n  ')}`);
  }
  return { steps, input, output, metadata };
}

const describeNode = (n: NodeProto) => `${n.opType}${n.domain && n.domain !== 'ai.onnx' ? ` (domain ${n.domain})` : ''} '${n.name || n.output?.[0] || '?'}'`;

/** the tensor a Constant node makes (value, value_float(s), value_int(s)), or null with a problem */
function constantOf(n: NodeProto, problems: string[]): TensorProto | null {
  const faults: string[] = [];
  const a = new Attributes(n, faults);
  let t: TensorProto | null = a.tensor('value') ?? null;
  if (!t && a.has('value_float')) t = { dataType: FLOAT, dims: [], floatData: [a.float('value_float', 0)] };
  if (!t && a.has('value_floats')) t = { dataType: FLOAT, dims: [], floatData: [] }; // a list of floats is no weight we read
  if (!t && a.has('value_int')) t = { dataType: 7, dims: [], int64Data: [a.int('value_int', 0)] };
  if (!t && a.has('value_ints')) {
    const v = a.ints('value_ints', [])!;
    t = { dataType: 7, dims: [v.length], int64Data: v };
  }
  if (!t) faults.push(`makes ${a.names().join(', ') || 'nothing'}; io.loadOnnx reads value, value_float, value_int and value_ints`);
  if (faults.length) problems.push(`${describeNode(n)}: ${faults.join('; ')}`);
  return t;
}

interface Context {
  steps: Step[];
  flow: Flow;
  constants: Map<string, TensorProto>;
  opsetVersion: number;
  /** the input's batch size where it is fixed */
  batch?: number;
  consumers: Map<string, NodeProto[]>;
  output: string;
}

/** a constant input as floats with its shape, or null with the fault recorded */
function floats(ctx: Context, n: NodeProto, index: number, what: string, faults: string[]): NamedArray | null {
  const name = n.input?.[index];
  const t = name ? ctx.constants.get(name) : undefined;
  if (!t) {
    faults.push(`its ${what} ${name ? `'${name}' is computed, not a constant (an initializer or Constant node)` : 'is missing'}`);
    return null;
  }
  const data = readFloats(t);
  if (typeof data === 'string') {
    faults.push(`its ${what} '${name}' ${data}`);
    return null;
  }
  return { shape: dimsOf(t), data };
}

/** Appends the step of one node of the chain (or nothing, for an identity), recording every fault. */
function translate(n: NodeProto, ctx: Context, faults: string[]): void {
  const a = new Attributes(n, faults);
  const { flow, steps } = ctx;
  const node = describeNode(n);
  const push = (s: Step) => steps.push(s);
  if (n.domain && n.domain !== 'ai.onnx') {
    faults.push('an op of another domain');
    return;
  }
  const expectRank = (rank: number, what: string) => {
    if (flow.rank !== rank) faults.push(`takes a rank-${flow.rank} value here; expected ${what}`);
  };
  switch (n.opType) {
    case 'Relu':
      push({ node, op: 'relu' });
      return;
    case 'Identity':
      return;
    case 'Conv': {
      expectRank(4, '[N, C, H, W]');
      const w = floats(ctx, n, 1, 'weight', faults);
      const b = n.input?.[2] ? floats(ctx, n, 2, 'bias', faults) : null;
      const strides = a.ints('strides', undefined), dilations = a.ints('dilations', undefined), group = a.int('group', 1);
      if (!ones(strides)) faults.push(`strides ${list(strides)} (only 1 is supported)`);
      if (!ones(dilations)) faults.push(`dilations ${list(dilations)} (only 1 is supported)`);
      if (group !== 1) faults.push(`group ${group} (only 1 is supported)`);
      if (!w) return;
      const [out, inChannels, kh, kw] = w.shape;
      if (w.shape.length !== 4 || kh !== kw || kh % 2 !== 1) {
        faults.push(`weight of shape ${list(w.shape)} (a square odd kernel [out, in, k, k] is supported)`);
        return;
      }
      const kernel = a.ints('kernel_shape', undefined);
      if (kernel && (kernel.length !== 2 || kernel[0] !== kh || kernel[1] !== kw)) faults.push(`kernel_shape ${list(kernel)} does not fit its weight ${list(w.shape)}`);
      const p = (kh - 1) / 2;
      const autoPad = a.string('auto_pad', 'NOTSET');
      const pads = a.ints('pads', undefined);
      const same = autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER' || (autoPad === 'VALID' && p === 0) ||
        (autoPad === 'NOTSET' && (pads === undefined ? p === 0 : pads.length === 4 && pads.every((x) => x === p)));
      if (!same) faults.push(autoPad === 'NOTSET' ? `pads ${list(pads ?? [0, 0, 0, 0])} (only (k−1)/2 = ${p} on every side is supported)` : `auto_pad ${autoPad} with a ${kh}×${kw} kernel`);
      if (flow.channels !== undefined && inChannels !== flow.channels) faults.push(`a weight for ${inChannels} input channels on a ${flow.channels}-channel value`);
      if (b && (b.shape.length !== 1 || b.shape[0] !== out)) faults.push(`bias of shape ${list(b.shape)} for ${out} outputs`);
      flow.channels = out;
      push({ node, op: 'conv', weight: w, bias: b ?? { shape: [out], data: new Float32Array(out) } });
      return;
    }
    case 'MaxPool': {
      expectRank(4, '[N, C, H, W]');
      const kernel = a.ints('kernel_shape', undefined), strides = a.ints('strides', undefined), pads = a.ints('pads', undefined);
      const dilations = a.ints('dilations', undefined), ceil = a.int('ceil_mode', 0), autoPad = a.string('auto_pad', 'NOTSET');
      if (list(kernel) !== '[2, 2]') faults.push(`kernel_shape ${list(kernel)} (only 2×2 is supported)`);
      if (list(strides) !== '[2, 2]') faults.push(`strides ${strides ? list(strides) : 'missing (1, 1)'} (only 2, 2 is supported)`);
      if (!zeros(pads)) faults.push(`pads ${list(pads)} (only 0 is supported)`);
      if (!ones(dilations)) faults.push(`dilations ${list(dilations)} (only 1 is supported)`);
      if (autoPad !== 'NOTSET' && autoPad !== 'VALID') faults.push(`auto_pad ${autoPad}`);
      // ceil mode pools a last odd row or column that floor mode drops: the same on an even map
      const even = flow.h !== undefined && flow.w !== undefined && flow.h % 2 === 0 && flow.w % 2 === 0;
      if (ceil !== 0 && !even) faults.push(`ceil_mode ${ceil} (floor mode only${flow.h === undefined ? '' : `; the map is ${flow.h}×${flow.w}`})`);
      if (flow.h !== undefined) flow.h = Math.floor(flow.h / 2);
      if (flow.w !== undefined) flow.w = Math.floor(flow.w / 2);
      push({ node, op: 'pool' });
      return;
    }
    case 'LRN': {
      expectRank(4, '[N, C, H, W]');
      const size = a.int('size', 0), alpha = a.float('alpha', 1e-4), beta = a.float('beta', 0.75), bias = a.float('bias', 1);
      if (!(size >= 1) || size % 2 !== 1) faults.push(`size ${size} (an odd size only: ONNX's window for an even size is not the one verydeep computes)`);
      if (!(alpha >= 0) || !Number.isFinite(beta) || !(bias > 0)) faults.push(`alpha ${alpha}, beta ${beta}, bias ${bias} (alpha ≥ 0 and bias > 0 are supported)`);
      push({ node, op: 'lrn', options: { size, alpha, beta, k: bias, alphaMode: 'mean' } });
      return;
    }
    case 'Flatten': {
      const axis = a.int('axis', 1);
      if (axis !== 1 && axis + flow.rank !== 1) faults.push(`axis ${axis} (only 1 is supported)`);
      flatten(ctx, node);
      return;
    }
    case 'Reshape': {
      const t = ctx.constants.get(n.input?.[1] ?? '');
      const target = t ? readInts(t) : 'is computed, not a constant';
      const features = flow.rank === 4 ? (flow.channels ?? NaN) * (flow.h ?? NaN) * (flow.w ?? NaN) : flow.features;
      const allowZero = a.int('allowzero', 0);
      const fits = Array.isArray(target) && target.length === 2 && (target[1] === -1 || target[1] === features) &&
        ((target[0] === 0 && allowZero === 0) || (target[0] === ctx.batch && target[0] !== undefined) || (target[0] === -1 && target[1] === features));
      if (!fits) faults.push(`shape ${Array.isArray(target) ? list(target) : target} (only a flattening to [0, −1] or [N, −1] is supported)`);
      flatten(ctx, node);
      return;
    }
    case 'Gemm': {
      expectRank(2, '[N, features] (a Flatten first)');
      const transA = a.int('transA', 0), transB = a.int('transB', 0), alpha = a.float('alpha', 1), beta = a.float('beta', 1);
      if (transA !== 0) faults.push(`transA ${transA} (only 0 is supported)`);
      if (alpha !== 1) faults.push(`alpha ${alpha} (only 1 is supported)`);
      if (beta !== 1 && n.input?.[2]) faults.push(`beta ${beta} (only 1 is supported)`);
      const w = floats(ctx, n, 1, 'weight', faults);
      const c = n.input?.[2] ? floats(ctx, n, 2, 'bias', faults) : null;
      linear(ctx, node, w, transB === 1, c, faults);
      return;
    }
    case 'MatMul': {
      expectRank(2, '[N, features] (a Flatten first)');
      linear(ctx, node, floats(ctx, n, 1, 'weight', faults), false, null, faults);
      return;
    }
    case 'Add': {
      const last = steps[steps.length - 1];
      const b = floats(ctx, n, (n.input ?? []).findIndex((i) => ctx.constants.has(i)), 'addend', faults);
      if (!last || last.op !== 'linear' || last.bias !== null || !last.node.startsWith('MatMul')) {
        faults.push('an Add that is not the bias of a MatMul');
        return;
      }
      const out = last.weight.shape[0];
      if (b && (b.data.length !== out || b.shape.some((d, i) => d !== 1 && i !== b.shape.length - 1))) faults.push(`addend of shape ${list(b.shape)} (a bias [${out}] is supported)`);
      else if (b) last.bias = { shape: [out], data: b.data };
      return;
    }
    case 'Dropout': {
      let p = a.float('ratio', 0.5);
      if (ctx.opsetVersion >= 12 && n.input?.[1]) {
        const r = floats(ctx, n, 1, 'ratio', faults);
        p = r ? r.data[0] : p;
      }
      const training = n.input?.[2] ? ctx.constants.get(n.input[2]) : undefined;
      const trainingMode = training ? (training.rawData?.length ? training.rawData[0] : toNumber(training.int32Data?.[0] ?? 0)) : 0;
      if (trainingMode !== 0) faults.push('training_mode is true (an inference graph is read)');
      if (!(p >= 0 && p < 1)) faults.push(`ratio ${p} (expected [0, 1))`);
      push({ node, op: 'dropout', p: p >= 0 && p < 1 ? p : 0.5 });
      return;
    }
    case 'Softmax': {
      expectRank(2, '[N, classes]');
      const axis = a.int('axis', ctx.opsetVersion >= 13 ? -1 : 1);
      if (axis !== 1 && axis !== -1) faults.push(`axis ${axis} (only the classes, 1, are supported)`);
      if (n.output?.[0] !== ctx.output) faults.push('a Softmax before the last node (only a last one is supported)');
      push({ node, op: 'softmax' });
      return;
    }
    case 'AveragePool': {
      const kernel = a.ints('kernel_shape', undefined), strides = a.ints('strides', undefined), pads = a.ints('pads', undefined);
      const oneByOne = flow.h === 1 && flow.w === 1;
      if (!(ones(kernel) && zeros(pads) && (ones(strides) || oneByOne))) {
        faults.push(`kernel_shape ${list(kernel)}, strides ${list(strides ?? [1, 1])}, pads ${list(pads ?? [0, 0, 0, 0])}${flow.h !== undefined ? ` on a ${flow.h}×${flow.w} map` : ''}: not an identity, and verydeep has no average pool`);
      }
      return;
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      if (flow.h !== 1 || flow.w !== 1) faults.push(`on a ${flow.h ?? '?'}×${flow.w ?? '?'} map: not an identity (only on a 1×1 map), and verydeep has no average pool`);
      return;
    default:
      faults.push('an op io.loadOnnx does not read');
  }
}

function flatten(ctx: Context, node: string): void {
  const f = ctx.flow;
  if (f.rank === 4) {
    f.features = f.channels !== undefined && f.h !== undefined && f.w !== undefined ? f.channels * f.h * f.w : undefined;
    f.rank = 2;
  }
  ctx.steps.push({ node, op: 'flatten' });
}

/** a Linear from a weight [out, in] (`transposed`: given as [out, in]; else [in, out]) and an optional bias [out] or [1, out] */
function linear(ctx: Context, node: string, w: NamedArray | null, transposed: boolean, c: NamedArray | null, faults: string[]): void {
  if (!w) return;
  if (w.shape.length !== 2) {
    faults.push(`weight of shape ${list(w.shape)} (a matrix is supported)`);
    return;
  }
  const [out, inFeatures] = transposed ? w.shape : [w.shape[1], w.shape[0]];
  let weight = w;
  if (!transposed) {
    const data = new Float32Array(w.data.length);
    for (let i = 0; i < inFeatures; i++) for (let o = 0; o < out; o++) data[o * inFeatures + i] = w.data[i * out + o];
    weight = { shape: [out, inFeatures], data };
  }
  const f = ctx.flow;
  if (f.features !== undefined && f.features !== inFeatures) faults.push(`a weight for ${inFeatures} inputs on ${f.features} features`);
  f.features = out;
  if (c && (c.data.length !== out || c.shape.length > 2 || (c.shape.length === 2 && c.shape[0] !== 1))) {
    faults.push(`bias of shape ${list(c.shape)} (a bias [${out}] or [1, ${out}] is supported)`);
    c = null;
  }
  ctx.steps.push({ node, op: 'linear', weight, bias: c ? { shape: [out], data: c.data } : null });
}
