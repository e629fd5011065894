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
 * Loading reads the whole file, checks it (lib/io/safetensors.ts), checks every name and
 * shape against the model, and only then assigns: a damaged file, or one that does not
 * fit, is a WeightsError (a mismatch lists every mismatched tensor), and the model keeps
 * every weight it had. The source is a path or the file's bytes (tests, browsers).
 *
 * Metadata: 'format', 'naming', for a Vgg 'vgg' (its configuration and options as JSON),
 * with the `preprocessing` option 'preprocessing' (JSON of lib/data/preprocess.ts's
 * object: the channel order, range, mean and std the weights expect), and with the
 * `classes` option 'classes' (a JSON array of the class names, class 0 first: what
 * scripts/torchvision_to_safetensors.py writes from torchvision's ImageNet categories).
 */
import type { Module } from '../nn/module.js';
import { parseSafetensors, readBytes, writeSafetensors } from './safetensors.js';
import type { WriteOptions } from './atomic.js';
import { loadParsed, weightsTensors, type LoadOptions, type LoadResult, type SaveOptions } from './model-parse.js';

export * from './model-parse.js';

/** Writes the model's weights; resolves to whether it wrote (false only with `ifChanged` and the same bytes there). */
export async function saveSafetensors(model: Module, path: string, options: SaveOptions & WriteOptions = {}): Promise<boolean> {
  const { tensors, metadata } = await weightsTensors(model, options, 'io.saveSafetensors');
  return writeSafetensors(path, tensors, metadata, { ifChanged: options.ifChanged });
}

/** Loads a safetensors file (a path, or its bytes) into `model`; see the module's comment. */
export async function loadSafetensors(model: Module, source: string | Uint8Array, options: LoadOptions = {}): Promise<LoadResult> {
  const where = 'io.loadSafetensors';
  const name = typeof source === 'string' ? source : options.name ?? 'the safetensors bytes';
  const bytes = typeof source === 'string' ? await readBytes(source, where) : source;
  return loadParsed(model, parseSafetensors(bytes, name, where), name, options.naming ?? 'verydeep', where);
}

