/**
 * Model weights in and out of safetensors files on disk (Node). The naming, the checks
 * before anything is assigned and the metadata are lib/io/model-parse.ts's (no Node module
 * there: the browser bundle uses it), re-exported here.
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

