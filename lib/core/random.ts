/**
 * Seeded pseudo-random numbers: every random choice in verydeep (init, dropout masks,
 * shuffles, augmentation) comes from here, so a seed reproduces a run exactly.
 *
 * The generator is mulberry32 (32-bit state, period 2^32): small, fast, and its whole
 * state is one integer, so checkpoints can store it.
 */
import { ValueError, describeValue } from './errors.js';

/** A seeded mulberry32 generator: `new Rng(seed)`; the same seed gives the same stream. */
export class Rng {
  private s: number;

  constructor(seed = 0) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new ValueError(`Rng: expected a finite seed, got ${describeValue(seed)}`);
    this.s = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** uniform in [0, 1) */
  uniform(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** standard normal, by Box-Muller (one of the pair is used, so the stream stays simple) */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** The whole state, an integer in [0, 2^32): save it, and set it back to resume the stream. */
  get state(): number {
    return this.s;
  }

  /** A state that state gave (a checkpoint's); anything but an integer in [0, 2^32) would silently become 0. */
  set state(value: number) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= 2 ** 32) {
      throw new ValueError(`Rng.state: expected an integer in [0, 2^32) (a state that rng.state gave), got ${describeValue(value)}`);
    }
    this.s = value >>> 0;
  }
}

/** n normal samples with the given mean and standard deviation. */
export function normalRandom(n: number, seed: number, mean = 0, std = 1): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  // Box-Muller, both values of each pair (bulk draws: twice as fast as rng.normal())
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.uniform()));
    const theta = 2 * Math.PI * rng.uniform();
    out[i] = mean + std * r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(theta);
  }
  return out;
}

/** n uniform samples in [0, 1). */
export function uniformRandom(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform();
  return out;
}
