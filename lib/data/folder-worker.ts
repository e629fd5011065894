/**
 * The worker thread of an image-folder pipeline (folder-pipeline.ts): decodes image files
 * with sharp and makes each sample as the network sees it, in a Float32Array [3, I, I] of
 * pixels in [0, 255] less the training set's mean RGB.
 *
 * Training samples follow §3.1: the image rescaled isotropically to smallest side S (S
 * fixed, or drawn per image from [S_min, S_max]), a random I×I crop, a random horizontal
 * flip, AlexNet's PCA colour shift with the training set's eigenvectors. Every draw comes
 * from an Rng seeded by (seed, epoch, index), so a sample does not depend on which worker
 * made it, nor when. Evaluation samples are the centre I×I crop at smallest side Q.
 * Statistics jobs return the sums that give the mean RGB and its covariance.
 *
 * With `cache`, a worker keeps the images it decodes (the pipeline gives each worker the
 * indices ≡ w mod workers, so each image is cached once) as 8-bit RGB at the largest
 * smallest side it needs (S_max); a jittered S below it is rescaled from the cached pixels.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../core/random.js';
import { loadSharp } from './sharp.js';

export interface WorkerSetup {
  paths: string[];
  input: number;
  scale: [number, number];
  /** the smallest side of evaluation (and statistics) images */
  evalScale: number;
  flip: boolean;
  pcaColour: boolean;
  cache: boolean;
  seed: number;
}

/**
 * A training set's colour statistics (FolderStatistics in the data namespace): the mean
 * subtracted from every sample and the PCA that the colour shift uses.
 */
export interface WorkerStats {
  /** mean RGB, pixels in [0, 255] */
  mean: number[];
  /** eigenvalues and eigenvectors (columns) of the RGB covariance, pixels in [0, 1] */
  pca?: {
    /** λ, largest first */
    eigenvalues: number[];
    /** 3×3, rows R, G, B: column i is the eigenvector of eigenvalues[i] */
    eigenvectors: number[][];
  };
}

export type WorkerJob = { id: number; kind: 'train' | 'eval' | 'stats'; index: number; epoch: number };
export type WorkerReply = { id: number; data?: Float32Array; sums?: Float64Array; error?: string };

/** the seed of one sample's draws: a 32-bit hash of (seed, epoch, index) (murmur3's finaliser on each step) */
export function sampleSeed(seed: number, epoch: number, index: number): number {
  let h = 0x9747b28c;
  for (const v of [seed, epoch, index]) {
    h = Math.imul(h ^ (v | 0), 0xcc9e2d51);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

interface Raw { data: Uint8Array; width: number; height: number }

/** sharp's pipeline as used here (its own typings are not needed to build) */
type Pipeline = {
  autoOrient(): Pipeline;
  resize(o: object): Pipeline;
  toColourspace(s: string): Pipeline;
  removeAlpha(): Pipeline;
  raw(): Pipeline;
  toBuffer(o: { resolveWithObject: true }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }>;
};

const setup = workerData as WorkerSetup;
const cache = new Map<number, Raw>();
let stats: WorkerStats | null = null;
let sharp: ((input: string | Uint8Array, options?: object) => Pipeline) | null = null;

async function toRaw(p: Pipeline, what: string): Promise<Raw> {
  const { data, info } = await p.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${what} decoded to ${info.channels} channels, expected 3`);
  return { data, width: info.width, height: info.height };
}

/**
 * The image at smallest side S, 8-bit interleaved RGB. sharp's 'outside' fit makes the
 * smallest side S and keeps the aspect ratio; the 'linear' kernel is antialiased when it
 * shrinks (as decodeImage's), and JPEG shrink-on-load is on (decoding at 1/2, 1/4, 1/8 is
 * much faster for a 32-px network; decodeImage keeps it off for PIL's exact pixels).
 */
async function decode(index: number, S: number): Promise<Raw> {
  sharp ??= (await loadSharp()) as unknown as typeof sharp;
  const path = setup.paths[index];
  const resize = (s: number) => ({ width: s, height: s, fit: 'outside', kernel: 'linear', fastShrinkOnLoad: true });
  try {
    if (!setup.cache) return await toRaw(sharp!(path).autoOrient().resize(resize(S)), path);
    const top = Math.max(setup.scale[1], setup.evalScale);
    let raw = cache.get(index);
    if (!raw) {
      raw = await toRaw(sharp!(path).autoOrient().resize(resize(top)), path);
      cache.set(index, raw);
    }
    if (Math.min(raw.width, raw.height) === S) return raw;
    return await toRaw(sharp!(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } }).resize(resize(S)), path);
  } catch (e) {
    throw new Error(`cannot decode ${path}: ${(e as Error).message}`);
  }
}

/** the crop [3, I, I] at (top, left), mirrored if `flip`, plus shift[c] (0–255 units) */
function sample(raw: Raw, top: number, left: number, flip: boolean, shift: number[]): Float32Array {
  const I = setup.input, W = raw.width, px = raw.data;
  const out = new Float32Array(3 * I * I);
  for (let y = 0; y < I; y++) {
    const row = (top + y) * W;
    for (let x = 0; x < I; x++) {
      const p = (row + left + (flip ? I - 1 - x : x)) * 3;
      const o = y * I + x;
      out[o] = px[p] + shift[0];
      out[I * I + o] = px[p + 1] + shift[1];
      out[2 * I * I + o] = px[p + 2] + shift[2];
    }
  }
  return out;
}

async function run(job: WorkerJob): Promise<WorkerReply> {
  const I = setup.input;
  if (job.kind === 'stats') {
    const { data } = await decode(job.index, setup.evalScale);
    const s = new Float64Array(10);
    for (let p = 0; p < data.length; p += 3) {
      const r = data[p] / 255, g = data[p + 1] / 255, b = data[p + 2] / 255;
      s[0] += r; s[1] += g; s[2] += b;
      s[3] += r * r; s[4] += r * g; s[5] += r * b; s[6] += g * g; s[7] += g * b; s[8] += b * b;
    }
    s[9] = data.length / 3;
    return { id: job.id, sums: s };
  }
  if (!stats) throw new Error('the pipeline sent a sample before the training set\'s statistics');
  const minus = stats.mean.map((m) => -m);
  if (job.kind === 'eval') {
    const raw = await decode(job.index, setup.evalScale);
    return { id: job.id, data: sample(raw, Math.floor((raw.height - I) / 2), Math.floor((raw.width - I) / 2), false, minus) };
  }
  const rng = new Rng(sampleSeed(setup.seed, job.epoch, job.index));
  const [lo, hi] = setup.scale;
  const S = lo === hi ? lo : lo + rng.int(hi - lo + 1);
  const raw = await decode(job.index, S);
  const top = rng.int(raw.height - I + 1), left = rng.int(raw.width - I + 1);
  const flip = setup.flip && rng.uniform() < 0.5;
  const shift = minus.slice();
  if (setup.pcaColour && stats.pca) {
    // AlexNet's: Σ_i α_i λ_i p_i, α_i ~ N(0, 0.1²), in [0, 1] units, here × 255
    const { eigenvalues: l, eigenvectors: p } = stats.pca;
    const alpha = [0, 1, 2].map(() => 0.1 * rng.normal());
    for (let c = 0; c < 3; c++) shift[c] += 255 * (p[c][0] * alpha[0] * l[0] + p[c][1] * alpha[1] * l[1] + p[c][2] * alpha[2] * l[2]);
  }
  return { id: job.id, data: sample(raw, top, left, flip, shift) };
}

parentPort!.on('message', (msg: WorkerJob | { stats: WorkerStats }) => {
  if ('stats' in msg) {
    stats = msg.stats;
    return;
  }
  run(msg).then((reply) => parentPort!.postMessage(reply, reply.data ? [reply.data.buffer as ArrayBuffer] : []),
    (e: Error) => parentPort!.postMessage({ id: msg.id, error: e.message } satisfies WorkerReply));
});
