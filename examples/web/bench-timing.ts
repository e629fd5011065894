/**
 * The benchmark page's timing (examples/web/bench.ts): which shape of a row to run, and the
 * alternating measurement of ours against tfjs, as bench/harness.ts's measureAlternating
 * does in Node (one run of each side per round, the order swapped every round, so that a
 * change in the machine's speed hits both), without Node's CPU meters.
 *
 * Each row has a ladder of shapes, rung 0 the VGG shape and each next one smaller. A GPU runs
 * rung 0; a slow mode (SwiftShader, Chromium's CPU renderer, runs a 3×3 conv at ~0.1 GFLOP/s,
 * ../shared/GPUJS.md, so one VGG 64→64 @224 forward would take ~40 s) gets the largest rung
 * whose run fits the page's budget: the smallest rung runs first, three times on each side (the
 * first run compiles the kernels), and the slower side's time (the faster of its other two
 * runs), scaled by the FLOPs, says which rung fits; then again from that rung, up to 3 times. Both sides always run the same rung: the row's shape.
 */
import { median } from '../../bench/values.js';

/** a timed side: one call computes the row's result and reads it back to a host array */
export type Run = () => Promise<Float32Array>;

/** one rung of a row, built: the two sides' runs on the same values */
export interface Prepared {
  ours: Run;
  /** tfjs's run, or why tfjs has none (no such kernel on that backend) */
  theirs: Run | { none: string };
  /** Δ between the two sides' first results */
  compare(ours: Float32Array, theirs: Float32Array): number;
  dispose(): void;
}

export interface Rung {
  /** the shape, as the table prints it */
  label: string;
  /** direct-algorithm FLOPs of one run */
  flops: number;
}

export interface Timing {
  n: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
}

export interface TimingOptions {
  /** timed rounds at least */
  samples: number;
  /** then keep sampling while both sides together took less than this */
  minTimeMs: number;
  /** the largest time of one run a rung may take (ms) */
  budgetMs: number;
  /** run rung 0 whatever it costs (?full=1) */
  full: boolean;
}

export interface Measured {
  rung: number;
  ours: Timing;
  theirs: Timing | null;
  /** Δ of the first results (null where tfjs has no run) */
  agreement: number | null;
  /** the median of the rounds' ours ms / tfjs ms */
  pairedRatio: number | null;
}

const timing = (s: number[]): Timing => ({
  n: s.length, medianMs: median(s), minMs: Math.min(...s), maxMs: Math.max(...s), samplesMs: s.map((x) => +x.toFixed(3)),
});

async function timed(run: Run): Promise<{ ms: number; out: Float32Array }> {
  const t0 = performance.now();
  const out = await run();
  return { ms: performance.now() - t0, out };
}

/** lets the page paint between runs (outside the timed region) */
export const yieldToPage = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * Picks the row's rung (see the header), then times it: `samples` rounds at least, alternating,
 * after the three warm-up runs of each side. `build` makes a rung's runs; the caller disposes
 * nothing: this disposes every rung it built.
 */
export async function measureRow(rungs: Rung[], build: (rung: number) => Promise<Prepared>, o: TimingOptions, progress: (s: string) => void): Promise<Measured & { theirsNone?: string; failed?: string }> {
  let rung = o.full ? 0 : rungs.length - 1;
  let p: Prepared | null = null;
  try {
    let warm: { oursFirst: Float32Array; theirsFirst: Float32Array | null; slowestMs: number };
    let worked: number | null = null, failed: string | undefined;
    for (let tries = 0; ; tries++) {
      p?.dispose();
      p = null;
      progress(`${rungs[rung].label}: warming up`);
      try {
        p = await build(rung);
        warm = await warmUp(p);
      } catch (e) {
        // a larger rung that fails (out of memory, a GPU limit) leaves the row at the last rung that ran, and says so
        if (worked === null) throw e;
        failed = `${rungs[rung].label} failed: ${(e as Error).name}: ${(e as Error).message}`;
        p?.dispose();
        rung = worked;
        p = await build(rung);
        warm = await warmUp(p);
        break;
      }
      worked = rung;
      if (o.full || rung === 0 || tries >= 3) break;
      const fits = rungs.findIndex((r, i) => i < rung && (r.flops / rungs[rung].flops) * warm.slowestMs <= o.budgetMs);
      if (fits < 0) break;
      rung = fits;
    }
    progress(`${rungs[rung].label}: timing`);
    const theirs = typeof p.theirs === 'function' ? p.theirs : null;
    const a: number[] = [], b: number[] = [];
    for (let round = 0; round < 200; round++) {
      const spent = a.reduce((s, x) => s + x, 0) + b.reduce((s, x) => s + x, 0);
      if (round >= o.samples && spent >= o.minTimeMs) break;
      await yieldToPage();
      const order: ('ours' | 'theirs')[] = round % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
      for (const side of order) {
        if (side === 'ours') a.push((await timed(p.ours)).ms);
        else if (theirs) b.push((await timed(theirs)).ms);
      }
    }
    return {
      rung, ours: timing(a), theirs: theirs ? timing(b) : null, agreement: warm.theirsFirst ? p.compare(warm.oursFirst, warm.theirsFirst) : null,
      pairedRatio: theirs ? median(a.map((x, i) => x / b[i])) : null,
      theirsNone: typeof p.theirs === 'function' ? undefined : p.theirs.none, failed,
    };
  } finally {
    p?.dispose();
  }
}

/**
 * Three runs of each side: the first compiles kernels and uploads weights; the faster of the
 * other two says how long a run takes (one second run alone misled: a 60 ms hiccup of a 5 ms
 * tfjs-webgpu run kept a row at a shape 16× smaller than its budget allowed)
 */
async function warmUp(p: Prepared): Promise<{ oursFirst: Float32Array; theirsFirst: Float32Array | null; slowestMs: number }> {
  const three = async (run: Run) => {
    const first = await timed(run);
    return { first: first.out, ms: Math.min((await timed(run)).ms, (await timed(run)).ms) };
  };
  const ours = await three(p.ours);
  const theirs = typeof p.theirs === 'function' ? await three(p.theirs) : null;
  return { oursFirst: ours.first, theirsFirst: theirs?.first ?? null, slowestMs: Math.max(ours.ms, theirs?.ms ?? 0) };
}
