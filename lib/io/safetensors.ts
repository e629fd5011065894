/**
 * safetensors files on disk (Node): reading a file whole or its header alone, and writing
 * one atomically. The format, its checks and the bytes are lib/io/safetensors-bytes.ts's
 * (no Node module there: the browser bundle uses it), re-exported here.
 */
import { open, readFile } from 'node:fs/promises';
import { WeightsError } from '../core/errors.js';
import { writeFileAtomic, type WriteOptions } from './atomic.js';
import { encodeSafetensorsParts, headerLength, parseSafetensors, parseSafetensorsHeader, type NamedArray, type SafetensorsFile } from './safetensors-bytes.js';

export * from './safetensors-bytes.js';

/** Writes a safetensors file atomically; resolves to whether it wrote (see WriteOptions.ifChanged). */
export async function writeSafetensors(path: string, tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}, options: WriteOptions = {}): Promise<boolean> {
  return writeFileAtomic(path, encodeSafetensorsParts(tensors, metadata, 'io.writeSafetensors'), options);
}

/** A file's bytes; a file that cannot be read (missing, a folder, no permission) is a WeightsError naming it and the OS's reason. */
export async function readBytes(path: string, where: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new WeightsError(`${where}: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Reads and checks a safetensors file (F32 tensors only); a WeightsError naming the file when it
 * cannot be read or for any fault of its header or data.
 */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return parseSafetensors(await readBytes(path, 'io.readSafetensors'), path, 'io.readSafetensors');
}

/**
 * A safetensors file's '__metadata__' without its tensors: reads the 8-byte length and the
 * header only (through a file handle), checked as parseSafetensorsHeader checks them.
 */
export async function readSafetensorsMetadata(path: string, where = 'io.readSafetensorsMetadata'): Promise<Record<string, string>> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const readAt = async (length: number): Promise<Uint8Array> => {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await file.read(buf, got, length - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    };
    const prefix = await readAt(Math.min(8, size));
    const n = headerLength(prefix, size, (what) => new WeightsError(`${where}: ${path}: ${what}`));
    return parseSafetensorsHeader(await readAt(8 + n), path, where, size).metadata;
  } finally {
    await file.close();
  }
}

