/**
 * An image folder as a training set (§3.1 on real pictures): a pool of worker threads
 * (folder-worker.ts) decodes and augments the images, and a bounded prefetch queue keeps
 * the next batches in the making while the trainer computes, so that it does not wait
 * for data.
 *
 *  - the order of epoch e is DataLoader's (a permutation from (seed, e)); each image's
 *    draws come from (seed, e, index): a resumed run sees the same batches;
 *  - statistics(): the training set's mean RGB (subtracted from every sample) and the
 *    eigen-decomposition of its RGB covariance (for the PCA colour shift), computed once
 *    from a seeded sample of at most 1,000 images at the evaluation scale, or given;
 *  - cache: the workers keep the decoded images (at S_max) when the estimate of their
 *    size fits half the free memory, else it says so and decodes every epoch;
 *  - evaluationSet(): the centre crops at Q, in memory (an ArrayDataset), for `evaluate`.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism, freemem } from 'node:os';
import { Tensor } from '../core/tensor.js';
import { Rng } from '../core/random.js';
import { DataError, ValueError, describeValue } from '../core/errors.js';
import { ArrayDataset, permutation } from './array-dataset.js';
import { loadSharp } from './sharp.js';
import type { Batch } from './loader.js';
import type { BatchSource } from './batch-source.js';
import type { WorkerJob, WorkerReply, WorkerSetup, WorkerStats } from './folder-worker.js';

export type { WorkerStats as FolderStatistics } from './folder-worker.js';

/** What becomes of each image: §3.1's rescale, crop, flip and colour shift, then the mean subtracted. */
export interface FolderTransform {
  /** the side of the square crop the network takes */
  input: number;
  /** the smallest side S: fixed, or [S_min, S_max] jittered per image (default: round(input · 256/224)) */
  scale?: number | [number, number];
  /** random horizontal flips (default false) */
  flip?: boolean;
  /** AlexNet's PCA colour shift with the training set's eigenvectors (default false) */
  pcaColour?: boolean;
}

/** FolderPipeline's options (ImageFolderOptions passes its own on). */
export interface PipelineOptions {
  /** keep the decoded images in the workers' memory when they fit (default false) */
  cache?: boolean;
  /** worker threads (default: the cores less one, 1 to 4) */
  workers?: number;
  /** batches made ahead of the trainer (default 4) */
  prefetch?: number;
  /** the mean and PCA of the training set, when known (a checkpoint's, or the training split's for a validation split) */
  statistics?: WorkerStats | (() => Promise<WorkerStats>);
  /** seed of the statistics sample and of the augmentation (default 0) */
  seed?: number;
  /** where notes go, e.g. whether the cache fits (default console.log) */
  log?: (line: string) => void;
}

/** the images the statistics are computed from, at most */
export const STATISTICS_SAMPLE = 1000;

/** [S_min, S_max] of a transform, checked (a ValueError naming `where`) */
export function scaleRange(t: FolderTransform, where: string): [number, number] {
  const s = t.scale ?? Math.round((t.input * 256) / 224);
  const [lo, hi] = typeof s === 'number' ? [s, s] : Array.isArray(s) && s.length === 2 ? s : [NaN, NaN];
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < t.input || hi < lo) {
    throw new ValueError(`${where}: expected scale to be an integer S ≥ input (${t.input}) or [S_min, S_max] with input ≤ S_min ≤ S_max, got ${Array.isArray(s) ? `[${s.join(', ')}]` : describeValue(s)}`);
  }
  return [lo, hi];
}

/** the evaluation scale Q: S, or the middle of the jitter range (§3.2's Q = 0.5(S_min + S_max)) */
export const evalScaleOf = ([lo, hi]: [number, number]) => Math.round((lo + hi) / 2);

const GiB = 2 ** 30;

/** Eigenvalues and eigenvectors (columns) of a symmetric 3×3 matrix, by Jacobi rotations; largest first. */
export function symmetricEigen3(m: number[][]): {
  /** largest first, negatives (round-off) clipped to 0 */
  eigenvalues: number[];
  /** 3×3: column i is the unit eigenvector of eigenvalues[i] */
  eigenvectors: number[][];
} {
  const a = m.map((r) => r.slice());
  const v = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[0][1] ** 2 + a[0][2] ** 2 + a[1][2] ** 2;
    if (off < 1e-30) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) {
      if (Math.abs(a[p][q]) < 1e-300) continue;
      const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = a[k][p], akq = a[k][q];
        a[k][p] = c * akp - s * akq;
        a[k][q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p][k], aqk = a[q][k];
        a[p][k] = c * apk - s * aqk;
        a[q][k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k][p], vkq = v[k][q];
        v[k][p] = c * vkp - s * vkq;
        v[k][q] = s * vkp + c * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => a[j][j] - a[i][i]);
  return { eigenvalues: order.map((i) => Math.max(a[i][i], 0)), eigenvectors: [0, 1, 2].map((r) => order.map((i) => v[r][i])) };
}

/** A pool of folder workers; job i goes to worker i mod n (each image is cached by one worker). */
class WorkerPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(setup: WorkerSetup, n: number) {
    this.workers = Array.from({ length: n }, () => {
      const w = new Worker(new URL('./folder-worker.js', import.meta.url), { workerData: setup });
      w.on('message', (r: WorkerReply) => {
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        this.idle();
        if (!p) return;
        if (r.error) p.reject(new DataError(`imageFolder: ${r.error}`));
        else p.resolve(r);
      });
      w.on('error', (e) => this.fail(new DataError(`imageFolder: a decoding worker failed: ${e.message}`, { cause: e })));
      w.unref(); // an idle pool does not keep the process alive (ref'd while a job is out: see run)
      return w;
    });
  }

  /** unref the workers once no job is out */
  private idle(): void {
    if (!this.pending.size) for (const w of this.workers) w.unref();
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.idle();
  }

  run(job: Omit<WorkerJob, 'id'>): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    if (!this.pending.size) for (const w of this.workers) w.ref(); // a reply is awaited: the process waits for it
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[job.index % this.workers.length].postMessage({ ...job, id });
    });
  }

  broadcast(msg: unknown): void {
    for (const w of this.workers) w.postMessage(msg);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The training pipeline of a list of labelled files; see the header. */
export class FolderPipeline implements BatchSource {
  /** [S_min, S_max] of the training rescale (§3.1; equal for a fixed S) */
  readonly scale: [number, number];
  /** Q, the smallest side of evaluation and statistics images: the middle of `scale` (§3.2) */
  readonly evalScale: number;
  /** milliseconds the consumer of batches() waited for a batch, and the batches it got */
  readonly waiting = {
    /** total wait, in milliseconds */
    ms: 0,
    /** batches taken */
    batches: 0,
  };
  private pool: WorkerPool | null = null;
  private stats: Promise<WorkerStats> | null = null;
  private evaluation: Promise<ArrayDataset> | null = null;
  private readonly log: (line: string) => void;
  /** whether the workers keep decoded images: options.cache, turned off on start when they would not fit half the free memory */
  cache: boolean;

  /**
   * A ValueError for a bad transform, scale, workers or prefetch; no worker starts before
   * the first statistics(), batches() or evaluationSet().
   * @param name the set's name, for messages
   * @param files the images and their labels, in index order
   * @param numClasses the number of classes
   * @param transform §3.1's rescale, crop, flip and colour shift
   * @param options the cache, workers, prefetch, statistics, seed and log
   */
  constructor(readonly name: string, readonly files: readonly {
    /** the image file */
    path: string;
    /** its class, 0 to numClasses − 1 */
    label: number;
  }[], readonly numClasses: number,
    readonly transform: FolderTransform, readonly options: PipelineOptions = {}) {
    const where = `imageFolder ${name}`;
    if (!transform || typeof transform !== 'object' || !Number.isInteger(transform.input) || transform.input < 1) {
      throw new ValueError(`${where}: expected transform { input, scale, flip, pcaColour } with a positive integer input, got ${describeValue(transform?.input ?? transform)}`);
    }
    this.scale = scaleRange(transform, where);
    this.evalScale = evalScaleOf(this.scale);
    const { workers, prefetch } = options;
    if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) throw new ValueError(`${where}: expected workers to be an integer ≥ 1, got ${describeValue(workers)}`);
    if (prefetch !== undefined && !(Number.isInteger(prefetch) && prefetch >= 1)) throw new ValueError(`${where}: expected prefetch to be an integer ≥ 1, got ${describeValue(prefetch)}`);
    this.cache = !!options.cache;
    this.log = options.log ?? ((line) => console.log(line));
  }

  get length(): number {
    return this.files.length;
  }

  /** the pool, started on first use (with sharp loaded in the main thread first, as sharp asks of worker threads) */
  private async start(): Promise<WorkerPool> {
    if (this.pool) return this.pool;
    await loadSharp();
    if (this.cache) this.cache = await this.cacheFits();
    const n = this.options.workers ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.pool ??= new WorkerPool({
      paths: this.files.map((f) => f.path), input: this.transform.input, scale: this.scale, evalScale: this.evalScale,
      flip: !!this.transform.flip, pcaColour: !!this.transform.pcaColour, cache: this.cache, seed: this.options.seed ?? 0,
    }, n);
    return this.pool;
  }

  /** whether the images at S_max fit half the free memory, from the aspect ratios of up to 32 of them; says so when not */
  private async cacheFits(): Promise<boolean> {
    const sharp = (await loadSharp()) as unknown as (p: string) => { metadata(): Promise<{ width?: number; height?: number }> };
    const side = Math.max(this.scale[1], this.evalScale);
    const step = Math.max(1, Math.floor(this.length / 32));
    let aspect = 0, n = 0;
    for (let i = 0; i < this.length; i += step) {
      const { width = 1, height = 1 } = await sharp(this.files[i].path).metadata().catch(() => ({ width: 1, height: 1 }));
      aspect += Math.max(width, height) / Math.min(width, height);
      n++;
    }
    const bytes = this.length * 3 * side * side * (aspect / n);
    const budget = freemem() / 2;
    if (bytes > budget) {
      this.log(`note: --cache: the ${this.length} images at smallest side ${side} would take about ${(bytes / GiB).toFixed(1)} GiB, more than half the free memory (${(budget / GiB).toFixed(1)} GiB); decoding them every epoch instead`);
      return false;
    }
    this.log(`cache: ${this.length} images at smallest side ${side}, about ${(bytes / GiB).toFixed(2)} GiB, kept in memory after their first decoding`);
    return true;
  }

  /** The mean RGB (0–255) and the RGB covariance's eigen-decomposition ([0, 1]), computed once (see the header) or given. */
  statistics(): Promise<WorkerStats> {
    this.stats ??= (async () => {
      const given = this.options.statistics;
      const stats = typeof given === 'function' ? await given() : given ?? await this.computeStatistics();
      (await this.start()).broadcast({ stats });
      return stats;
    })();
    return this.stats;
  }

  private async computeStatistics(): Promise<WorkerStats> {
    const pool = await this.start();
    const n = Math.min(this.length, STATISTICS_SAMPLE);
    const chosen = Array.from(permutation(this.length, new Rng((this.options.seed ?? 0) + 224)).subarray(0, n)).sort((a, b) => a - b);
    const s = new Float64Array(10);
    // summed in the order chosen, not of arrival: the same sums on every run
    const replies = await Promise.all(chosen.map((index) => pool.run({ kind: 'stats', index, epoch: 0 })));
    for (const r of replies) for (let k = 0; k < 10; k++) s[k] += r.sums![k];
    const m = [s[0] / s[9], s[1] / s[9], s[2] / s[9]];
    const e = (k: number) => s[k] / s[9];
    const cov = [
      [e(3) - m[0] * m[0], e(4) - m[0] * m[1], e(5) - m[0] * m[2]],
      [e(4) - m[0] * m[1], e(6) - m[1] * m[1], e(7) - m[1] * m[2]],
      [e(5) - m[0] * m[2], e(7) - m[1] * m[2], e(8) - m[2] * m[2]],
    ];
    return { mean: m.map((v) => v * 255), pca: symmetricEigen3(cov) };
  }

  /** The batches of epoch `epoch`; see BatchSource. Waiting time is added to `waiting`. */
  async *batches(epoch: number, batchSize: number, seed = this.options.seed ?? 0): AsyncGenerator<Batch> {
    if (seed !== (this.options.seed ?? 0)) throw new ValueError(`imageFolder ${this.name}: batches: the seed ${seed} differs from the folder's (${this.options.seed ?? 0}); give imageFolder the run's seed`);
    await this.statistics();
    const pool = await this.start();
    // DataLoader's order for (seed, epoch)
    const order = permutation(this.length, new Rng(seed * 1_000_003 + epoch));
    const nb = Math.ceil(this.length / batchSize);
    const I = this.transform.input, per = 3 * I * I;
    const make = (b: number) => {
      const indices = order.slice(b * batchSize, Math.min((b + 1) * batchSize, this.length));
      const p = Promise.all(Array.from(indices, (index) => pool.run({ kind: 'train', index, epoch }))).then((replies) => ({ indices, replies }));
      p.catch(() => {}); // awaited below; a batch made ahead and never taken must not be an unhandled rejection
      return p;
    };
    const ahead = this.options.prefetch ?? 4;
    const queue = Array.from({ length: Math.min(ahead, nb) }, (_, b) => make(b));
    for (let b = 0; b < nb; b++) {
      const t0 = performance.now();
      const { indices, replies } = await queue.shift()!;
      this.waiting.ms += performance.now() - t0;
      this.waiting.batches++;
      if (b + ahead < nb) queue.push(make(b + ahead));
      const data = new Float32Array(indices.length * per);
      replies.forEach((r, k) => data.set(r.data!, k * per));
      yield { x: Tensor.from(data, [indices.length, 3, I, I]), labels: Int32Array.from(indices, (i) => this.files[i].label), indices: Int32Array.from(indices) };
    }
  }

  /** The centre crops at Q, mean subtracted, in memory; a DataError when they would not fit half the free memory. */
  evaluationSet(): Promise<ArrayDataset> {
    this.evaluation ??= (async () => {
      const I = this.transform.input, per = 3 * I * I;
      const bytes = this.length * per * 4;
      if (bytes > freemem() / 2) throw new DataError(`imageFolder ${this.name}: the ${this.length} evaluation crops of ${I}×${I} take ${(bytes / GiB).toFixed(1)} GiB, more than half the free memory`);
      await this.statistics();
      const pool = await this.start();
      const replies = await Promise.all(this.files.map((_, index) => pool.run({ kind: 'eval', index, epoch: 0 })));
      const images = new Float32Array(this.length * per);
      replies.forEach((r, k) => images.set(r.data!, k * per));
      return new ArrayDataset(this.name, images, Int32Array.from(this.files, (f) => f.label), [3, I, I], this.numClasses);
    })();
    return this.evaluation;
  }

  /** stops the workers (their cache goes with them) */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }
}
