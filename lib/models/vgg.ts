/**
 * The VGG configurations of the paper's Table 1, built from one table.
 *
 * Table 1 (§2.2): the conv stack, then FC-4096, FC-4096, FC-1000 and soft-max. Every conv
 * is 3×3 (stride 1, pad 1) and followed by ReLU, except configuration C's three 1×1
 * convolutions ('conv1-256', 'conv1-512'); 'M' is a 2×2 max-pool with stride 2; A-LRN has
 * one LRN after its first conv (§2.2: k=2, n=5, α=1e-4, β=0.75). FC6 and FC7 are followed
 * by ReLU and dropout 0.5 (§3.1).
 *
 * The layers are laid out and named as torchvision's vgg.py does (`features.N`,
 * `classifier.N`), so its state_dict names map one to one (issue 4).
 */
import { Tensor, type Shape, formatShape } from '../core/tensor.js';
import { Module } from '../nn/module.js';
import { Conv2d, MaxPool2d, ReLU, LocalResponseNorm, Linear, Dropout, Flatten, Sequential } from '../nn/layers.js';
import type { InitScheme } from '../nn/init.js';
import { PAPER_INIT_STD } from '../nn/init.js';
import { Rng } from '../core/random.js';
import { ShapeError, ValueError, describeValue } from '../core/errors.js';

/** a 3×3 conv of n channels; `{ conv1: n }` is a 1×1 conv; 'M' max-pool; 'LRN' */
export type LayerSpec = number | {
  /** the output channels of a 1×1 conv */
  conv1: number;
} | 'M' | 'LRN';

/**
 * The paper's configurations (Table 1): A (11 weight layers), A-LRN, B (13), C (16, with 1×1 convs), D (16), E (19).
 */
export type ConfigName = 'A' | 'A-LRN' | 'B' | 'C' | 'D' | 'E';

/** Table 1, column by column. */
export const VGG_CONFIGS: Record<ConfigName, {
  /** the feature layers, top to bottom, as Table 1 lists them */
  layers: LayerSpec[];
  /** the conv and FC layers: the depth the paper names a net by */
  weightLayers: number;
}> = {
  A: { weightLayers: 11, layers: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'] },
  'A-LRN': { weightLayers: 11, layers: [64, 'LRN', 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'] },
  B: { weightLayers: 13, layers: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'] },
  C: {
    weightLayers: 16,
    layers: [64, 64, 'M', 128, 128, 'M', 256, 256, { conv1: 256 }, 'M', 512, 512, { conv1: 512 }, 'M', 512, 512, { conv1: 512 }, 'M'],
  },
  D: { weightLayers: 16, layers: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] },
  E: {
    weightLayers: 19,
    layers: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
  },
};

/**
 * Vgg's options; each one left out takes the value in brackets (the paper's ImageNet net).
 * An unknown key or a value out of range is a ValueError naming the option.
 */
export interface VggOptions {
  /** classes of the last FC layer (1000, ImageNet) */
  numClasses?: number;
  /** side of the square training input (224); the first FC layer takes what the last pool gives */
  inputSize?: number;
  /** input channels (3, RGB; 1 for MNIST) */
  inputChannels?: number;
  /** scales every conv width (64·w, 128·w, ...), at least 1 channel (1) */
  widthMultiplier?: number;
  /** width of FC6 and FC7 (4096) */
  fcWidth?: number;
  /** dropout after FC6 and FC7 (0.5) */
  dropout?: number;
  /** 'paper': N(0, 0.01²); 'glorot': Glorot & Bengio (see lib/nn/init.ts) */
  init?: InitScheme;
  /** std of the 'paper' init (0.01) */
  initStd?: number;
  /** seed of every random draw of the model: init and dropout masks (0) */
  seed?: number;
}

const DEFAULT_OPTIONS: Required<VggOptions> = {
  numClasses: 1000, inputSize: 224, inputChannels: 3, widthMultiplier: 1, fcWidth: 4096, dropout: 0.5,
  init: 'paper', initStd: PAPER_INIT_STD, seed: 0,
};

/**
 * The options with their defaults, checked: an unknown key (a misspelt `widthMultipler`
 * would otherwise build a full-width net without a word) and every value out of range are
 * ValueErrors naming the option; a key given as undefined takes its default.
 */
function checkOptions(options: VggOptions): Required<VggOptions> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValueError(`Vgg: expected options { ${Object.keys(DEFAULT_OPTIONS).join(', ')} }, got ${describeValue(options)}`);
  }
  const unknown = Object.keys(options).filter((k) => !(k in DEFAULT_OPTIONS));
  if (unknown.length) throw new ValueError(`Vgg: unknown option '${unknown[0]}'; expected one of ${Object.keys(DEFAULT_OPTIONS).join(', ')}`);
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o: Required<VggOptions> = { ...DEFAULT_OPTIONS, ...given };
  const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  for (const key of ['numClasses', 'inputSize', 'inputChannels', 'fcWidth'] as const) {
    if (!isNumber(o[key]) || !Number.isInteger(o[key]) || o[key] < 1) throw new ValueError(`Vgg: expected ${key} to be a positive integer, got ${describeValue(o[key])}`);
  }
  if (!isNumber(o.widthMultiplier) || !(o.widthMultiplier > 0)) throw new ValueError(`Vgg: expected widthMultiplier > 0, got ${describeValue(o.widthMultiplier)}`);
  if (!isNumber(o.dropout) || !(o.dropout >= 0 && o.dropout < 1)) throw new ValueError(`Vgg: expected dropout in [0, 1), got ${describeValue(o.dropout)}`);
  if (o.init !== 'paper' && o.init !== 'glorot') throw new ValueError(`Vgg: expected init 'paper' or 'glorot', got ${describeValue(o.init)}`);
  if (!isNumber(o.initStd) || !(o.initStd > 0)) throw new ValueError(`Vgg: expected initStd to be a finite number > 0, got ${describeValue(o.initStd)}`);
  if (!isNumber(o.seed)) throw new ValueError(`Vgg: expected seed to be a finite number, got ${describeValue(o.seed)}`);
  return o;
}

/** The ValueError for a configuration that Table 1 does not have; `also` ends the list of names. */
function unknownConfig(where: string, config: unknown, also = ''): ValueError {
  return new ValueError(`${where}: unknown configuration ${describeValue(config)}; expected one of ${Object.keys(VGG_CONFIGS).join(', ')}${also}`);
}

/** Throws unless `config` is one of Table 1's names (own keys only: 'toString' in VGG_CONFIGS is true). */
function checkConfig(where: string, config: unknown): asserts config is ConfigName {
  if (typeof config !== 'string' || !Object.hasOwn(VGG_CONFIGS, config)) throw unknownConfig(where, config);
}

/** One layer of `features`, at its index there (a conv and its ReLU are two layers). */
type PlannedLayer =
  | { kind: 'conv'; index: number; inChannels: number; outChannels: number; kernel: number }
  | { kind: 'pool'; index: number }
  | { kind: 'lrn'; index: number };

interface Plan {
  options: Required<VggOptions>;
  features: PlannedLayer[];
  /** channels and side of the last pool's map */
  channels: number;
  side: number;
  /** FC6, FC7, FC8: index in `classifier`, inputs, outputs */
  classifier: [number, number, number][];
}

/**
 * The walk over Table 1 that both the constructor and Vgg.parameterShapes build from:
 * checks the configuration and the options, and lays out every layer with its channels,
 * throwing `where`'s ValueError where a max-pool would get a map smaller than 2×2.
 */
function plan(where: string, config: unknown, options: VggOptions): Plan {
  checkConfig(where, config);
  const o = checkOptions(options);
  const width = (c: number) => Math.max(1, Math.round(c * o.widthMultiplier));
  const features: PlannedLayer[] = [];
  let channels = o.inputChannels;
  let side = o.inputSize;
  let index = 0;
  for (const spec of VGG_CONFIGS[config].layers) {
    if (spec === 'M') {
      if (side < 2) throw new ValueError(`${where}: inputSize ${o.inputSize} is too small for configuration ${config}: a max-pool would get a ${side}×${side} map`);
      features.push({ kind: 'pool', index });
      side = Math.floor(side / 2);
      index += 1;
    } else if (spec === 'LRN') {
      features.push({ kind: 'lrn', index });
      index += 1;
    } else {
      const [out, kernel] = typeof spec === 'number' ? [width(spec), 3] : [width(spec.conv1), 1];
      features.push({ kind: 'conv', index, inChannels: channels, outChannels: out, kernel });
      channels = out;
      index += 2;
    }
  }
  const classifier: [number, number, number][] = [[0, channels * side * side, o.fcWidth], [3, o.fcWidth, o.fcWidth], [6, o.fcWidth, o.numClasses]];
  return { options: o, features, channels, side, classifier };
}

/**
 * A VGG net of Table 1: `features` (the conv stack: 3×3 convs with ReLU, 2×2 max-pools),
 * `flatten`, and `classifier` (FC6, FC7 with ReLU and dropout, FC8 giving logits [N, numClasses]).
 * Parameter names match torchvision's ('features.0.weight', 'classifier.6.bias'), so its
 * weights load as they are. The soft-max is not part of it: training takes the logits.
 */
export class Vgg extends Module {
  /** the convolutional part: [N, C, H, W] → [N, 512·w, H/32, W/32] */
  readonly features: Sequential;
  /**
   * the fully connected part (FC6, ReLU, Dropout, FC7, ReLU, Dropout, FC8): [N, features] → [N, numClasses]
   */
  readonly classifier: Sequential;
  /** between the two: [N, C, h, w] → [N, C·h·w] */
  readonly flatten: Flatten;
  /** which column of Table 1 this net is */
  readonly config: ConfigName;
  /** the options in effect, defaults filled in */
  readonly options: Required<VggOptions>;

  constructor(config: ConfigName, options: VggOptions = {}) {
    super();
    const p = plan('Vgg', config, options);
    const o = p.options;
    this.config = config;
    this.options = o;
    const seeds = new Rng(o.seed);
    const init = () => ({ init: o.init, std: o.initStd, seed: seeds.int(2 ** 31) });

    const layers: Module[] = [];
    for (const l of p.features) {
      if (l.kind === 'pool') layers.push(new MaxPool2d());
      else if (l.kind === 'lrn') layers.push(new LocalResponseNorm({ size: 5, alpha: 1e-4, beta: 0.75, k: 2 }));
      else layers.push(new Conv2d(l.inChannels, l.outChannels, l.kernel, init()), new ReLU());
    }
    this.features = this.registerModule('features', new Sequential(...layers));
    this.flatten = this.registerModule('flatten', new Flatten());
    const [fc6, fc7, fc8] = p.classifier;
    this.classifier = this.registerModule('classifier', new Sequential(
      new Linear(fc6[1], fc6[2], init()), new ReLU(), new Dropout(o.dropout, seeds.int(2 ** 31)),
      new Linear(fc7[1], fc7[2], init()), new ReLU(), new Dropout(o.dropout, seeds.int(2 ** 31)),
      new Linear(fc8[1], fc8[2], init()),
    ));
  }

  /** Configuration A, 11 weight layers (8 conv + 3 FC). */
  static configA(options?: VggOptions): Vgg { return new Vgg('A', options); }
  /** Configuration A-LRN: A with local response normalisation after the first conv (§2.2). */
  static configALRN(options?: VggOptions): Vgg { return new Vgg('A-LRN', options); }
  /** Configuration B, 13 weight layers. */
  static configB(options?: VggOptions): Vgg { return new Vgg('B', options); }
  /** Configuration C, 16 weight layers: B with a 1×1 conv at the end of the last three stacks. */
  static configC(options?: VggOptions): Vgg { return new Vgg('C', options); }
  /** Configuration D (VGG-16), 16 weight layers. */
  static configD(options?: VggOptions): Vgg { return new Vgg('D', options); }
  /** Configuration E (VGG-19), 19 weight layers. */
  static configE(options?: VggOptions): Vgg { return new Vgg('E', options); }

  /** A config by its letter: 'A', 'A-LRN' (or 'ALRN'), 'B', 'C', 'D', 'E'. */
  static config(name: string, options?: VggOptions): Vgg {
    const key = typeof name === 'string' ? (name.toUpperCase() === 'ALRN' ? 'A-LRN' : name.toUpperCase()) : name;
    if (!Object.hasOwn(VGG_CONFIGS, key)) throw unknownConfig('Vgg.config', name, ' (or ALRN)');
    return new Vgg(key as ConfigName, options);
  }

  /**
   * The names and shapes of the parameters `new Vgg(config, options)` has, in order,
   * computed without building it, so that a weights file can be checked against the model
   * its metadata claims before that model takes any memory (a VGG-E, 548 MB). It walks
   * Table 1 as the constructor does (a test keeps the two equal) and throws the
   * constructor's ValueError for options it rejects.
   */
  static parameterShapes(config: ConfigName, options: VggOptions = {}): [string, number[]][] {
    const p = plan('Vgg.parameterShapes', config, options);
    const shapes: [string, number[]][] = [];
    for (const l of p.features) {
      if (l.kind !== 'conv') continue;
      shapes.push([`features.${l.index}.weight`, [l.outChannels, l.inChannels, l.kernel, l.kernel]], [`features.${l.index}.bias`, [l.outChannels]]);
    }
    for (const [index, inputs, outputs] of p.classifier) shapes.push([`classifier.${index}.weight`, [outputs, inputs]], [`classifier.${index}.bias`, [outputs]]);
    return shapes;
  }

  /**
   * §3.1: "we initialised the first four convolutional layers and the last three
   * fully-connected layers with the layers of net A (the intermediate layers were
   * initialised randomly)". A's first four convs are conv1_1, conv2_1, conv3_1 and
   * conv3_2; in a deeper net the layers of those names (the j-th conv of the s-th stage,
   * stages being split by the max-pools) are the only ones whose shapes fit, so they are
   * the ones copied, as Caffe's copy-by-layer-name does. Copies from `trainedA`
   * (configuration A or A-LRN, same widths) into `deeper`; checks every shape first and
   * throws, changing nothing, if one differs.
   */
  static async initFromA(deeper: Vgg, trainedA: Vgg): Promise<Vgg> {
    for (const [name, m] of [['deeper', deeper], ['trainedA', trainedA]] as const) {
      if (!(m instanceof Vgg)) throw new ValueError(`Vgg.initFromA: expected ${name} to be a Vgg, got ${describeValue(m)}`);
    }
    if (trainedA.config !== 'A' && trainedA.config !== 'A-LRN') throw new ValueError(`Vgg.initFromA: expected a configuration A net as the source, got ${trainedA.config}`);
    /** convs by stage: stages[s][j] is conv{s+1}_{j+1} */
    const stages = (m: Vgg) => {
      const out: Conv2d[][] = [[]];
      for (const l of m.features.layers) {
        if (l instanceof MaxPool2d) out.push([]);
        else if (l instanceof Conv2d) out[out.length - 1].push(l);
      }
      return out;
    };
    const fcs = (m: Vgg) => m.classifier.layers.filter((l): l is Linear => l instanceof Linear);
    const fromStages = stages(trainedA), toStages = stages(deeper);
    const pairs: [Conv2d | Linear, Conv2d | Linear][] = [];
    for (let s = 0; s < fromStages.length && pairs.length < 4; s++) {
      for (let j = 0; j < fromStages[s].length && pairs.length < 4; j++) {
        const to = toStages[s]?.[j];
        if (!to) throw new ShapeError(`Vgg.initFromA: ${deeper.describe()} has no conv${s + 1}_${j + 1} for A's`);
        pairs.push([to, fromStages[s][j]]);
      }
    }
    fcs(deeper).forEach((l, i) => pairs.push([l, fcs(trainedA)[i]]));
    for (const [to, from] of pairs) {
      for (const key of ['weight', 'bias'] as const) {
        const a = to[key].shape, b = from[key].shape;
        if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
          throw new ShapeError(`Vgg.initFromA: ${to.describe()}.${key} has shape ${formatShape(a)} but A's ${from.describe()}.${key} has ${formatShape(b)}`);
        }
      }
    }
    for (const [to, from] of pairs) {
      for (const key of ['weight', 'bias'] as const) to[key].assign(from[key].data(), 'Vgg.initFromA');
    }
    return deeper;
  }

  /**
   * The logits [N, numClasses] of images [N, inputChannels, H, W]; a ValueError for a non-Tensor and a
   * ShapeError for a shape the net does not take (the FC layers fix H and W to the inputSize's).
   */
  forward(x: Tensor): Tensor {
    this.expectLive('forward');
    if (!(x instanceof Tensor)) throw new ValueError(`${this.describe()}.forward: expected a Tensor [N, C, H, W], got ${describeValue(x)}`);
    this.expectInputShape('forward', x.shape);
    return this.classifier.forward(this.flatten.forward(this.features.forward(x)));
  }

  /**
   * Throws a ShapeError naming the model's inputChannels and inputSize unless `s` is a batch
   * [N, C, H, W] whose last pool map is the one FC6 was sized for (an image of another size
   * would otherwise fail deep inside FC6, or, at 225 for 224, be taken as it is).
   */
  private expectInputShape(where: string, s: Shape): void {
    if (!Array.isArray(s)) throw new ValueError(`${this.describe()}.${where}: expected an input shape [N, C, H, W], got ${describeValue(s)}`);
    const o = this.options;
    const pools = VGG_CONFIGS[this.config].layers.filter((l) => l === 'M').length;
    const side = (n: number) => Math.floor(n / 2 ** pools);
    const fits = s.length === 4 && s[1] === o.inputChannels && side(s[2]) === side(o.inputSize) && side(s[3]) === side(o.inputSize);
    if (!fits) {
      throw new ShapeError(`${this.describe()}.${where}: expected an input [N, ${o.inputChannels}, ${o.inputSize}, ${o.inputSize}] ` +
        `(inputChannels ${o.inputChannels}, inputSize ${o.inputSize}), got ${formatShape(s)}` +
        (s.length === 3 ? '; add the batch dimension' : '') + (s.length === 4 && s[1] === o.inputChannels ? '; evaluate.dense takes other sizes' : ''));
    }
  }

  /**
   * The floating-point operations of one image's forward pass at inputSize, a multiply and
   * an add counted as two: 2·Cin·Cout·k²·H·W per convolution, 2·in·out per FC layer. ReLU,
   * max-pool, LRN, dropout and the soft-max add well under 1% and are left out. VGG-16
   * (D) at 224: 30.9 GFLOP, torchvision's 15.47 G multiply-adds.
   */
  forwardFlops(): number {
    let shape: number[] = [...this.defaultInputShape()];
    let flops = 0;
    for (const layer of this.features.layers) {
      if (layer instanceof Conv2d) flops += 2 * layer.inChannels * layer.outChannels * layer.kernelSize ** 2 * shape[2] * shape[3];
      shape = layer.outputShape(shape);
    }
    for (const layer of this.classifier.layers) if (layer instanceof Linear) flops += 2 * layer.inFeatures * layer.outFeatures;
    return flops;
  }

  outputShape(s: Shape): number[] {
    this.expectInputShape('outputShape', s);
    return this.classifier.outputShape(this.flatten.outputShape(this.features.outputShape(s)));
  }

  override defaultInputShape(): Shape {
    return [1, this.options.inputChannels, this.options.inputSize, this.options.inputSize];
  }

  override describe(): string {
    const o = this.options;
    return `VGG-${this.config} (${VGG_CONFIGS[this.config].weightLayers} weight layers` +
      `${o.widthMultiplier !== 1 ? `, width ×${o.widthMultiplier}` : ''}${o.fcWidth !== 4096 ? `, FC ${o.fcWidth}` : ''}, ${o.numClasses} classes)`;
  }
}
