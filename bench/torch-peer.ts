/**
 * PyTorch as a peer of bench/run.ts: starts bench/torch-peer.py (Debian's python3-torch at
 * /usr/bin/python3, or VERYDEEP_TORCH_PYTHON) once, and talks to it one JSON line per
 * request over its stdin / stdout. The Python side builds a row's tensors once, warms up,
 * and times each run itself with time.perf_counter; this side only asks for one sample at a
 * time, so that bench/harness.ts can alternate verydeep's samples with torch's.
 *
 * Inputs and weights travel as a formula, not as arrays: `formulaArray` (a counter hash of
 * the index and a seed) gives the same float32 bits here as `formula` in torch-peer.py, so
 * both libraries compute on the same values and only a sample of each result comes back.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

// the formula's inputs live in values.ts, which a browser can load too (examples/web/bench*.ts)
export { formulaArray } from './values.js';

/** how many values of each result come back for the agreement check */
export const SAMPLE = 4096;

/** m evenly spaced positions of n (all when n ≤ m): torch-peer.py's `sample_positions` */
export function sampledPositions(n: number, m = SAMPLE): number[] {
  if (n <= m) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: m }, (_, k) => Math.floor((k * n) / m));
}

/** torch's first result at the sampled positions */
export interface TorchSample {
  n: number;
  values: number[];
  absSum: number;
}

/**
 * Δ against torch: max |ours − torch| over max |ours| at the sampled positions (both NCHW,
 * OIHW, [N, classes]: no index mapping). Infinity when the sizes differ.
 */
export function torchDifference(ours: Float32Array, theirs: TorchSample): number {
  if (ours.length !== theirs.n) return Number.POSITIVE_INFINITY;
  const pos = sampledPositions(ours.length, theirs.values.length === ours.length ? ours.length : SAMPLE);
  if (pos.length !== theirs.values.length) return Number.POSITIVE_INFINITY;
  let diff = 0, scale = 0;
  pos.forEach((p, k) => {
    diff = Math.max(diff, Math.abs(ours[p] - theirs.values[k]));
    scale = Math.max(scale, Math.abs(ours[p]));
  });
  if (!Number.isFinite(diff)) return Number.POSITIVE_INFINITY;
  return scale > 0 ? diff / scale : diff;
}

/** one row's workload, as torch-peer.py's `build` reads it */
export type TorchRow = Record<string, unknown> & { kind: 'conv' | 'vgg' | 'train' };

export interface TorchSetup {
  setupMs: number;
  warmups: number;
  warmupMs: number;
  lastMs: number;
  first: TorchSample;
  cpuS: number;
  params?: number;
}

export interface TorchInfo {
  torch: string;
  numpy: string;
  python: string;
  executable: string;
  threads: number;
  defaultThreads: number;
  interopThreads: number;
  mkldnn: boolean;
  cuda: boolean;
  parallel: string[];
  pid: number;
}

export class TorchPeer {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly pending: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  private stderrTail = '';
  private exited: string | null = null;
  info!: TorchInfo;
  readonly requestedThreads: number;

  private constructor(python: string, script: string, threads: number) {
    this.requestedThreads = threads;
    // OMP/OPENBLAS are set again by the script before it imports torch; setting them here too
    // covers anything the interpreter loads first
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), CUDA_VISIBLE_DEVICES: '', PYTHONUNBUFFERED: '1' };
    this.proc = spawn(python, [script, '--threads', String(threads)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const p = this.pending.shift();
      if (!p) return;
      try {
        const res = JSON.parse(line) as Record<string, unknown>;
        if (res.ok) p.resolve(res);
        else p.reject(new Error(String(res.error)));
      } catch {
        p.reject(new Error(`torch-peer: not a JSON answer: ${line.slice(0, 200)}`));
      }
    });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
    });
    const fail = (why: string) => {
      this.exited = why;
      // the last line of a Python traceback says what went wrong ("ModuleNotFoundError: No module named 'torch'")
      const last = this.stderrTail.trim().split('\n').pop()?.trim();
      for (const p of this.pending.splice(0)) p.reject(new Error(`${why}${last ? `: ${last}` : ''}`));
    };
    this.proc.on('error', (e) => fail(`torch-peer could not start ${python}: ${e.message}`));
    this.proc.on('exit', (code, signal) => fail(`torch-peer exited (${signal ?? `code ${code}`})`));
  }

  /**
   * Starts the peer; throws (with the reason, e.g. "No module named 'torch'") where torch is
   * not installed, and the run goes on without it.
   */
  static async start(script: string, threads: number, python = process.env.VERYDEEP_TORCH_PYTHON ?? '/usr/bin/python3'): Promise<TorchPeer> {
    if (!existsSync(python)) throw new Error(`${python} not found`);
    const peer = new TorchPeer(python, script, threads);
    try {
      peer.info = await withTimeout(peer.request({ op: 'hello' }), 120_000, 'torch-peer: no answer to hello in 120 s') as unknown as TorchInfo;
    } catch (e) {
      peer.stop();
      throw e;
    }
    return peer;
  }

  request(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.proc.stdin.write(JSON.stringify(req) + '\n');
    });
  }

  /** builds the row there and warms it up by the same rules as ours (harness.ts) */
  async setup(row: TorchRow, warm: { minWarmups: number; minWarmupMs: number }): Promise<TorchSetup> {
    return await this.request({ op: 'setup', row, sample: SAMPLE, ...warm }) as unknown as TorchSetup;
  }

  /** one timed run there: its ms and the CPU seconds it used (all its threads) */
  async sample(): Promise<{ ms: number; cpuS: number }> {
    const r = await this.request({ op: 'time', n: 1 }) as { samplesMs: number[]; sampleCpuS: number[] };
    return { ms: r.samplesMs[0], cpuS: r.sampleCpuS[0] };
  }

  /** the process's CPU seconds so far, all threads */
  async cpuS(): Promise<number> {
    return (await this.request({ op: 'cpu' }) as { cpuS: number }).cpuS;
  }

  async free(): Promise<void> {
    await this.request({ op: 'free' });
  }

  stop(): void {
    if (this.exited) return;
    try {
      this.proc.stdin.write(JSON.stringify({ op: 'quit' }) + '\n');
      this.proc.stdin.end();
    } catch { /* it is gone already */ }
    setTimeout(() => this.proc.kill(), 2000).unref();
  }

  describe(): string {
    const i = this.info;
    return `PyTorch ${i.torch} (${i.executable}, Python ${i.python}), ${i.threads} thread(s)${i.threads !== this.requestedThreads ? ` (asked for ${this.requestedThreads})` : ''}, ` +
      `oneDNN ${i.mkldnn ? 'on' : 'off'}, CPU only${i.cuda ? ' (CUDA hidden)' : ''}, NCHW float32`;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(why)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

/** (seed, scale) of one formula input, as the rows send them */
export type FormulaSpec = [number, number];
