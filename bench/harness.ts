/**
 * Timing for bench/run.ts: warm-up, then benchmark.js (a deferred, asynchronous benchmark)
 * collects the samples; we report their median, min and max in ms, and how busy the rest of
 * the machine was while they ran (other processes' CPU, from /proc/stat minus our own rusage,
 * the method of ../shared/peers/tfjs/bench.mjs). On a 2-core machine another busy process
 * makes 2-thread figures 3–5× slower, so rows measured under load are flagged.
 */
import Benchmark from 'benchmark';
import { readFileSync } from 'node:fs';

export interface Timing {
  /** timed samples (benchmark.js: each sample is one run, or the mean of the runs of a cycle of ≥ minTime) */
  n: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  /** benchmark.js's relative margin of error of the mean, % */
  rme: number;
  samplesMs: number[];
  warmups: number;
  warmupMs: number;
  /** CPU cores used by other processes during the timed samples (0 on a quiet machine) */
  foreignCores: number | null;
  /** seconds spent waiting for the machine to go quiet first (--wait-quiet) */
  waitedS: number;
  /** hostProbeMs() before and after the timed samples, averaged: how fast the host ran meanwhile */
  hostProbeMs: number;
}

export interface MeasureOptions {
  /** at least this many timed samples */
  minSamples: number;
  /** then stop once the samples took more than this many seconds (benchmark.js maxTime) */
  maxTime: number;
  /** warm-up: at least this many runs ... */
  minWarmups: number;
  /** ... and at least this many ms of runs (fewer when one run is long: see warmUp) */
  minWarmupMs: number;
  /** wait up to this many seconds for other processes to use < 0.3 cores before timing */
  waitQuietS: number;
}

export interface Measured<T> {
  timing: Timing;
  /** what the first warm-up run returned (to check one library against the other) */
  first: T;
}

/** busy CPU seconds of the whole machine so far (Linux); null elsewhere */
function machineBusyS(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds of this process, all threads (our fast-path workers and tfjs's pthreads included) */
function selfCpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** other processes' CPU use, in cores, between two snapshots */
export function loadMeter(): () => number | null {
  const b0 = machineBusyS(), c0 = selfCpuS(), t0 = performance.now();
  return () => {
    const b1 = machineBusyS();
    if (b0 === null || b1 === null) return null;
    const wall = (performance.now() - t0) / 1000;
    return wall > 0 ? Math.max(0, (b1 - b0 - (selfCpuS() - c0)) / wall) : null;
  };
}

/** Waits (up to maxS) until other processes use less than 0.3 cores over half a second. */
export async function waitQuiet(maxS: number): Promise<number> {
  const t0 = performance.now();
  while ((performance.now() - t0) / 1000 < maxS) {
    const meter = loadMeter();
    await new Promise((r) => setTimeout(r, 500));
    const foreign = meter();
    if (foreign === null || foreign < 0.3) break;
  }
  return (performance.now() - t0) / 1000;
}

/**
 * How fast the host runs right now: a fixed single-threaded chain of dependent float
 * operations (~4.5 ms here), the median of 5. This VM's 2 vCPUs share their host with other guests,
 * whose load no counter here shows (/proc/stat's steal stays 0), yet it made whole runs 15–40%
 * slower on both sides within minutes. A row's probe against the run's fastest says how
 * fast the host ran while that row was timed.
 */
export function hostProbeMs(): number {
  const times: number[] = [];
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    let a = 1.0000001, x = 0;
    for (let i = 0; i < 1_000_000; i++) {
      x = x * 0.999999 + a;
      a += 1e-7;
    }
    times.push(performance.now() - t0);
    sink += x;
  }
  if (sink === 0.5) console.log(sink); // keeps the loop from being dropped
  return median(times);
}

export { median } from './values.js';
import { median } from './values.js';

/**
 * Runs `fn` until it is warm: at least minWarmups runs and minWarmupMs, at most 20; one run
 * when it takes over 2 s. Returns what the first run returned.
 */
async function warmUp<T>(fn: () => Promise<T>, o: MeasureOptions): Promise<{ first: T; warmups: number; warmupMs: number; lastMs: number }> {
  let first: T | undefined;
  let warmups = 0, warmupMs = 0, lastMs = 0;
  const t0 = performance.now();
  while (warmups < 20) {
    const s = performance.now();
    const out = await fn();
    lastMs = performance.now() - s;
    if (warmups === 0) first = out;
    warmups++;
    warmupMs = performance.now() - t0;
    if (lastMs > 2000 || (warmups >= o.minWarmups && warmupMs >= o.minWarmupMs)) break;
  }
  return { first: first as T, warmups, warmupMs, lastMs };
}

/**
 * Runs `fn` to warm it up (V8 tiers WebAssembly and JS up while it runs; buffers and
 * kernels get made), then times it with benchmark.js. A run longer than 2 s counts as
 * warm after one run, and then 3 samples are enough (tfjs-wasm's single-threaded input
 * gradient takes ~12 s at batch 8).
 */
export async function measure<T>(name: string, fn: () => Promise<T>, o: MeasureOptions): Promise<Measured<T>> {
  const waitedS = o.waitQuietS > 0 ? await waitQuiet(o.waitQuietS) : 0;
  const { first, warmups, warmupMs, lastMs } = await warmUp(fn, o);
  const minSamples = lastMs > 2000 ? Math.min(o.minSamples, 3) : o.minSamples;

  let failure: unknown = null;
  const probeBefore = hostProbeMs();
  const meter = loadMeter();
  const bench = new Benchmark(name, {
    defer: true,
    // the fn is called by reference (no setup/teardown: benchmark.js then does not decompile it)
    fn: (deferred: Benchmark.Deferred) => {
      fn().then(() => deferred.resolve(), (e) => {
        failure ??= e;
        deferred.resolve();
      });
    },
    minSamples,
    maxTime: o.maxTime,
    // one run per sample for anything slower than 1 ms (the default minTime, 50 ms, would average several)
    minTime: 0.001,
    initCount: 1,
    delay: 0,
  });
  await new Promise<void>((resolve, reject) => {
    bench.on('complete', () => resolve());
    bench.on('error', () => reject(bench.error ?? new Error(`benchmark.js: ${name} failed`)));
    bench.run({ async: true });
  });
  const foreignCores = meter();
  const probe = (probeBefore + hostProbeMs()) / 2;
  if (failure) throw failure;
  const samplesMs = bench.stats.sample.map((s) => s * 1000);
  if (samplesMs.length === 0) throw new Error(`benchmark.js took no samples of ${name}`);
  return {
    first: first as T,
    timing: {
      n: samplesMs.length,
      medianMs: median(samplesMs),
      minMs: Math.min(...samplesMs),
      maxMs: Math.max(...samplesMs),
      meanMs: bench.stats.mean * 1000,
      rme: bench.stats.rme,
      samplesMs: samplesMs.map((x) => +x.toFixed(4)),
      warmups,
      warmupMs: +warmupMs.toFixed(1),
      foreignCores: foreignCores === null ? null : +foreignCores.toFixed(3),
      waitedS: +waitedS.toFixed(1),
      hostProbeMs: +probe.toFixed(3),
    },
  };
}

/** the other side of an alternating measurement: a peer that times its own runs (bench/torch-peer.ts) */
export interface AlternatePeer<P> {
  /** builds and warms up the peer's workload; what it returns is kept as `first` */
  setup(): Promise<P>;
  /** one timed run there: its ms (timed by the peer) and the CPU seconds it used */
  sample(): Promise<{ ms: number; cpuS: number }>;
  /** the peer process's CPU seconds so far */
  cpuS(): Promise<number>;
}

export interface Alternated<T, P> {
  ours: Measured<T>;
  peer: { timing: Timing; first: P };
  /** peer ms / our ms of each round, in order (> 1: ours was faster in that round) */
  roundRatios: number[];
  /** CPU seconds the peer process used outside its own timed runs (its threads spinning while ours ran) */
  peerIdleCpuS: number;
  /** CPU seconds this process used while the peer's runs were in flight (our workers spinning while it ran) */
  oursCpuDuringPeerS: number;
}

/**
 * Times `fn` and a peer in alternation: one run of ours, one of the peer's, and so on, the
 * order swapped every round (ours–peer, peer–ours), so that a change in the host's speed
 * hits both sides alike and neither always runs first after the other. Each side's
 * warm-up is done before the first round, by measure()'s rules. Sampling stops once both
 * have at least minSamples and either has used maxTime s (3 samples when a run takes over
 * 2 s). Other processes' CPU is counted as in measure(), minus the peer's own CPU.
 */
export async function measureAlternating<T, P>(name: string, fn: () => Promise<T>, peer: AlternatePeer<P>, o: MeasureOptions): Promise<Alternated<T, P>> {
  const waitedS = o.waitQuietS > 0 ? await waitQuiet(o.waitQuietS) : 0;
  const { first, warmups, warmupMs, lastMs } = await warmUp(fn, o);
  const peerFirst = await peer.setup();
  const minSamples = lastMs > 2000 ? Math.min(o.minSamples, 3) : o.minSamples;

  const probeBefore = hostProbeMs();
  const tMeter = performance.now();
  const meter = loadMeter();
  const peerCpu0 = await peer.cpuS();
  const ours: number[] = [], theirs: number[] = [];
  let peerSampleCpu = 0, oursDuringPeer = 0;
  const one = async (side: 'ours' | 'peer') => {
    if (side === 'ours') {
      const s = performance.now();
      await fn();
      ours.push(performance.now() - s);
    } else {
      const c = selfCpuS();
      const r = await peer.sample();
      oursDuringPeer += selfCpuS() - c;
      theirs.push(r.ms);
      peerSampleCpu += r.cpuS;
    }
  };
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  for (let round = 0; round < 500; round++) {
    if (round >= minSamples && (sum(ours) >= o.maxTime * 1000 || sum(theirs) >= o.maxTime * 1000)) break;
    if (round % 2 === 0) {
      await one('ours');
      await one('peer');
    } else {
      await one('peer');
      await one('ours');
    }
  }
  const peerCpu = (await peer.cpuS()) - peerCpu0;
  const foreign0 = meter();
  const meterS = (performance.now() - tMeter) / 1000;
  const probe = (probeBefore + hostProbeMs()) / 2;
  // the meter counts the peer's CPU as another process's: take it out
  const foreign = foreign0 === null ? null : Math.max(0, (foreign0 * meterS - peerCpu) / meterS);
  const timing = (samplesMs: number[], w: number, wMs: number): Timing => ({
    n: samplesMs.length,
    medianMs: median(samplesMs),
    minMs: Math.min(...samplesMs),
    maxMs: Math.max(...samplesMs),
    meanMs: sum(samplesMs) / samplesMs.length,
    rme: 0, // no benchmark.js statistics here: the samples are in samplesMs
    samplesMs: samplesMs.map((x) => +x.toFixed(4)),
    warmups: w,
    warmupMs: +wMs.toFixed(1),
    foreignCores: foreign === null ? null : +foreign.toFixed(3),
    waitedS: +waitedS.toFixed(1),
    hostProbeMs: +probe.toFixed(3),
  });
  const pf = peerFirst as unknown as { warmups?: number; warmupMs?: number };
  return {
    ours: { first: first as T, timing: timing(ours, warmups, warmupMs) },
    peer: { first: peerFirst, timing: timing(theirs, pf.warmups ?? 0, pf.warmupMs ?? 0) },
    roundRatios: ours.map((m, i) => +(theirs[i] / m).toFixed(4)),
    peerIdleCpuS: +Math.max(0, peerCpu - peerSampleCpu).toFixed(3),
    oursCpuDuringPeerS: +oursDuringPeer.toFixed(3),
  };
}
