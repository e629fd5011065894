/**
 * sharp (image decoding and encoding, with libvips inside its npm package), loaded on
 * first use. Browser-safe: it imports no Node module (sharp itself is a dynamic import), so
 * viz can encode PNGs through it without pulling lib/data/images.ts's file reading into the
 * browser bundle.
 */
import { DataError } from '../core/errors.js';

/** The part of sharp's API that verydeep and its tests use (its own typings are not needed to build). */
export interface SharpPipeline {
  /** rotates and mirrors the image as its EXIF orientation says */
  autoOrient(): SharpPipeline;
  /** converts to a colour space, e.g. 'srgb' (greyscale and CMYK become three channels) */
  toColourspace(space: string): SharpPipeline;
  /** drops the alpha channel, if any */
  removeAlpha(): SharpPipeline;
  /** output uncompressed pixels, interleaved (p[y][x][c]) */
  raw(): SharpPipeline;
  /** output PNG */
  png(): SharpPipeline;
  /** output JPEG, at `quality` 1–100 (sharp's default 80) */
  jpeg(options?: { quality?: number }): SharpPipeline;
  /** keeps the metadata in the output, with the EXIF `orientation` (1–8) given */
  withMetadata(options: { orientation?: number }): SharpPipeline;
  /** writes the output to a file (its format from the pipeline, or the file name's extension) */
  toFile(path: string): Promise<unknown>;
  /** the output's bytes, with its size and pixel format */
  toBuffer(options: { resolveWithObject: true }): Promise<{
    /** the encoded file, or with raw() the pixels, row-major and interleaved */
    data: Buffer;
    /** what the output is */
    info: {
      /** in pixels */
      width: number;
      /** in pixels */
      height: number;
      /** per pixel: 3 for RGB, 4 with alpha, 1 for grey */
      channels: number;
      /** bits per channel of raw output: 'uchar' is 8 */
      depth?: string;
    };
  }>;
}
/** sharp's entry point: a pipeline for an image file (a path), an encoded image's bytes, or raw interleaved pixels of the size in `options.raw`. */
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
