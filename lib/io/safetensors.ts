/**
 * safetensors (Hugging Face's format): an 8-byte little-endian header length n, n bytes of
 * JSON header, then the raw little-endian tensor data. The header maps each tensor's name
 * to { dtype, shape, data_offsets: [begin, end] } (offsets into the data), plus an optional
 * "__metadata__" object of string → string. We write F32 only and read F32 (and F16/F64,
 * converted), pad the header with spaces to a multiple of 8, and write atomically.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic.js';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export async function writeSafetensors(path: string, tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): Promise<void> {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`writeSafetensors: tensor '${name}' has shape [${t.shape.join(', ')}] but ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(Buffer.byteLength(json)), true);
  const bodies = Object.values(tensors).map((t) => {
    if (isLittleEndian) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const out = new Uint8Array(t.data.byteLength);
    const view = new DataView(out.buffer);
    t.data.forEach((v, i) => view.setFloat32(4 * i, v, true));
    return out;
  });
  await writeFileAtomic(path, [prefix, json, ...bodies]);
}

export interface SafetensorsFile {
  tensors: Map<string, NamedArray>;
  metadata: Record<string, string>;
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`readSafetensors: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseSafetensors(bytes, path);
}

export function parseSafetensors(bytes: Uint8Array, name = 'safetensors data'): SafetensorsFile {
  if (bytes.length < 8) throw new Error(`readSafetensors: ${name} is too short (${bytes.length} bytes) to be a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.length - 8) throw new Error(`readSafetensors: ${name} declares a ${n}-byte header but has ${bytes.length} bytes`);
  let header: Record<string, any>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  } catch (e) {
    throw new Error(`readSafetensors: ${name} has a malformed JSON header: ${(e as Error).message}`);
  }
  const dataStart = 8 + n;
  const tensors = new Map<string, NamedArray>();
  for (const [key, info] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const { dtype, shape, data_offsets: [begin, end] } = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const count = shape.reduce((a, b) => a * b, 1);
    const width = { F32: 4, F16: 2, F64: 8 }[dtype];
    if (!width) throw new Error(`readSafetensors: ${name}: tensor '${key}' has dtype ${dtype}; only F32, F16 and F64 are read`);
    if (end - begin !== count * width || dataStart + end > bytes.length) {
      throw new Error(`readSafetensors: ${name}: tensor '${key}' [${shape.join(', ')}] ${dtype} has data offsets [${begin}, ${end}] that do not fit`);
    }
    const data = new Float32Array(count);
    const at = dataStart + begin;
    if (dtype === 'F32' && isLittleEndian) {
      new Uint8Array(data.buffer).set(bytes.subarray(at, at + 4 * count));
      tensors.set(key, { shape, data });
      continue;
    }
    for (let i = 0; i < count; i++) {
      data[i] = dtype === 'F32' ? view.getFloat32(at + 4 * i, true) : dtype === 'F64' ? view.getFloat64(at + 8 * i, true) : halfToFloat(view.getUint16(at + 2 * i, true));
    }
    tensors.set(key, { shape, data });
  }
  return { tensors, metadata: (header.__metadata__ ?? {}) as Record<string, string> };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
