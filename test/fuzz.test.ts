/**
 * Tests: weight files (issue 12).
 *  1. one test per defect the header checks fix: negative, overlapping and fractional
 *     offsets, a null header, a tensor without offsets, gaps and trailing bytes, a huge
 *     header length, bad metadata, unreadable files; each a WeightsError naming the file
 *     and the tensor, the model untouched;
 *  2. loadWeights checks the model a file claims before building it (a 200-byte file
 *     claiming VGG-E), and Vgg.parameterShapes is what the constructor builds;
 *  3. durability: writeFileAtomic's temporaries of killed writes are removed, a failed
 *     write is a VerydeepError with the OS error as its cause;
 *  4. the fuzz: 10,000 mutations of a valid file (fast-check). Each loads exactly what an
 *     independent reading of the format says the bytes hold, or is a WeightsError that
 *     leaves the model bit for bit as it was. Anything else fails.
 */
import test from 'tape';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setBackend } from '../lib/core/backend.js';
import { checkNumerics, memory } from '../lib/core/tensor.js';
import { DisposedError, VerydeepError, WeightsError } from '../lib/core/errors.js';
import { Conv2d, Flatten, Linear, ReLU, Sequential, type Module } from '../lib/nn/index.js';
import { Vgg, VGG_CONFIGS, type ConfigName } from '../lib/models/vgg.js';
import * as io from '../lib/io/index.js';
import { rejectsNamed } from './helpers.js';

const NAME = 'fuzz.safetensors';
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

/** a safetensors file: the 8-byte length (the header's, unless given), the JSON, the data */
function encode(header: unknown, data: Uint8Array, length?: bigint): Uint8Array {
  const json = Buffer.from(JSON.stringify(header) ?? String(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** a small model: a 3×3 conv 2 → 3 and a linear 12 → 4 (parameters '0.*' and '3.*', 109 values) */
const smallModel = () => new Sequential(new Conv2d(2, 3, 3), new ReLU(), new Flatten(), new Linear(12, 4));

/** a valid file for `model`'s parameters, holding values 0.25·i − 7 (none the model's) */
function validFile(model: Module, metadata: Record<string, string> = { format: 'fuzz' }): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const values: number[] = [];
  for (const [name, p] of model.namedParameters()) {
    header[name] = { dtype: 'F32', shape: [...p.shape], data_offsets: [4 * values.length, 4 * (values.length + p.size)] };
    for (let i = 0; i < p.size; i++) values.push(0.25 * values.length - 7);
  }
  return encode(header, new Uint8Array(Float32Array.from(values).buffer));
}

/** every parameter's float32 bits */
async function bitsOf(model: Module): Promise<Map<string, Uint32Array>> {
  const out = new Map<string, Uint32Array>();
  for (const [name, p] of model.namedParameters()) out.set(name, new Uint32Array((await p.data()).buffer));
  return out;
}

const sameBits = (a: Map<string, Uint32Array>, b: Map<string, Uint32Array>) =>
  a.size === b.size && [...a].every(([name, v]) => b.get(name)?.length === v.length && v.every((x, i) => x === b.get(name)![i]));

/** `got` is `expected`, bit for bit, but where the oracle has 0x7fc00000 (a NaN converted from F16 or F64), any NaN */
const holds = (got: Map<string, Uint32Array>, expected: Map<string, Uint32Array>) => [...expected].every(([name, want]) => {
  const bits = got.get(name)!;
  return bits.length === want.length && want.every((w, i) => w === bits[i] || (w === 0x7fc00000 && (bits[i] & 0x7fffffff) > 0x7f800000));
});

/** a file's header and data section, or undefined where its length prefix or JSON does not parse */
function split(bytes: Uint8Array): { header: any; data: Uint8Array } | undefined {
  if (bytes.length < 8) return undefined;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (n > bytes.length - 8) return undefined;
  try {
    return { header: JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')), data: bytes.slice(8 + n) };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// the oracle: the format, read independently of lib/io/safetensors.ts

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** one stored value as float32 bits: F32 as stored, the others converted (any NaN as 0x7fc00000) */
function valueBits(view: DataView, at: number, dtype: string): number {
  if (dtype === 'F32') return view.getUint32(at, true);
  let v: number;
  if (dtype === 'F64') v = view.getFloat64(at, true);
  else if (dtype === 'BF16') return view.getUint16(at, true) * 65536;
  else {
    const h = view.getUint16(at, true), e = (h >> 10) & 31, f = h & 1023;
    v = (h >> 15 ? -1 : 1) * (e === 31 ? (f ? NaN : Infinity) : e === 0 ? f * 2 ** -24 : (1024 + f) * 2 ** (e - 25));
  }
  return Number.isNaN(v) ? 0x7fc00000 : new Uint32Array(Float32Array.of(v).buffer)[0];
}

/**
 * What loading `bytes` into a model of `params` must give: each parameter's float32 bits,
 * or undefined where the load must fail (a file that breaks the format, does not fit the
 * model, or, with checkNumerics on, holds a NaN or an infinity).
 */
function oracle(bytes: Uint8Array, params: [string, readonly number[]][]): Map<string, Uint32Array> | undefined {
  if (bytes.length < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > 100_000_000n || Number(n) > bytes.length - 8) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + Number(n))));
  } catch {
    return undefined;
  }
  if (!isObject(header)) return undefined;
  const meta = header.__metadata__;
  if (meta !== undefined && meta !== null && !(isObject(meta) && Object.values(meta).every((v) => typeof v === 'string'))) return undefined;
  const start = 8 + Number(n), size = bytes.length - start;
  const owner = new Int32Array(size).fill(-1); // which tensor covers each data byte
  const tensors = new Map<string, { dtype: string; shape: number[]; begin: number; end: number }>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!isObject(info) || !['dtype', 'shape', 'data_offsets'].every((k) => Object.hasOwn(info, k))) return undefined;
    const { dtype, shape, data_offsets: offsets } = info as { dtype: unknown; shape: unknown; data_offsets: unknown };
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) return undefined;
    if (!Array.isArray(shape) || !shape.every(isIndex) || !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) return undefined;
    const [begin, end] = offsets as number[];
    if (begin > end || end > size || shape.reduce((a: number, b: number) => a * b, 1) * DTYPE_BYTES[dtype] !== end - begin) return undefined;
    for (let i = begin; i < end; i++) {
      if (owner[i] >= 0) return undefined; // overlap
      owner[i] = tensors.size;
    }
    tensors.set(name, { dtype, shape, begin, end });
  }
  if (owner.some((o) => o < 0)) return undefined; // a gap or trailing bytes
  for (const t of tensors.values()) {
    // an empty tensor may sit between two others, not inside one
    if (t.begin === t.end && t.begin > 0 && t.begin < size && owner[t.begin - 1] === owner[t.begin]) return undefined;
  }
  if (tensors.size !== params.length) return undefined;
  const out = new Map<string, Uint32Array>();
  for (const [name, shape] of params) {
    const t = tensors.get(name);
    if (!t || t.shape.join() !== shape.join() || t.shape.length !== shape.length) return undefined;
    const width = DTYPE_BYTES[t.dtype];
    const bits = Uint32Array.from({ length: (t.end - t.begin) / width }, (_, i) => valueBits(view, start + t.begin + width * i, t.dtype));
    if (checkNumerics() && bits.some((b) => (b & 0x7f800000) === 0x7f800000)) return undefined;
    out.set(name, bits);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// mutations

type Mutation = (bytes: Uint8Array) => Uint8Array;

/** `apply`, shown as `what` in fast-check's counterexamples */
const labelled = (what: string, apply: Mutation): Mutation => Object.assign(apply, { [fc.toStringMethod]: () => what });
const show = (v: unknown) => JSON.stringify(v) ?? String(v);

/** an edit of the parsed header, the data kept (a no-op where the header does not parse) */
const jsonEdit = (what: string, edit: (header: any, data: Uint8Array) => unknown): Mutation => labelled(what, (bytes) => {
  const parts = split(bytes);
  if (!parts) return bytes;
  const header = structuredClone(parts.header);
  const replaced = edit(header, parts.data);
  return encode(replaced === undefined ? header : replaced, parts.data);
});

/** the pick-th tensor's name of a header, if it has tensors */
const tensorName = (header: any, pick: number): string | undefined => {
  const names = isObject(header) ? Object.keys(header).filter((k) => k !== '__metadata__') : [];
  return names.length ? names[pick % names.length] : undefined;
};
const onTensor = (what: string, pick: number, edit: (info: any) => void) => jsonEdit(`tensor #${pick}: ${what}`, (h) => {
  const name = tensorName(h, pick);
  if (name !== undefined && isObject(h[name])) edit(h[name]);
});
const byteAt = (what: string, at: (length: number) => number, v: number) => labelled(`${what} = ${v}`, (b) => {
  const c = b.slice();
  if (c.length) c[at(c.length)] = v;
  return c;
});

const offsetValue = fc.oneof(fc.integer({ min: -64, max: 600 }), fc.double(), fc.constantFrom(-1, -4, 0.5, 2 ** 53, 1e300, '8', null, [0]));
const jsonValue = fc.constantFrom(null, 5, -1, 'x', [], {}, true, { a: 1 }, { a: 'b' }, [0, 4]);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // bytes: anywhere, in the data (the file still loads), in the 8-byte prefix; truncated; appended
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]) => byteAt(`byte ${at} mod length`, (n) => at % n, v)),
  { weight: 12, arbitrary: fc.tuple(fc.nat(435), fc.integer({ min: 0, max: 255 })).map(([at, v]) => byteAt(`byte ${at} from the end`, (n) => Math.max(0, n - 1 - at), v)) },
  fc.tuple(fc.nat(7), fc.integer({ min: 0, max: 255 })).map(([at, v]) => byteAt(`prefix byte ${at}`, () => at, v)),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => labelled(`prefix = ${n}`, (b) => {
    const c = b.slice();
    if (c.length >= 8) new DataView(c.buffer).setBigUint64(0, n, true);
    return c;
  })),
  fc.integer({ min: -16, max: 16 }).map((d) => labelled(`prefix + ${d}`, (b) => {
    const c = b.slice();
    if (c.length >= 8) new DataView(c.buffer).setBigUint64(0, BigInt.asUintN(64, new DataView(c.buffer).getBigUint64(0, true) + BigInt(d)), true);
    return c;
  })),
  fc.nat().map((k) => labelled(`truncated to ${k} mod length`, (b) => b.slice(0, k % Math.max(1, b.length)))),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((tail) => labelled(`${tail.length} bytes appended`, (b) => Uint8Array.from([...b, ...tail]))),
  // offsets: set, shifted (overlaps and gaps), one end moved, swapped between tensors
  fc.tuple(fc.nat(), offsetValue, offsetValue).map(([t, a, e]) => onTensor(`data_offsets = [${show(a)}, ${show(e)}]`, t, (info) => { info.data_offsets = [a, e]; })),
  fc.tuple(fc.nat(), fc.integer({ min: -12, max: 12 })).map(([t, d]) => onTensor(`data_offsets + ${d}`, t, (info) => { info.data_offsets = info.data_offsets?.map?.((o: number) => o + d); })),
  fc.tuple(fc.nat(), fc.nat(1), fc.integer({ min: -8, max: 8 })).map(([t, i, d]) => onTensor(`data_offsets[${i}] + ${d}`, t, (info) => { if (Array.isArray(info.data_offsets)) info.data_offsets[i] += d; })),
  fc.tuple(fc.nat(), fc.nat()).map(([t, u]) => jsonEdit(`data_offsets of tensors #${t} and #${u} swapped`, (h) => {
    const [a, b] = [tensorName(h, t), tensorName(h, u)];
    if (a !== undefined && b !== undefined && isObject(h[a]) && isObject(h[b])) [h[a].data_offsets, h[b].data_offsets] = [h[b].data_offsets, h[a].data_offsets];
  })),
  // the data blocks in another order, the offsets rewritten to match: still valid
  { weight: 4, arbitrary: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }).map((keys) => jsonEdit(`data blocks reordered by ${show(keys)}`, (h, data) => {
    const names = isObject(h) ? Object.keys(h).filter((k) => k !== '__metadata__') : [];
    if (!names.every((k) => isObject(h[k]) && Array.isArray(h[k].data_offsets) && h[k].data_offsets.every(isIndex) && h[k].data_offsets[1] <= data.length)) return;
    const blocks = names.map((k, i) => ({ k, key: keys[i % keys.length], bytes: data.slice(h[k].data_offsets[0], h[k].data_offsets[1]) })).sort((a, b) => a.key - b.key);
    let at = 0;
    for (const { k, bytes } of blocks) {
      if (at < data.length) data.set(bytes.subarray(0, data.length - at), at);
      h[k].data_offsets = [at, (at += bytes.length)];
    }
  })) },
  // dtypes, shapes, missing fields, whole entries
  fc.tuple(fc.nat(), fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'U8', 'f32', '', 7, null)).map(([t, d]) => onTensor(`dtype = ${show(d)}`, t, (info) => { info.dtype = d; })),
  fc.tuple(fc.nat(), fc.array(fc.oneof(fc.integer({ min: -2, max: 60 }), fc.constantFrom(1.5, '3', null)), { maxLength: 4 })).map(([t, sh]) => onTensor(`shape = ${show(sh)}`, t, (info) => { info.shape = sh; })),
  fc.tuple(fc.nat(), fc.constantFrom('dtype', 'shape', 'data_offsets')).map(([t, f]) => onTensor(`no ${f}`, t, (info) => { delete info[f]; })),
  fc.tuple(fc.nat(), jsonValue).map(([t, v]) => jsonEdit(`tensor #${t} = ${show(v)}`, (h) => { const k = tensorName(h, t); if (k !== undefined) h[k] = v; })),
  fc.nat().map((t) => jsonEdit(`tensor #${t} removed`, (h) => { const k = tensorName(h, t); if (k !== undefined) delete h[k]; })),
  fc.tuple(fc.nat(), fc.constantFrom('0.Weight', '9.bias', '', '__proto__', 'constructor')).map(([t, to]) => jsonEdit(`tensor #${t} renamed ${show(to)}`, (h) => {
    const k = tensorName(h, t);
    if (k === undefined) return;
    Object.defineProperty(h, to, { value: h[k], enumerable: true, configurable: true, writable: true });
    if (k !== to) delete h[k];
  })),
  fc.tuple(fc.constantFrom('extra', '0.bias'), offsetValue).map(([k, o]) => jsonEdit(`an empty tensor ${k} at ${show(o)}`, (h) => { if (isObject(h)) h[k] = { dtype: 'F32', shape: [0], data_offsets: [o, o] }; })),
  // the header and its metadata as other JSON
  jsonValue.map((v) => jsonEdit(`header = ${show(v)}`, () => v)),
  jsonValue.map((v) => jsonEdit(`__metadata__ = ${show(v)}`, (h) => { if (isObject(h)) h.__metadata__ = v; })),
);

// ---------------------------------------------------------------------------------------

export function registerFuzzTests(): void {
  test('weights: each header defect is a WeightsError naming the file and the tensor, and nothing is loaded', async (t) => {
    await setBackend('cpu');
    const model = smallModel();
    const before = await bitsOf(model);
    const good = validFile(model);
    const { header, data } = split(good)!;
    const edited = (edit: (h: any) => unknown) => { const h = structuredClone(header); return encode(edit(h) ?? h, data); };
    const load = (bytes: Uint8Array) => () => io.loadSafetensors(model, bytes, { name: NAME });
    const named = [/io\.loadSafetensors/, /fuzz\.safetensors/];

    await rejectsNamed(t, load(edited((h) => { h['0.bias'].data_offsets = [-8, 4]; })), WeightsError, [...named, /tensor '0\.bias'/, /data_offsets \[-8,4\]/, /two non-negative integers/],
      'a negative offset (it used to read the header\'s JSON as weights)');
    await rejectsNamed(t, load(edited((h) => { h['0.bias'].data_offsets = [212.5, 224.5]; })), WeightsError, [...named, /tensor '0\.bias'/, /212\.5/], 'fractional offsets');
    await rejectsNamed(t, load(edited((h) => { h['0.bias'].data_offsets = [0, 12]; })), WeightsError, [...named, /tensor '0\.weight' has data offsets \[0, 216\] that overlap tensor '0\.bias' \[0, 12\]/],
      'a tensor overlapping another');
    await rejectsNamed(t, load(encode(null, data)), WeightsError, [...named, /header of null/], 'a null header');
    await rejectsNamed(t, load(encode([], data)), WeightsError, [...named, /header of an array/], 'an array header');
    await rejectsNamed(t, load(edited((h) => { delete h['3.weight'].data_offsets; })), WeightsError, [...named, /tensor '3\.weight' has no data_offsets/], 'a tensor without offsets');
    await rejectsNamed(t, load(edited((h) => { h['3.bias'] = null; })), WeightsError, [...named, /tensor '3\.bias' is null/], 'a tensor that is null');
    await rejectsNamed(t, load(edited((h) => { h['3.bias'].dtype = 'I64'; })), WeightsError, [...named, /tensor '3\.bias' has dtype "I64"/], 'a dtype we do not read');
    await rejectsNamed(t, load(edited((h) => { h['3.bias'].shape = [2, -2]; })), WeightsError, [...named, /tensor '3\.bias' has shape \[2,-2\]/], 'a negative dimension');
    await rejectsNamed(t, load(edited((h) => { h['3.bias'].shape = [5]; })), WeightsError, [...named, /tensor '3\.bias' \[5\] F32 needs 20 bytes, but its data offsets \[420, 436\] hold 16/], 'a shape its bytes do not fill');
    const gap = edited((h) => { h['3.bias'].data_offsets = [424, 440]; });
    await rejectsNamed(t, load(Uint8Array.from([...gap, 0, 0, 0, 0])), WeightsError, [...named, /tensor '3\.bias' has data offsets \[424, 440\], leaving a 4-byte gap after tensor '3\.weight'/], 'a gap between tensors');
    await rejectsNamed(t, load(Uint8Array.from([...good, 1, 2, 3])), WeightsError, [...named, /3 bytes after its last tensor, '3\.bias'/], 'trailing bytes');
    await rejectsNamed(t, load(good.subarray(0, good.length - 2)), WeightsError, [...named, /tensor '3\.bias' has data offsets \[420, 436\] past the end of the 434-byte data section/], 'a truncated file');
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    await rejectsNamed(t, load(huge), WeightsError, [...named, /declares a 9223372036854775808-byte header, over the 100,000,000-byte limit/], 'a huge header length');
    await rejectsNamed(t, load(encode(header, data, 10n ** 8n - 1n)), WeightsError, [...named, /declares a 99999999-byte header but has/], 'a header length past the end');
    await rejectsNamed(t, load(edited((h) => { h.__metadata__ = { format: 1 }; })), WeightsError, [...named, /metadata 'format' of a number 1; expected a string/], 'metadata that is not a string');
    await rejectsNamed(t, load(edited((h) => { h.__metadata__ = ['x']; })), WeightsError, [...named, /'__metadata__' of an array/], 'metadata that is not an object');
    const latin1 = good.slice();
    latin1[good.indexOf(0x66 /* the f of "format" */)] = 0xff;
    await rejectsNamed(t, load(latin1), WeightsError, [...named, /not UTF-8 JSON/], 'a header that is not UTF-8');
    await rejectsNamed(t, load(good.subarray(0, 5)), WeightsError, [...named, /too short \(5 bytes\)/], 'a 5-byte file');
    t.ok(sameBits(before, await bitsOf(model)), 'after all of them, the model holds its weights bit for bit');

    await io.loadSafetensors(model, good, { name: NAME });
    t.deepEqual([...(await model.namedParameters()[1][1].data())], [6.5, 6.75, 7], 'and the valid file, from its bytes, loads (0.bias: values 54 to 56 of 0.25·i − 7)');
    model.dispose();
  });

  test('weights: a load that fails leaves every parameter as it was, even past the name and shape checks', async (t) => {
    await setBackend('cpu');
    const model = smallModel();
    const good = validFile(model);
    const before = await bitsOf(model);
    const { header, data } = split(good)!;
    const nan = data.slice();
    new DataView(nan.buffer).setFloat32(432, NaN, true); // the last value of 3.bias
    const was = checkNumerics();
    checkNumerics(true);
    try {
      await rejectsNamed(t, () => io.loadSafetensors(model, encode(header, nan), { name: NAME }), WeightsError, [/fuzz\.safetensors/, /tensor '3\.bias' holds NaN at index 3 \(checkNumerics is on\)/],
        'with checkNumerics on, a NaN in the last tensor (the earlier ones used to be assigned first)');
    } finally {
      checkNumerics(was);
    }
    t.ok(sameBits(before, await bitsOf(model)), 'the model holds its weights bit for bit');
    const [[, first], [, second]] = model.namedParameters();
    second.dispose();
    await rejectsNamed(t, () => io.loadSafetensors(model, good, { name: NAME }), DisposedError, [/io\.loadSafetensors/, /'0\.bias' was disposed; nothing was loaded/], 'a model with a disposed parameter');
    t.deepEqual(new Uint32Array((await first.data()).buffer), before.get('0.weight'), 'its other parameters are untouched');
    model.dispose();
  });

  test('weights: a file that cannot be read is a WeightsError naming the path and the reason', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'verydeep-fuzz-'));
    try {
      const model = smallModel();
      await rejectsNamed(t, () => io.loadSafetensors(model, join(dir, 'none.safetensors')), WeightsError, [/io\.loadSafetensors: cannot read .*none\.safetensors: ENOENT/], 'a missing file');
      await rejectsNamed(t, () => io.readSafetensors(dir), WeightsError, [/io\.readSafetensors: cannot read .*verydeep-fuzz-.*EISDIR/], 'a folder');
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('weights: loadWeights checks the model a file claims before building it', async (t) => {
    await setBackend('cpu');
    const dir = mkdtempSync(join(tmpdir(), 'verydeep-fuzz-'));
    try {
      const claim = async (file: string, vgg: unknown, tensors: Record<string, io.NamedArray> = { w: { shape: [2], data: Float32Array.of(1, 2) } }) => {
        const path = join(dir, file);
        await io.writeSafetensors(path, tensors, { vgg: typeof vgg === 'string' ? vgg : JSON.stringify(vgg) });
        return path;
      };
      const e = await claim('claims-e.safetensors', { config: 'E' });
      const tensorsBefore = memory().tensors;
      const started = performance.now();
      await rejectsNamed(t, () => io.loadWeights(e), WeightsError, [/io\.loadWeights: .*claims-e\.safetensors does not hold VGG-E \(from its 'vgg' metadata\); nothing was built/,
        /VGG-E has 143,667,240 parameters in 38 tensors; the file holds 2 values in 1/, /features\.0\.weight: missing from the file \(VGG-E has \[64, 3, 3, 3\]\)/, /… and 27 more/],
        'a small file whose metadata claims VGG-E (it used to build and initialise 144 M parameters first)');
      const ms = performance.now() - started;
      t.ok(ms < 1000 && memory().tensors === tensorsBefore, `no tensor was made, ${ms.toFixed(1)} ms`);
      await rejectsNamed(t, () => io.loadWeights(e, { input: 32 }), WeightsError, [/does not hold VGG-E \(inputSize 32\) \(from its 'vgg' metadata and the options given\)/], 'the same, with --input');
      const bad: [string, unknown, RegExp][] = [
        ['not-json', '{config', /the 'vgg' metadata is not JSON/],
        ['array', [1], /the 'vgg' metadata is \[1\]; expected an object/],
        ['config', { config: 'Z' }, /the 'vgg' metadata has config "Z"; expected one of A, A-LRN, B, C, D, E/],
        ['classes', { config: 'A', numClasses: -3, widthMultiplier: 0 }, /VGG-A \(numClasses -3, widthMultiplier 0\) \(from its 'vgg' metadata\) cannot be built: Vgg: expected numClasses to be a positive integer, got -3/],
        ['unknown', { config: 'A', depth: 3 }, /VGG-A \(depth 3\) \(from its 'vgg' metadata\) cannot be built: Vgg: unknown option 'depth'/],
        ['huge', { config: 'A', numClasses: 2 ** 31 }, /VGG-A \(numClasses 2147483648\) has 8,798,369,272,192 parameters/],
        ['init', { config: 'A', init: 'he' }, /cannot be built: Vgg: expected init 'paper' or 'glorot', got 'he'/],
        ['small', { config: 'A', inputSize: 16 }, /VGG-A \(inputSize 16\) \(from its 'vgg' metadata\) cannot be built: .*too small/],
      ];
      for (const [file, vgg, pattern] of bad) {
        await rejectsNamed(t, async () => io.loadWeights(await claim(`${file}.safetensors`, vgg)), WeightsError, [new RegExp(`io\\.loadWeights: .*${file}\\.safetensors`), pattern], `'vgg' metadata ${JSON.stringify(vgg)}`);
      }
      const tiny = { widthMultiplier: 1 / 64, inputSize: 32, fcWidth: 4, numClasses: 2 };
      const model = Vgg.configA(tiny);
      const path = join(dir, 'tiny.safetensors');
      await io.saveSafetensors(model, path);
      const loaded = await io.loadWeights(path, { note: () => undefined });
      t.ok(sameBits(await bitsOf(model), await bitsOf(loaded.model)), 'a file that holds what it claims loads, bit for bit');
      [model, loaded.model].forEach((m) => m.dispose());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Vgg.parameterShapes gives the names and shapes the constructor builds, for every configuration', (t) => {
    for (const config of Object.keys(VGG_CONFIGS) as ConfigName[]) {
      for (const options of [{ widthMultiplier: 1 / 16, inputSize: 40, fcWidth: 8, numClasses: 3, inputChannels: 1 }, { widthMultiplier: 0.01, inputSize: 33, fcWidth: 5 }]) {
        const model = new Vgg(config, options);
        t.deepEqual(Vgg.parameterShapes(config, options), model.namedParameters().map(([name, p]) => [name, [...p.shape]]), `${config} ${JSON.stringify(options)}`);
        model.dispose();
      }
    }
    t.end();
  });

  test('durability: the first write into a folder removes the temporaries of dead writers, and a failed write is a VerydeepError with the OS error as its cause', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'verydeep-fuzz-'));
    try {
      const dead = 2 ** 22 + 12345; // above Linux's largest pid (2^22): no process has it
      const temps = [`.a.safetensors.tmp-${dead}-1`, `.b.json.tmp-${process.ppid}-2`, `.c.txt.tmp-${process.pid}-3`, 'notes.tmp-1-1', `.d.tmp-x-1`];
      for (const name of temps) writeFileSync(join(dir, name), 'partial');
      await io.writeFileAtomic(join(dir, 'out.txt'), 'done');
      t.deepEqual(readdirSync(dir).sort(), [...temps.slice(1), 'out.txt'].sort(), "the dead writer's temporary is gone; a live process's, our own and other files are kept");
      writeFileSync(join(dir, temps[0]), 'partial');
      t.deepEqual(await io.cleanStaleTemps(dir), [join(dir, temps[0])], 'cleanStaleTemps returns what it removed');
      t.deepEqual(await io.cleanStaleTemps(join(dir, 'none')), [], 'a missing folder has nothing to clean');

      mkdirSync(join(dir, 'taken'));
      await rejectsNamed(t, () => io.writeFileAtomic(join(dir, 'taken'), 'x'), VerydeepError, [/io\.writeFileAtomic: could not write .*taken/], 'a write onto a folder');
      const error = await io.writeFileAtomic(join(dir, 'taken'), 'x').catch((e) => e);
      t.ok(['EISDIR', 'ENOTEMPTY', 'EEXIST', 'EPERM'].includes(error.cause?.code), `its cause is the OS error: ${error.cause?.code}`);
      writeFileSync(join(dir, 'file'), '');
      await rejectsNamed(t, () => io.writeFileAtomic(join(dir, 'file', 'below.txt'), 'x'), VerydeepError, [/could not write .*file\/below\.txt/, /EEXIST|ENOTDIR/], 'a write below a file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fuzz: 10,000 mutations of a valid weights file each load exactly or are a WeightsError that leaves the model untouched', async (t) => {
    await setBackend('cpu');
    const model = smallModel();
    const params = model.namedParameters().map(([name, p]): [string, readonly number[]] => [name, p.shape]);
    const base = validFile(model);
    const seed = Number(process.env.VERYDEEP_FUZZ_SEED ?? 12);
    const counts = { WeightsError: 0, loaded: 0 };
    const property = fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
      const bytes = mutations.reduce((b, m) => m(b), base);
      const expected = oracle(bytes, params);
      const before = await bitsOf(model);
      try {
        await io.loadSafetensors(model, bytes, { name: NAME });
      } catch (e) {
        if (!(e instanceof WeightsError) || e.name !== 'WeightsError') throw new Error(`a ${(e as Error)?.name} rather than a WeightsError: ${(e as Error)?.message}`);
        if (!e.message.includes(NAME)) throw new Error(`a WeightsError that does not name the file: ${e.message}`);
        if (expected) throw new Error(`a valid file was refused: ${e.message}`);
        if (!sameBits(before, await bitsOf(model))) throw new Error(`the model changed after: ${e.message}`);
        counts.WeightsError++;
        return;
      }
      if (!expected) throw new Error('a file that breaks the format (or does not fit the model) loaded');
      if (!holds(await bitsOf(model), expected)) throw new Error('the model does not hold the values the file says');
      counts.loaded++;
    });
    const started = performance.now();
    try {
      await fc.assert(property, { numRuns: 10_000, seed });
      const f = (n: number) => n.toLocaleString('en-US');
      t.pass(`10,000 mutations (seed ${seed}, ${((performance.now() - started) / 1000).toFixed(1)} s): ${f(counts.WeightsError)} WeightsError, ${f(counts.loaded)} loaded exactly`);
      t.ok(counts.WeightsError > 2000 && counts.loaded > 1000, 'both outcomes are well represented');
    } catch (e) {
      t.fail(`${(e as Error).message}\n${(e as Error).cause ?? ''}`);
    }
    model.dispose();
  });
}
