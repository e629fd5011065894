/**
 * sharp (image decoding and encoding, with libvips inside its npm package), loaded on
 * first use. Browser-safe: it imports no Node module (sharp itself is a dynamic import), so
 * viz can encode PNGs through it without pulling lib/data/images.ts's file reading into the
 * browser bundle.
 */
import { DataError } from '../core/errors.js';

/** The part of sharp's API that verydeep and its tests use (its own typings are not needed to build). */
export interface SharpPipeline {
  autoOrient(): SharpPipeline;
  toColourspace(space: string): SharpPipeline;
  removeAlpha(): SharpPipeline;
  raw(): SharpPipeline;
  png(): SharpPipeline;
  jpeg(options?: { quality?: number }): SharpPipeline;
  withMetadata(options: { orientation?: number }): SharpPipeline;
  toFile(path: string): Promise<unknown>;
  toBuffer(options: { resolveWithObject: true }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number; depth?: string } }>;
}
export type Sharp = (input: string | Uint8Array, options?: { raw?: { width: number; height: number; channels: number } }) => SharpPipeline;

let sharpModule: Promise<Sharp> | null = null;

/** sharp, loaded once; throws, naming the package, where it is not installed or does not load. */
export function loadSharp(): Promise<Sharp> {
  const name = 'sharp'; // a variable: tsc does not need sharp's typings to build
  sharpModule ??= import(name).then((m: { default: Sharp }) => m.default, (e: Error) => {
    sharpModule = null;
    throw new DataError(`verydeep: decoding images needs the npm package 'sharp' (an optional dependency of verydeep), ` +
      `which is not installed or does not load here; install it with \`npm install sharp@0.34.5\`. (${e.message.split('\n')[0]})`);
  });
  return sharpModule;
}
