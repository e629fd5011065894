/**
 * A VGG built from a weights file: the configuration and options the file says it holds
 * (verydeep's 'vgg' metadata, else the shapes of a torchvision state_dict), then its
 * weights loaded, and the preprocessing they expect.
 */
import { Vgg, type ConfigName, type VggOptions } from '../models/vgg.js';
import { TORCHVISION_PREPROCESSING, CAFFE_VGG_PREPROCESSING, type Preprocessing } from '../data/preprocess.js';
import { readSafetensors, type NamedArray } from './safetensors.js';
import { loadSafetensors, type Naming } from './model.js';

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
export function vggFromTorchvisionShapes(tensors: Map<string, NamedArray>, path: string): { config: ConfigName } & VggOptions {
  const weights = (prefix: string, rank: number) => [...tensors]
    .filter(([name, t]) => new RegExp(`^${prefix}\\.\\d+\\.weight$`).test(name) && t.shape.length === rank)
    .map(([name, t]) => ({ index: Number(name.split('.')[1]), shape: t.shape }))
    .sort((a, b) => a.index - b.index);
  const convs = weights('features', 4), fcs = weights('classifier', 2);
  const config = CONFIG_BY_CONVS[convs.length];
  const side = config && fcs.length === 3 ? Math.sqrt(fcs[0].shape[1] / convs[convs.length - 1].shape[0]) : NaN;
  if (!Number.isInteger(side)) {
    throw new Error(`${path} has no 'vgg' metadata (verydeep's io.saveSafetensors writes it) and is not a torchvision VGG state_dict ` +
      `(vgg11, 13, 16, 19: 8, 10, 13 or 16 features.N.weight convs and classifier.0/3/6.weight): it has ${convs.length} conv and ${fcs.length} classifier weights`);
  }
  return { config, widthMultiplier: convs[0].shape[0] / 64, inputChannels: convs[0].shape[1], fcWidth: fcs[0].shape[0], numClasses: fcs[2].shape[0], inputSize: 32 * side };
}

/** The configuration, options and naming a weights file says it holds (its metadata, else its shapes). */
export async function describeWeights(path: string): Promise<{ config: ConfigName; options: VggOptions; metadata: Record<string, string> }> {
  const { metadata, tensors } = await readSafetensors(path);
  if (!metadata.vgg) {
    const { config, ...options } = vggFromTorchvisionShapes(tensors, path);
    return { config, options, metadata };
  }
  try {
    const { config, ...options } = JSON.parse(metadata.vgg) as { config: ConfigName } & VggOptions;
    return { config, options, metadata };
  } catch (e) {
    throw new Error(`${path}: the 'vgg' metadata is not JSON: ${(e as Error).message}`);
  }
}

export interface WeightsOptions {
  config?: string;
  input?: number;
  naming?: Naming;
  /** 'torchvision' or 'caffe', over what the file says */
  preprocessing?: string;
  /** told when the file does not say which preprocessing it needs (console.error) */
  note?: (line: string) => void;
}

/**
 * A VGG built as the weights file says (flags override) with its weights loaded, and the
 * preprocessing they expect: the flag's, else the file's, else torchvision's (with a note).
 */
export async function loadWeights(path: string, o: WeightsOptions = {}): Promise<{ model: Vgg; preprocessing: Preprocessing }> {
  const { config, options, metadata } = await describeWeights(path);
  const model = Vgg.config(o.config ?? config, { ...options, ...(o.input !== undefined && { inputSize: o.input }) });
  const naming = o.naming ?? (metadata.naming as Naming | undefined) ?? (metadata.vgg ? 'verydeep' : 'torchvision');
  try {
    const loaded = await loadSafetensors(model, path, { naming });
    if (o.preprocessing) return { model, preprocessing: PREPROCESSING_PRESETS[o.preprocessing] };
    if (loaded.preprocessing) return { model, preprocessing: loaded.preprocessing };
    (o.note ?? ((line) => console.error(line)))(`note: ${path} does not say which preprocessing its weights expect; using torchvision's ` +
      '(RGB, 0-1, ImageNet mean and std); --preprocessing caffe for the paper\'s Caffe weights');
    return { model, preprocessing: TORCHVISION_PREPROCESSING };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

