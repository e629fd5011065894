/**
 * The pieces of the Node bench that need no Node module, shared with the browser benchmark
 * page (examples/web/bench*.ts): the formula that makes every row's inputs (the same values
 * on every side, PyTorch's included), the median of the samples, the recycling of our
 * outputs, and the CIFAR VGG-11 training step that the Node bench, the page and
 * profile-step.ts time.
 */
import { release } from '../kernels/pool.js';
import { tidy, type Tensor } from '../lib/core/tensor.js';
import { softmaxCrossEntropy } from '../lib/core/ops.js';

/** uniform in [−scale, scale): a counter hash of (i, seed), the same bits as torch-peer.py's `formula` */
export function formulaArray(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  // (seed · golden ratio) mod 2^32, as Python's (seed * 0x9E3779B9) & 0xFFFFFFFF
  const base = Number((BigInt(seed) * 0x9E3779B9n) & 0xFFFFFFFFn);
  for (let i = 0; i < n; i++) {
    let h = (i + base) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x846ca68b) >>> 0;
    h ^= h >>> 16;
    out[i] = ((h >>> 0) / 4294967296 * 2 - 1) * scale;
  }
  return out;
}

/** the median of the samples (the mean of the middle two for an even count) */
export function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** ours: each output after the first goes back to the pool when the next call starts */
export function recycling<T>(fn: () => Promise<T>): () => Promise<T> {
  let calls = 0, last: unknown = null;
  return async () => {
    if (calls++ > 1 && last instanceof Float32Array) release(last);
    last = await fn();
    return last as T;
  };
}

/**
 * One SGD step of `model` on (x, labels): forward, softmax cross-entropy, backward, the
 * optimiser's step and zeroGrad, as a user's training loop runs it; returns the loss.
 */
export async function sgdStep(model: { forward(x: Tensor): Tensor }, opt: { step(): Promise<unknown>; zeroGrad(): void }, x: Tensor, labels: Int32Array): Promise<number> {
  const loss = await tidy(async () => {
    const l = softmaxCrossEntropy(model.forward(x), labels);
    await l.backward();
    return l.item();
  });
  await opt.step();
  opt.zeroGrad();
  return loss;
}
