/**
 * `verydeep export --format onnx --weights model.safetensors --out model.onnx`: a weights file
 * as an ONNX model (lib/io/onnx-export.ts), with the preprocessing its weights expect and
 * the class names (--labels, else the weights file's own) in the ONNX metadata.
 */
import { dirname, resolve } from 'node:path';
import { loadWeights } from '../io/weights.js';
import { saveOnnx } from '../io/onnx-export.js';
import { UsageError } from '../core/errors.js';
import { COMMON_OPTIONS, helpText, oneOf, runCommand, weightsOptions, type FlagSpec } from './args.js';
import { checkPaths, describePreprocessing, readLabels } from './common.js';

/** --batch: 'dynamic' or a batch size */
const batch = (v: string): 'dynamic' | number => {
  if (v === 'dynamic') return v;
  const n = Number(v);
  if (!v.trim() || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`verydeep export: --batch expects 'dynamic' or an integer ≥ 1, got '${v}'`);
  return n;
};

const { weights, labels, config, input, naming, preprocessing } = weightsOptions('export');
const EXPORT_OPTIONS: Record<string, FlagSpec> = {
  format: { type: 'string', parse: oneOf('export', 'format', ['onnx']), help: 'onnx: an ONNX model (opset 13) for onnxruntime and the rest' },
  weights,
  out: { type: 'string', help: 'the file to write (model.onnx)' },
  batch: { type: 'string', parse: batch, help: "the input's batch dimension: dynamic (the symbol N) or a fixed size (dynamic)" },
  softmax: { type: 'boolean', help: 'end with the soft-max: the output is probabilities rather than logits' },
  labels: { ...labels, help: 'class names, one per line, class 0 first, over the weights file\'s own: stored as the ONNX metadata \'classes\'' },
  config, input, naming, preprocessing,
  ...COMMON_OPTIONS,
};

export const exportHelp = (): string => helpText('Usage: verydeep export --format onnx --weights <file.safetensors> --out <model.onnx> [options]',
  'Writes the VGG of a weights file as an ONNX model: input \'input\' [N, C, H, W], output \'logits\' (or \'probabilities\'), ' +
  'the preprocessing its weights expect in the metadata \'preprocessing\'.', EXPORT_OPTIONS);

/** `verydeep export ...argv` (without the command); --help prints its help. */
export const exportCommand = (argv: string[]): Promise<number> => runCommand('export', argv, EXPORT_OPTIONS, exportHelp, false, exportModel);

async function exportModel(_: string[], f: Record<string, any>): Promise<number> {
  if (!f.format) throw new UsageError('verydeep export: --format is required (--format onnx)');
  if (!f.weights) throw new UsageError('verydeep export: --weights <file.safetensors> is required');
  if (!f.out) throw new UsageError('verydeep export: --out <model.onnx> is required');
  checkPaths('export', '--weights', [f.weights]);
  if (f.labels) checkPaths('export', '--labels', [f.labels]);
  checkPaths('export', '--out\'s folder', [dirname(resolve(f.out))], true);
  const { model, preprocessing: p, classes: fileClasses } = await loadWeights(f.weights, f);
  try {
    // --labels wins over the class names the weights file carries (as in classify)
    const classes = f.labels ? readLabels(f.labels, model.options.numClasses) : fileClasses;
    const b: 'dynamic' | number = f.batch ?? 'dynamic';
    await saveOnnx(model, f.out, { batch: b, softmax: Boolean(f.softmax), preprocessing: p, classes });
    const o = model.options, n = b === 'dynamic' ? 'N' : b;
    console.log(`wrote ${f.out}: ${model.describe()}, input [${n}, ${o.inputChannels}, ${o.inputSize}, ${o.inputSize}], ` +
      `output ${f.softmax ? 'probabilities' : 'logits'} [${n}, ${o.numClasses}]; preprocessing ${describePreprocessing(p)}`);
  } finally {
    model.dispose();
  }
  return 0;
}
