/**
 * safetensors (Hugging Face's format): an 8-byte little-endian header length n, n bytes of
 * JSON header, then the raw little-endian tensor data. The header maps each tensor's name
 * to { dtype, shape, data_offsets: [begin, end] } (offsets into the data), plus an optional
 * "__metadata__" object of string → string. We write F32 only and read F32 (and F16, BF16
 * and F64, converted), pad the header with spaces to a multiple of 8 (lib/io/safetensors.ts writes the
 * file atomically).
 *
 * Reading checks the header as the format requires before it takes a byte of data, so a
 * damaged or hostile file is a WeightsError naming the file and the tensor, never weights
 * read from the wrong bytes: each offset pair is two integers with 0 ≤ begin ≤ end; each
 * tensor's byte length is product(shape) × the dtype's size; and the tensors, in the order
 * of their offsets, tile the data section exactly (no overlap, no gap, no trailing bytes).
 *
 * This file works on bytes alone (no Node module, no Buffer: TextEncoder, TextDecoder and
 * DataView), so that the browser bundle parses and encodes weights with it; reading and
 * writing files is lib/io/safetensors.ts's.
 */
import { ShapeError, ValueError, WeightsError } from '../core/errors.js';

/** One tensor of a safetensors file: its shape and float32 values, row-major. */
export interface NamedArray {
  /** the dimensions, outermost first */
  shape: number[];
  /** the values (F32 in the file) */
  data: Float32Array;
}

/**
 * The longest header we read: safetensors' own limit (100 MB). A real header is a few
 * hundred bytes per tensor; a larger length is damage, and parsing it would take the
 * memory of the JSON it claims.
 */
export const MAX_HEADER_BYTES = 100_000_000;

/** bytes per value of the dtypes we read */
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The pieces of a safetensors file, in order: the 8-byte header length, the header (JSON
 * padded with spaces to a multiple of 8 bytes) and each tensor's little-endian F32 bytes
 * (views of the arrays where the machine is little-endian: nothing is copied). `where` is
 * the function errors name.
 */
export function encodeSafetensorsParts(tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}, where = 'io.encodeSafetensors'): Uint8Array[] {
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new ValueError(`${where}: metadata '${key}' must be a string, got ${typeof value}`);
  }
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new ValueError(`${where}: a tensor cannot be named '__metadata__' (the header's metadata key)`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ShapeError(`${where}: tensor '${name}' has shape ${JSON.stringify(t.shape)}; expected an array of non-negative integers`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new ShapeError(`${where}: tensor '${name}' has shape [${t.shape.join(', ')}] but ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20); // spaces
  padded.set(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(padded.length), true);
  const bodies = Object.values(tensors).map((t) => {
    if (isLittleEndian) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const out = new Uint8Array(t.data.byteLength);
    const view = new DataView(out.buffer);
    t.data.forEach((v, i) => view.setFloat32(4 * i, v, true));
    return out;
  });
  return [prefix, padded, ...bodies];
}

/** A safetensors file's bytes, in one array (F32 tensors; see encodeSafetensorsParts). */
export function encodeSafetensors(tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const parts = encodeSafetensorsParts(tensors, metadata, 'io.encodeSafetensors');
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A safetensors file read: its tensors by name, in file order, and its string metadata. */
export interface SafetensorsFile {
  /** the tensors, by name */
  tensors: Map<string, NamedArray>;
  /** the header's `__metadata__` (empty when it has none) */
  metadata: Record<string, string>;
}

/** a tensor's header entry, checked */
interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** A safetensors header, checked: the JSON object, its string metadata, and where the data begins. */
export interface SafetensorsHeader {
  /** the header's JSON object: tensor entries (not yet checked) and '__metadata__' */
  header: Record<string, unknown>;
  /** the header's '__metadata__', checked to map strings to strings (empty when it has none) */
  metadata: Record<string, string>;
  /** the byte offset of the data section (8 + the header's length) */
  dataStart: number;
}

/** The header length an 8-byte prefix declares, checked against the limit and the file's size (a WeightsError from `fail`). */
export function headerLength(prefix: Uint8Array, total: number, fail: (what: string) => WeightsError): number {
  if (total < 8 || prefix.length < 8) throw fail(`too short (${total} bytes) to be a safetensors file, whose 8-byte header length comes first`);
  const declared = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) throw fail(`declares a ${declared}-byte header, over the ${MAX_HEADER_BYTES.toLocaleString('en-US')}-byte limit`);
  const n = Number(declared);
  if (n > total - 8) throw fail(`declares a ${n}-byte header but has ${total} bytes`);
  return n;
}

/**
 * The header stage of parseSafetensors: the 8-byte length (at most MAX_HEADER_BYTES, within
 * the file), then strict UTF-8 JSON, an object, whose '__metadata__' (if any) maps strings
 * to strings. Tensor entries are not checked here. `bytes` needs only the first 8 + n bytes;
 * `total` is the whole file's size (bytes.length when bytes is the whole file).
 */
export function parseSafetensorsHeader(bytes: Uint8Array, name = 'safetensors data', where = 'io.parseSafetensorsHeader', total = bytes.length): SafetensorsHeader {
  const fail = (what: string) => new WeightsError(`${where}: ${name}: ${what}`);
  const n = headerLength(bytes, total, fail);
  if (n > bytes.length - 8) throw fail(`declares a ${n}-byte header but only ${bytes.length - 8} bytes of it were read`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw fail(`has a malformed header (not UTF-8 JSON): ${(e as Error).message}`);
  }
  if (!isRecord(header)) throw fail(`has a header of ${describe(header)}; expected a JSON object of tensors`);
  const metadata = header.__metadata__ ?? {};
  if (!isRecord(metadata)) throw fail(`has '__metadata__' of ${describe(metadata)}; expected an object of strings`);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw fail(`has metadata '${key}' of ${describe(value)}; expected a string`);
  }
  return { header, metadata: metadata as Record<string, string>, dataStart: 8 + n };
}

/**
 * The tensors and metadata of a safetensors file's bytes, every value copied out (later
 * changes to `bytes` change nothing). `name` is what errors call the bytes (a path), and
 * `where` the function they name.
 */
export function parseSafetensors(bytes: Uint8Array, name = 'safetensors data', where = 'io.parseSafetensors'): SafetensorsFile {
  const fail = (what: string) => new WeightsError(`${where}: ${name}: ${what}`);
  const { header, metadata, dataStart } = parseSafetensorsHeader(bytes, name, where);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataBytes = bytes.length - dataStart;
  const entries = Object.entries(header).filter(([key]) => key !== '__metadata__').map(([key, info]) => checkEntry(key, info, dataBytes, fail));
  checkTiling(entries, dataBytes, fail);

  const tensors = new Map<string, NamedArray>();
  for (const { name: key, dtype, shape, begin, end } of entries) {
    const count = (end - begin) / DTYPE_BYTES[dtype];
    const data = new Float32Array(count);
    const at = dataStart + begin;
    if (dtype === 'F32' && isLittleEndian) new Uint8Array(data.buffer).set(bytes.subarray(at, at + 4 * count));
    else if (dtype === 'F32') for (let i = 0; i < count; i++) data[i] = view.getFloat32(at + 4 * i, true);
    else if (dtype === 'F64') for (let i = 0; i < count; i++) data[i] = view.getFloat64(at + 8 * i, true);
    else if (dtype === 'F16') for (let i = 0; i < count; i++) data[i] = halfToFloat(view.getUint16(at + 2 * i, true));
    else for (let i = 0, bits = new Uint32Array(data.buffer); i < count; i++) bits[i] = view.getUint16(at + 2 * i, true) << 16; // BF16: float32's top half
    tensors.set(key, { shape, data });
  }
  return { tensors, metadata };
}

/** One tensor's { dtype, shape, data_offsets }, checked on its own. */
function checkEntry(key: string, info: unknown, dataBytes: number, fail: (what: string) => WeightsError): Entry {
  const tensor = `tensor '${key}'`;
  if (!isRecord(info)) throw fail(`${tensor} is ${describe(info)}; expected an object { dtype, shape, data_offsets }`);
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.hasOwn(info, field)) throw fail(`${tensor} has no ${field}`);
  }
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) throw fail(`${tensor} has dtype ${JSON.stringify(dtype)}; only F32, F16, BF16 and F64 are read`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail(`${tensor} has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw fail(`${tensor} has data_offsets ${JSON.stringify(offsets)}; expected two non-negative integers [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw fail(`${tensor} has data offsets [${begin}, ${end}] that end before they begin`);
  if (end > dataBytes) throw fail(`${tensor} has data offsets [${begin}, ${end}] past the end of the ${dataBytes}-byte data section: the file is truncated, or its header is wrong`);
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  if (count * DTYPE_BYTES[dtype] !== end - begin) {
    throw fail(`${tensor} [${shape.join(', ')}] ${dtype} needs ${count * DTYPE_BYTES[dtype]} bytes, but its data offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name: key, dtype, shape: shape as number[], begin, end };
}

/** The tensors, in the order of their offsets, must cover the data section exactly once. */
function checkTiling(entries: Entry[], dataBytes: number, fail: (what: string) => WeightsError): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let reached = 0;
  let last: Entry | undefined;
  for (const e of sorted) {
    const offsets = `tensor '${e.name}' has data offsets [${e.begin}, ${e.end}]`;
    if (!last && e.begin > 0) throw fail(`${offsets}, leaving the first ${e.begin} bytes of the data section unused (its first tensor must begin at 0)`);
    if (last && e.begin < reached) throw fail(`${offsets} that overlap tensor '${last.name}' [${last.begin}, ${last.end}]`);
    if (last && e.begin > reached) throw fail(`${offsets}, leaving a ${e.begin - reached}-byte gap after tensor '${last.name}' [${last.begin}, ${last.end}]`);
    reached = e.end;
    last = e;
  }
  if (reached < dataBytes) {
    throw fail(`has ${dataBytes - reached} bytes after ${last ? `its last tensor, '${last.name}' [${last.begin}, ${last.end}]` : 'its header, which lists no tensor'}, at the end of its ${dataBytes}-byte data section`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** a JSON value as an error shows it: its kind and its text, cut at 40 characters */
function describe(v: unknown): string {
  if (v === null) return 'null';
  const text = JSON.stringify(v) ?? String(v);
  const kind = Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
  return `${kind} ${text.length > 40 ? text.slice(0, 40) + '…' : text}`;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
